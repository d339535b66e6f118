// @parley/client: the easiest correct way to use Parley from a browser or Node.
export { createParley, EventStream, MessageStream } from "./client.js";
export type { Parley, ParleyOptions, ParleyEvent } from "./client.js";
export { ParleyError, NETWORK_ERROR, HTTP_ERROR } from "./errors.js";
export type { GraphQLErrorLike } from "./errors.js";
export type { ConnectionState } from "./socket.js";
export type { Observer, Unsubscribable } from "./stream.js";
export { OutgoingMessage, newClientMessageId } from "./outbox.js";
export type { SendInput, SendStatus, OptimisticMessage, Message } from "./outbox.js";
export type { Document } from "./http.js";
export * from "./generated/graphql.js";
import introspection from "./generated/possible-types.js";
/** Which types implement `Event` and `Node`: for Apollo's and urql's caches. */
export const possibleTypes: Record<string, string[]> = introspection.possibleTypes;
export { subscribeResumable } from "./stream.js";
export type { ExecutionResultLike } from "./stream.js";
