import { backoffDelay, withJitter, type BackoffOptions } from './backoff.js';
import {
  EvictedError,
  HeartbeatTimeoutError,
  HttpError,
  NetworkError,
  ServiceDisabledError,
  StreamRefusedError,
  httpErrorFrom,
  toError,
} from './errors.js';
import { getLines, getMessages, type EventSourceMessage } from './parse.js';
import { IDLE, sameState } from './state.js';
import type { TokenSource } from './token.js';
import type { ConnectionState, ControlInfo, ReadyInfo } from './types.js';

/** What a {@link Connection} needs from its owner. */
export interface ConnectionOptions {
  /** Absolute URL of the stream endpoint. */
  url: string;
  transport: 'fetch' | 'eventsource';
  fetch: typeof fetch;
  EventSource: typeof EventSource | undefined;
  token: TokenSource;
  headers: Record<string, string>;
  credentials: RequestCredentials | undefined;
  backoff: BackoffOptions;
  /** Assumed heartbeat interval until `sse:ready` tells the real one. */
  heartbeatMs: number;
  /** The watchdog fires after this many heartbeat intervals without a byte; 0 disables it. */
  heartbeatTimeoutFactor: number;
  random: () => number;
  /** Channels to ask for at connect time. */
  channels: () => string[];
  /** Event names to listen for; needed by the EventSource transport only. */
  names: () => Iterable<string>;
  /** The id to resume from. */
  lastEventId: () => string;

  onState: (state: ConnectionState) => void;
  /** Every event, control events included, after the connection has acted on it. */
  onMessage: (msg: EventSourceMessage) => void;
  /** The last event ID changed without a message (a block with `id:` and no data). */
  onId: (id: string) => void;
  onReady: (info: ReadyInfo) => void;
  /** The connection that `onReady` announced is gone. */
  onClose: () => void;
}

/** How one attempt ended, and so what the loop does next. */
type Outcome =
  | { kind: 'fatal'; error: Error } // stop; only reconnect() restarts
  | { kind: 'failed'; error: Error | null; retryAfterMs?: number } // back off
  | { kind: 'unauthorized'; error: Error } // new token, then retry
  | { kind: 'planned'; delayMs: number }; // the server or the app asked for a reconnect

/** The least backoff base a `retry:` field sets, so that `retry: 0` cannot make the client spin. */
const MIN_RETRY_BASE_MS = 100;

/** `EventSource.CLOSED`. */
const CLOSED = 2;

const CONTROL_EVENTS = ['sse:ready', 'sse:evicted', 'sse:reset', 'sse:token-expired', 'sse:shutdown', 'sse:disabled'];

/**
 * Connection keeps one stream open: it connects, reads, and reconnects with
 * backoff until {@link Connection.stop}, or until the server says not to
 * (`503 sse_disabled`, `sse:disabled`, `sse:evicted`, or a status that
 * retrying cannot fix).
 *
 * Only the owner calls it; it is not shared between clients. After stop()
 * nothing of it is left running: no timer, no request, no reader.
 */
export class Connection {
  readonly #o: ConnectionOptions;
  #gen = 0; // bumped by start() and stop(); a loop whose generation is stale exits
  #running = false;
  #ac: AbortController | undefined; // the current attempt
  #planned: Outcome | undefined; // set just before #ac is aborted on purpose
  #wake: (() => void) | undefined; // ends the current backoff wait early
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #lastByteAt = 0;
  #failures = 0;
  #retryMs: number | undefined; // the last retry: field, on any connection
  #heartbeatMs: number;
  #connectionId: string | undefined;
  #listen: ((name: string) => void) | undefined;
  #state: ConnectionState = IDLE;

  constructor(options: ConnectionOptions) {
    this.#o = options;
    this.#heartbeatMs = options.heartbeatMs;
  }

  /** The id from the current connection's `sse:ready`, if open. */
  get connectionId(): string | undefined {
    return this.#connectionId;
  }

  /** Starts connecting. Does nothing while running. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#failures = 0;
    void this.#loop(++this.#gen);
  }

  /** Stops for good and releases everything; start() may be called again. */
  stop(): void {
    this.#running = false;
    this.#gen++;
    this.#ac?.abort();
    this.#ac = undefined;
    this.#wake?.();
    this.#clearWatchdog();
    this.#closed();
    this.#setState(IDLE);
  }

