export { createPublisher, publishURL, PUBLISH_PATH, type Publisher, type PublisherOptions } from './publisher.js';
export { SSEHubError, type ErrorBody } from './errors.js';
export { retryDelay, parseRetryAfter, retryableStatus, type RetryOptions } from './retry.js';
export type {
  EventMap,
  EventName,
  TargetKind,
  TargetByKind,
  Target,
  TargetMap,
  TargetFor,
  EmitOptions,
  BatchEvent,
  BatchOptions,
} from './types.js';
