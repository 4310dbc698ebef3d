/** How long to wait before reconnect attempts. */
export interface BackoffOptions {
  /**
   * Delay before the first retry, doubled on each further one, until the
   * server sends a `retry:` field: from then on its value is the base (at
   * least 100 ms; fetch transport only, EventSource hides it). Zero means 1000 ms.
   */
  baseMs?: number;
  /** Upper bound of the doubled delay. Zero means 30000 ms. */
  maxMs?: number;
  /** Relative jitter: the delay is scaled by a random factor in [1-jitter, 1+jitter]. Undefined means 0.1. */
  jitter?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry):
 * `min(baseMs·2^attempt, maxMs)` scaled by a random factor in
 * `[1-jitter, 1+jitter]` (SPEC §2: `min(1000·2^attempt, 30000)` ms ±10 %).
 * `random` returns a number in [0, 1), like `Math.random`.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = opts.baseMs || 1000;
  const max = opts.maxMs || 30000;
  const delay = Math.min(base * 2 ** Math.max(0, attempt), max);
  return withJitter(delay, opts.jitter ?? 0.1, random);
}

/** Scales `ms` by a random factor in `[1-jitter, 1+jitter]`. */
export function withJitter(ms: number, jitter: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 + jitter * (2 * random() - 1)));
}

/**
 * Parses a `Retry-After` header, either delay-seconds or an HTTP date, into
 * milliseconds from `now`. Returns undefined when the header is absent or
 * malformed.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^[0-9]+$/.test(v)) return parseInt(v, 10) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
