/**
 * Augment this interface to type every client and hook of an app at once
 * (a later generator emits it from the server's event catalog):
 *
 * ```ts
 * declare module '@ssehub/client' {
 *   interface Register {
 *     events: { 'chat:message': { conversationId: string; text: string } };
 *   }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Register {}

/** An event map: event name → payload type. Any object type (interface or type alias) works. */
export type EventMap = object;

/** The map used when no type argument is given: {@link Register}'s `events`, or any name with an `unknown` payload. */
export type DefaultEvents = Register extends { events: infer E extends object } ? E : Record<string, unknown>;

/** `data` of `sse:ready`, the first event of every connection. */
export interface ReadyInfo {
  connectionId: string;
  userId: string;
  tenantId: string;
  channels: string[];
  heartbeatMs: number;
}

/** `data` of the control events other than `sse:ready`. */
export interface ControlInfo {
  reason?: string;
  [key: string]: unknown;
}

/** The reserved `sse:` events the server sends, with their payloads. */
export interface ControlEvents {
  'sse:ready': ReadyInfo;
  'sse:evicted': ControlInfo;
  'sse:reset': ControlInfo;
  'sse:token-expired': ControlInfo;
  'sse:shutdown': ControlInfo;
  'sse:disabled': ControlInfo;
}

/** All events a client of map `E` can subscribe to: the app's plus the control events. */
export type AllEvents<E extends EventMap> = E & ControlEvents;

/** Names a client of map `E` can subscribe to. */
export type EventName<E extends EventMap> = Extract<keyof AllEvents<E>, string>;

/** The payload type of event `K`. */
export type EventData<E extends EventMap, K extends EventName<E>> = AllEvents<E>[K];

/** What a handler learns besides the payload. */
export interface EventMeta<K extends string = string> {
  /** The event's id ('' if the server sent none). */
  id: string;
  /** The event's name. */
  event: K;
}

/** A handler for event `K`. */
export type EventHandler<E extends EventMap, K extends EventName<E>> = (data: EventData<E, K>, meta: EventMeta<K>) => void;

/** Removes what a subscribe call added. Calling it twice is harmless. */
export type Unsubscribe = () => void;

/**
 * The connection's state. One object per change, never mutated, so it can be
 * compared by reference (`useSyncExternalStore`).
 */
export interface ConnectionState {
  /** The stream is open and `sse:ready` was received. */
  readonly connected: boolean;
  /** Trying to (re)connect, including the wait before the next attempt. */
  readonly connecting: boolean;
  /** Why the last attempt failed or the client stopped; null after a successful connect. */
  readonly error: Error | null;
  /** Consecutive failed attempts since the last successful connect. */
  readonly reconnectAttempts: number;
}
