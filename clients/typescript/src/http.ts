// Queries and mutations over HTTP: POST /graphql with the bearer token,
// typed by the generated document strings, errors as ParleyError, and
// RATE_LIMITED waited out a bounded number of times.
import { HTTP_ERROR, NETWORK_ERROR, ParleyError, type GraphQLErrorLike } from "./errors.js";
import type { DocumentTypeDecoration } from "./generated/graphql.js";

/** A typed document (generated), or plain query text. */
export type Document<TData, TVars> = DocumentTypeDecoration<TData, TVars> | string;

export interface HttpOptions {
  url: string;
  fetch: typeof fetch;
  token: () => Promise<string | null>;
  /** Whether the token can change (a getToken was given): an UNAUTHENTICATED answer is then retried once with a fresh one. */
  refreshable: boolean;
  /** How many times RATE_LIMITED is waited out before it is thrown. */
  rateLimitRetries: number;
  /** Longest wait (seconds) the kit accepts for RATE_LIMITED; longer ones are thrown at once. */
  maxRetryAfter: number;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createRequest(options: HttpOptions) {
  async function once<TData>(query: string, variables: unknown, token: string | null): Promise<TData> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
    };
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await options.fetch(options.url, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables: variables ?? {} }),
      });
    } catch (cause) {
      throw new ParleyError(`network error: ${cause instanceof Error ? cause.message : String(cause)}`, {
        code: NETWORK_ERROR,
        cause,
      });
    }
    let body: { data?: TData | null; errors?: GraphQLErrorLike[] } | undefined;
    try {
      body = (await response.json()) as typeof body;
    } catch (cause) {
      body = undefined;
      if (response.ok) {
        throw new ParleyError("the server's answer is not JSON", { code: NETWORK_ERROR, status: response.status, cause });
      }
    }
    if (body?.errors?.length) {
      const header = Number(response.headers.get("retry-after"));
      throw ParleyError.fromGraphQLErrors(body.errors, {
        status: response.status,
        data: body.data,
        ...(Number.isFinite(header) && header > 0 ? { retryAfterHeader: header } : {}),
      });
    }
    if (!response.ok || !body || body.data == null) {
      throw new ParleyError(`HTTP ${response.status}`, { code: HTTP_ERROR, status: response.status });
    }
    return body.data;
  }

  return async function request<TData, TVars>(
    document: Document<TData, TVars>,
    variables?: TVars,
  ): Promise<TData> {
    const query = document.toString();
    let rateLimited = 0;
    let refreshed = false;
    for (;;) {
      const token = await options.token();
      try {
        return await once<TData>(query, variables, token);
      } catch (err) {
        if (!(err instanceof ParleyError)) throw err;
        if (
          err.code === "RATE_LIMITED" &&
          rateLimited < options.rateLimitRetries &&
          (err.retryAfter ?? 1) <= options.maxRetryAfter
        ) {
          rateLimited += 1;
          await sleep((err.retryAfter ?? 1) * 1000);
          continue;
        }
        if (err.code === "UNAUTHENTICATED" && options.refreshable && !refreshed) {
          // The token may have expired a moment ago: ask for it again,
          // and retry once if it changed.
          refreshed = true;
          const fresh = await options.token();
          if (fresh && fresh !== token) continue;
        }
        throw err;
      }
    }
  };
}

export type Request = ReturnType<typeof createRequest>;
