import { backoffDelay, parseRetryAfter } from '@ssehub/client';

/** How failed publishes are retried. */
export interface RetryOptions {
  /** Retries after the first attempt. Undefined means 3; 0 turns retrying off. */
  retries?: number;
  /** Delay before the first retry, doubled on each further one. Zero or undefined means 200 ms. */
  baseMs?: number;
  /** Upper bound of the doubled delay. Zero or undefined means 5000 ms. */
  maxMs?: number;
  /** The longest `Retry-After` honoured; a longer one fails the call at once. Undefined means 30000 ms. */
  maxRetryAfterMs?: number;
}

/**
 * The delay before retry `attempt` (0 for the first): `min(base·2^attempt,
 * max)` ±10 %, computed by the browser client's backoff.
 */
export function retryDelay(attempt: number, opts: RetryOptions, random: () => number = Math.random): number {
  return backoffDelay(attempt, { baseMs: opts.baseMs || 200, maxMs: opts.maxMs || 5000, jitter: 0.1 }, random);
}

/** Parses `Retry-After` (delay-seconds or an HTTP date) into ms from now; undefined if absent or malformed. */
export { parseRetryAfter };

/** Whether a response status is worth retrying: 429 and the gateway errors 502, 503, 504. */
export function retryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
