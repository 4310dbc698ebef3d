export { SSEClient, createClient, type ClientOptions, type ClientRole, type Subscribe } from './client.js';
export {
  HttpError,
  ServiceDisabledError,
  EvictedError,
  HeartbeatTimeoutError,
  NetworkError,
  StreamRefusedError,
} from './errors.js';
export { backoffDelay, parseRetryAfter, type BackoffOptions } from './backoff.js';
export { getLines, getMessages, type EventSourceMessage, type MessageCallbacks } from './parse.js';
export type { TabDeps } from './tabs.js';
export type {
  Register,
  EventMap,
  DefaultEvents,
  ReadyInfo,
  ControlInfo,
  ControlEvents,
  AllEvents,
  EventName,
  EventData,
  EventMeta,
  EventHandler,
  Unsubscribe,
  ConnectionState,
} from './types.js';