  /** Drops the current stream, if any, and connects again now with a fresh backoff. */
  reconnect(): void {
    if (!this.#running) {
      this.start();
      return;
    }
    this.#failures = 0;
    if (this.#ac) this.#finish(this.#ac, { kind: 'planned', delayMs: 0 });
    else this.#wake?.();
  }

  /** Starts listening for `name` on a live EventSource; fetch streams get every event anyway. */
  addName(name: string): void {
    this.#listen?.(name);
  }

  async #loop(gen: number): Promise<void> {
    let lastUnauthorized = false;
    while (gen === this.#gen) {
      this.#setState({ ...this.#state, connected: false, connecting: true });
      const ac = new AbortController();
      this.#ac = ac;
      this.#planned = undefined;
      let outcome = await this.#attempt(ac);
      outcome = this.#planned ?? outcome;
      if (gen !== this.#gen) return;
      this.#ac = undefined;
      this.#clearWatchdog();
      this.#closed();

      const o = this.#o;
      let delay = 0;
      let error: Error | null = null;
      switch (outcome.kind) {
        case 'fatal':
          this.#running = false;
          this.#setState({ connected: false, connecting: false, error: outcome.error, reconnectAttempts: this.#failures });
          return;
        case 'planned':
          delay = outcome.delayMs;
          break;
        case 'unauthorized':
          // The first 401 in a row retries at once with a new token; more back off.
          o.token.invalidate();
          delay = lastUnauthorized ? this.#backoff() : 0;
          this.#failures++;
          error = outcome.error;
          break;
        case 'failed':
          delay = Math.max(this.#backoff(), outcome.retryAfterMs ?? 0);
          this.#failures++;
          error = outcome.error;
          break;
      }
      lastUnauthorized = outcome.kind === 'unauthorized';
      this.#setState({ connected: false, connecting: true, error, reconnectAttempts: this.#failures });
      await this.#sleep(delay);
    }
  }

  async #attempt(ac: AbortController): Promise<Outcome> {
    let token: string | undefined;
    try {
      token = await this.#o.token.get();
    } catch (e) {
      return { kind: 'failed', error: toError(e) };
    }
    if (ac.signal.aborted) return { kind: 'planned', delayMs: 0 };
    return this.#o.transport === 'eventsource' ? this.#attemptEventSource(ac, token) : this.#attemptFetch(ac, token);
  }

  async #attemptFetch(ac: AbortController, token: string | undefined): Promise<Outcome> {
    const o = this.#o;
    const url = new URL(o.url);
    const channels = o.channels();
    if (channels.length > 0) url.searchParams.set('channels', channels.join(','));
    const headers: Record<string, string> = { Accept: 'text/event-stream', ...o.headers };
    if (token) headers['Authorization'] = `Bearer ${token}`;
    const lastEventId = o.lastEventId();
    if (lastEventId && headerSafe(lastEventId)) headers['Last-Event-ID'] = headerValue(lastEventId);
    // A control character fails the request, and fetch trims surrounding
    // spaces: such an id goes as ?lastEventId=, which ssehub reads as Last-Event-ID.
    else if (lastEventId) url.searchParams.set('lastEventId', lastEventId);

    let res: Response;
    try {
      res = await o.fetch(url, { headers, signal: ac.signal, cache: 'no-store', credentials: o.credentials });
    } catch (e) {
      return { kind: 'failed', error: new NetworkError('ssehub: could not connect', { cause: e }) };
    }
    const contentType = res.headers.get('Content-Type') ?? '';
    if (res.status === 200 && res.body && isEventStream(contentType)) {
      return this.#read(ac, res.body, lastEventId);
    }
    if (res.status === 200) {
      void res.body?.cancel().catch(() => {});
      return { kind: 'failed', error: new HttpError(200, '', `expected text/event-stream, got ${contentType || 'no type'}`) };
    }
    return this.#refused(res);
  }

