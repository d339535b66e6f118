// Typed errors: every GraphQL error Parley sends has `extensions.code`
// (README "Errors"); transport failures get codes of their own here so a
// caller can tell "try again later" from "this will never work".

/** One entry of a GraphQL response's `errors`. */
export interface GraphQLErrorLike {
  message: string;
  path?: ReadonlyArray<string | number>;
  locations?: ReadonlyArray<{ line: number; column: number }>;
  extensions?: Record<string, unknown>;
}

/** Codes the kit itself gives to failures that are not GraphQL errors. */
export const NETWORK_ERROR = "NETWORK_ERROR";
/** The server answered with a status and no GraphQL body (a 502 from a proxy, a 413). */
export const HTTP_ERROR = "HTTP_ERROR";

/** Codes that will not change by sending the same thing again. */
const PERMANENT = new Set([
  "BAD_USER_INPUT",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "BAD_REQUEST",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
]);

export class ParleyError extends Error {
  /** `extensions.code` of the first error, or NETWORK_ERROR / HTTP_ERROR. */
  readonly code: string;
  /** `extensions.field`: the input that was refused (BAD_USER_INPUT, CONFLICT). */
  readonly field?: string;
  /** Seconds to wait before trying again (RATE_LIMITED). */
  readonly retryAfter?: number;
  /** The HTTP status, when there was an HTTP answer. */
  readonly status?: number;
  /** Every GraphQL error of the response. */
  readonly errors: GraphQLErrorLike[];
  /** `data` that came with the errors, if any. */
  readonly data?: unknown;

  constructor(
    message: string,
    options: {
      code: string;
      field?: string;
      retryAfter?: number;
      status?: number;
      errors?: GraphQLErrorLike[];
      data?: unknown;
      cause?: unknown;
    },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ParleyError";
    this.code = options.code;
    if (options.field !== undefined) this.field = options.field;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
    if (options.status !== undefined) this.status = options.status;
    this.errors = options.errors ?? [];
    if (options.data !== undefined) this.data = options.data;
  }

  /**
   * True when sending the same request again cannot succeed (bad input,
   * not allowed, not found): an outgoing message is then marked failed.
   * Network trouble, 5xx, INTERNAL, RATE_LIMITED and UNAUTHENTICATED (a
   * token may come) are not permanent.
   */
  get permanent(): boolean {
    if (PERMANENT.has(this.code)) return true;
    // A 4xx without a GraphQL body (413 body too large, 415) is the
    // request's fault too; 408 and 429 are about timing.
    return (
      this.code === HTTP_ERROR &&
      this.status !== undefined &&
      this.status >= 400 &&
      this.status < 500 &&
      this.status !== 408 &&
      this.status !== 429
    );
  }

  /** Builds one from a response's `errors` array (over HTTP or WebSocket). */
  static fromGraphQLErrors(
    errors: ReadonlyArray<GraphQLErrorLike>,
    extra: { status?: number; data?: unknown; retryAfterHeader?: number } = {},
  ): ParleyError {
    const first = errors[0] ?? { message: "unknown error" };
    const ext = first.extensions ?? {};
    const code = typeof ext.code === "string" ? ext.code : "INTERNAL";
    const field = typeof ext.field === "string" ? ext.field : undefined;
    const seconds =
      typeof ext.retryAfterSeconds === "number"
        ? ext.retryAfterSeconds
        : typeof ext.retryAfter === "number"
          ? ext.retryAfter
          : extra.retryAfterHeader;
    return new ParleyError(first.message, {
      code,
      ...(field !== undefined ? { field } : {}),
      ...(seconds !== undefined ? { retryAfter: seconds } : {}),
      ...(extra.status !== undefined ? { status: extra.status } : {}),
      errors: [...errors],
      data: extra.data,
    });
  }

  /** Wraps whatever a WebSocket sink's `error` received. */
  static fromSocketError(err: unknown): ParleyError {
    if (err instanceof ParleyError) return err;
    if (Array.isArray(err)) return ParleyError.fromGraphQLErrors(err as GraphQLErrorLike[]);
    if (isCloseEvent(err)) {
      return new ParleyError(`socket closed: ${err.code} ${err.reason ?? ""}`.trim(), {
        code: NETWORK_ERROR,
        cause: err,
      });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new ParleyError(message, { code: NETWORK_ERROR, cause: err });
  }
}

export function isCloseEvent(err: unknown): err is { code: number; reason?: string } {
  return typeof err === "object" && err !== null && "code" in err && typeof (err as { code: unknown }).code === "number";
}
