import { parseRetryAfter } from './backoff.js';

/**
 * Errors the client reports in its state. Each is a class callers can branch
 * on with `instanceof`; `name` is set so they survive being relayed between
 * tabs (see {@link errorToWire}).
 */

/** An endpoint answered with an unexpected HTTP status. */
export class HttpError extends Error {
  override name = 'HttpError';
  /** The HTTP status code. */
  readonly status: number;
  /** The `error.code` of the JSON body (`unauthorized`, `too_many_connections`, …), or ''. */
  readonly code: string;
  /** The `error.message` of the JSON body, or ''. */
  readonly detail: string;
  /** The delay asked for by `Retry-After`, in ms, if any. */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, code = '', detail = '', retryAfterMs?: number) {
    super(`ssehub: HTTP ${status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Reads an error response's JSON body `{"error":{"code","message"}}` and its
 * `Retry-After` header into an {@link HttpError}. A body that is not that
 * JSON leaves `code` and `detail` empty.
 */
export async function httpErrorFrom(res: Response): Promise<HttpError> {
  let code = '';
  let detail = '';
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } } | null;
    if (typeof body?.error?.code === 'string') code = body.error.code;
    if (typeof body?.error?.message === 'string') detail = body.error.message;
  } catch {
    // Not JSON: keep the status alone.
  }
  return new HttpError(res.status, code, detail, parseRetryAfter(res.headers.get('Retry-After')));
}

/**
 * An admin disabled the service: the stream endpoint answered `503` with code
 * `sse_disabled`, or an open stream received `sse:disabled`. The client does
 * not reconnect until {@link SSEClient.reconnect} is called.
 */
export class ServiceDisabledError extends Error {
  override name = 'ServiceDisabledError';
  constructor(message = 'ssehub: the service is disabled') {
    super(message);
  }
}

/**
 * The server closed this connection because the user opened more than the
 * per-user limit elsewhere (`sse:evicted`). The client does not reconnect by
 * itself, so two places evicting each other cannot loop.
 */
export class EvictedError extends Error {
  override name = 'EvictedError';
  constructor(message = 'ssehub: connection evicted by a newer one') {
    super(message);
  }
}

/** The stream went silent for longer than the heartbeat allows. */
export class HeartbeatTimeoutError extends Error {
  override name = 'HeartbeatTimeoutError';
  constructor(message = 'ssehub: the stream went silent') {
    super(message);
  }
}

/** The connection failed or dropped: network error, or the stream ended. */
export class NetworkError extends Error {
  override name = 'NetworkError';
  constructor(message = 'ssehub: network error', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The EventSource transport's stream failed for good: the browser's
 * `EventSource` ended `CLOSED` although the server answered 200 (a type
 * other than `text/event-stream`, or a charset Chromium refuses), or there is
 * no `fetch` to ask the status it hid. The client does as the browser and
 * does not retry; {@link SSEClient.reconnect} tries again with a new token.
 * A refusal with another status is reported as an {@link HttpError}.
 */
export class StreamRefusedError extends Error {
  override name = 'StreamRefusedError';
  constructor(message = 'ssehub: EventSource closed: the server refused the stream (a status other than 200, or not text/event-stream)') {
    super(message);
  }
}

/** A plain-object form of the client's errors, for postMessage between tabs. */
export interface WireError {
  name: string;
  message: string;
  status?: number;
  code?: string;
  detail?: string;
}

/** Converts an error for relaying to another tab. */
export function errorToWire(err: Error): WireError {
  const w: WireError = { name: err.name, message: err.message };
  if (err instanceof HttpError) {
    w.status = err.status;
    w.code = err.code;
    w.detail = err.detail;
  }
  return w;
}

/** Rebuilds an error relayed by {@link errorToWire}, as the same class. */
export function errorFromWire(w: WireError): Error {
  switch (w.name) {
    case 'HttpError':
      return new HttpError(w.status ?? 0, w.code ?? '', w.detail ?? '');
    case 'ServiceDisabledError':
      return new ServiceDisabledError(w.message);
    case 'EvictedError':
      return new EvictedError(w.message);
    case 'StreamRefusedError':
      return new StreamRefusedError(w.message);
    case 'NetworkError':
      return new NetworkError(w.message);
    case 'HeartbeatTimeoutError':
      return new HeartbeatTimeoutError(w.message);
    default: {
      const e = new Error(w.message);
      e.name = w.name;
      return e;
    }
  }
}

/** Returns `v` if it is an Error, or an Error describing it. */
export function toError(v: unknown): Error {
  return v instanceof Error ? v : new Error(String(v));
}