  /** Classifies a response other than 200. */
  async #refused(res: Response): Promise<Outcome> {
    const err = await httpErrorFrom(res).catch(() => new HttpError(res.status));
    if (res.status === 401) return this.#o.token.refreshable ? { kind: 'unauthorized', error: err } : { kind: 'fatal', error: err };
    if (res.status === 503 && err.code === 'sse_disabled') {
      return { kind: 'fatal', error: new ServiceDisabledError(err.detail || undefined) };
    }
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      return { kind: 'failed', error: err, retryAfterMs: err.retryAfterMs };
    }
    return { kind: 'fatal', error: err };
  }

  /**
   * After EventSource gave up (CLOSED), asks the same URL once with fetch to
   * learn the status it hid, and classifies it as the fetch transport does:
   * a proxy's 502 or a 429 is retried with backoff, a 401 refreshes the
   * token, 503 sse_disabled stops, and a 204, another 4xx or a 200 that
   * EventSource still refused (a wrong type) stops, as the browser does.
   * Without fetch, it stops.
   */
  async #probe(url: URL, ac: AbortController): Promise<Outcome> {
    const o = this.#o;
    const refused: Outcome = { kind: 'fatal', error: new StreamRefusedError() };
    if (typeof o.fetch !== 'function' || ac.signal.aborted) return refused;
    let res: Response;
    try {
      res = await o.fetch(url, { headers: { Accept: 'text/event-stream' }, signal: ac.signal, cache: 'no-store', credentials: o.credentials });
    } catch (e) {
      if (ac.signal.aborted) return { kind: 'planned', delayMs: 0 };
      return { kind: 'failed', error: new NetworkError('ssehub: could not connect', { cause: e }) };
    }
    if (res.status === 200) {
      void res.body?.cancel().catch(() => {});
      return refused;
    }
    return this.#refused(res);
  }

  async #read(ac: AbortController, body: ReadableStream<Uint8Array>, lastEventId: string): Promise<Outcome> {
    const reader = body.getReader();
    const feed = getLines(
      getMessages(
        {
          onMessage: (msg) => this.#onMessage(ac, msg),
          onId: (id) => this.#o.onId(id),
          onRetry: (ms) => {
            this.#retryMs = ms;
          },
        },
        lastEventId,
      ),
    );
    this.#armWatchdog(ac);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || ac.signal.aborted) break;
        this.#lastByteAt = Date.now();
        feed(value);
      }
    } catch (e) {
      return { kind: 'failed', error: new NetworkError('ssehub: stream interrupted', { cause: e }) };
    } finally {
      reader.cancel().catch(() => {});
    }
    return { kind: 'failed', error: null }; // the server ended the stream
  }

  #attemptEventSource(ac: AbortController, token: string | undefined): Promise<Outcome> {
    const o = this.#o;
    const ES = o.EventSource;
    if (!ES) return Promise.resolve({ kind: 'fatal', error: new Error('ssehub: EventSource is not available') });
    const url = new URL(o.url);
    const channels = o.channels();
    if (channels.length > 0) url.searchParams.set('channels', channels.join(','));
    if (token) url.searchParams.set('access_token', token);
    const resumeFrom = o.lastEventId();
    if (resumeFrom) url.searchParams.set('lastEventId', resumeFrom);

    return new Promise((resolve) => {
      const es = new ES(url.toString(), { withCredentials: o.credentials === 'include' });
      const listening = new Set<string>();
      // A new EventSource starts with an empty last event ID, where the
      // browser's own reconnect would keep it: until this stream sets one,
      // an event without an id carries the id resumed from. (So an empty
      // id: before any other on this stream cannot clear it; EventSource
      // does not tell the two apart.)
      let carried = resumeFrom;
      const onEvent = (ev: Event) => {
        const m = ev as MessageEvent<string>;
        if (m.lastEventId !== '') carried = '';
        this.#onMessage(ac, { id: m.lastEventId || carried, event: m.type, data: m.data });
      };
      const listen = (name: string) => {
        if (listening.has(name)) return;
        listening.add(name);
        es.addEventListener(name, onEvent);
      };
      const finish = (outcome: Outcome) => {
        es.close();
        this.#listen = undefined;
        ac.signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = () => finish({ kind: 'planned', delayMs: 0 });
      for (const name of CONTROL_EVENTS) listen(name);
      for (const name of o.names()) listen(name);
      this.#listen = listen;
      ac.signal.addEventListener('abort', onAbort, { once: true });
      // EventSource hides the status. CLOSED in onerror means it gave up for
      // good, as it does on a status other than 200 (204 included) or a type
      // other than text/event-stream: #probe learns which and decides as the
      // fetch transport would. CONNECTING means a network error or an ended
      // stream, which the browser retries by itself; close it and back off
      // here instead. EventSource also hides comments, so there is no watchdog.
      es.onerror = () => {
        if (es.readyState !== CLOSED) {
          finish({ kind: 'failed', error: new NetworkError('ssehub: EventSource error') });
          return;
        }
        es.close();
        this.#listen = undefined;
        ac.signal.removeEventListener('abort', onAbort);
        void this.#probe(url, ac).then((outcome) => {
          if (outcome.kind === 'fatal') o.token.invalidate(); // reconnect() asks for a new one
          resolve(outcome);
        });
      };
    });
  }

  /** Acts on control events, then hands every event to the owner. */
  #onMessage(ac: AbortController, msg: EventSourceMessage): void {
    if (ac.signal.aborted) return;
    const o = this.#o;
    switch (msg.event) {
      case 'sse:ready': {
        const info = parseJSON<Partial<ReadyInfo>>(msg.data) ?? {};
        const ready: ReadyInfo = {
          connectionId: String(info.connectionId ?? ''),
          userId: String(info.userId ?? ''),
          tenantId: String(info.tenantId ?? ''),
          channels: Array.isArray(info.channels) ? info.channels.map(String) : [],
          heartbeatMs: typeof info.heartbeatMs === 'number' && info.heartbeatMs > 0 ? info.heartbeatMs : this.#heartbeatMs,
        };
        this.#failures = 0;
        this.#connectionId = ready.connectionId;
        this.#heartbeatMs = ready.heartbeatMs;
        if (o.transport === 'fetch') this.#armWatchdog(ac);
        this.#setState({ connected: true, connecting: false, error: null, reconnectAttempts: 0 });
        o.onReady(ready);
        break;
      }
      case 'sse:evicted':
        this.#finish(ac, { kind: 'fatal', error: new EvictedError(reasonOf(msg.data)) });
        break;
      case 'sse:disabled':
        this.#finish(ac, { kind: 'fatal', error: new ServiceDisabledError(reasonOf(msg.data)) });
        break;
      case 'sse:token-expired':
        o.token.invalidate();
        this.#finish(ac, { kind: 'planned', delayMs: 0 });
        break;
      case 'sse:shutdown': {
        // The server's wait: `retryMs` in the data, else the stream's `retry:`.
        const hinted = parseJSON<{ retryMs?: unknown }>(msg.data)?.retryMs;
        const wait = typeof hinted === 'number' && hinted >= 0 ? hinted : (this.#retryMs ?? 1000);
        this.#finish(ac, { kind: 'planned', delayMs: withJitter(wait, o.backoff.jitter ?? 0.1, o.random) });
        break;
      }
    }
    o.onMessage(msg);
  }

  /**
   * The wait before the next attempt: `min(base·2^failures, maxMs)` ±jitter,
   * where base is the server's last `retry:` (at least {@link MIN_RETRY_BASE_MS})
   * or, before one, `backoff.baseMs`.
   */
  #backoff(): number {
    const o = this.#o;
    const base = this.#retryMs === undefined ? o.backoff.baseMs : Math.max(this.#retryMs, MIN_RETRY_BASE_MS);
    return backoffDelay(this.#failures, { ...o.backoff, baseMs: base }, o.random);
  }

  /** Ends the attempt on purpose with `outcome`. */
  #finish(ac: AbortController, outcome: Outcome): void {
    if (ac.signal.aborted) return;
    this.#planned = outcome;
    ac.abort();
  }

  #armWatchdog(ac: AbortController): void {
    this.#clearWatchdog();
    const factor = this.#o.heartbeatTimeoutFactor;
    if (!(factor > 0)) return;
    this.#lastByteAt = Date.now();
    const check = () => {
      const limit = factor * this.#heartbeatMs;
      const idle = Date.now() - this.#lastByteAt;
      if (idle < limit) {
        this.#watchdog = setTimeout(check, limit - idle);
        return;
      }
      this.#watchdog = undefined;
      this.#finish(ac, { kind: 'failed', error: new HeartbeatTimeoutError(`ssehub: no data for ${idle} ms`) });
    };
    this.#watchdog = setTimeout(check, factor * this.#heartbeatMs);
  }

  #clearWatchdog(): void {
    if (this.#watchdog !== undefined) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  #closed(): void {
    if (this.#connectionId === undefined) return;
    this.#connectionId = undefined;
    this.#o.onClose();
  }

  #setState(next: ConnectionState): void {
    if (sameState(this.#state, next)) return;
    this.#state = Object.freeze({ ...next });
    this.#o.onState(this.#state);
  }
}

/**
 * The id as a header value: its UTF-8 bytes, one character per byte. A
 * header value is a ByteString, so `fetch` throws on any character above
 * U+00FF; a browser's EventSource sends the id UTF-8 encoded, and this sends
 * the same bytes. (The parser never yields CR, LF or NUL in an id.)
 */
function headerValue(id: string): string {
  if (/^[\x00-\x7f]*$/.test(id)) return id;
  let out = '';
  for (const b of new TextEncoder().encode(id)) out += String.fromCharCode(b);
  return out;
}

/** Whether a Content-Type is `text/event-stream`, in any case, with any parameters. */
function isEventStream(contentType: string): boolean {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase() === 'text/event-stream';
}

/** Whether `id` survives as a header value: no control character but tab, no surrounding whitespace. */
function headerSafe(id: string): boolean {
  return !/[\x00-\x08\x0a-\x1f\x7f]/.test(id) && !/^[ \t]|[ \t]$/.test(id);
}

function parseJSON<T>(s: string): T | undefined {
  try {
    return JSON.parse(s) as T;
  } catch {
    return undefined;
  }
}

function reasonOf(data: string): string | undefined {
  const r = parseJSON<ControlInfo>(data)?.reason;
  return typeof r === 'string' && r ? `ssehub: ${r}` : undefined;
}
