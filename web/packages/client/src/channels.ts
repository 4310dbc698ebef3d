import { NetworkError, httpErrorFrom } from './errors.js';
import type { TokenSource } from './token.js';

/** What a {@link ChannelSync} needs from its owner. */
export interface ChannelSyncOptions {
  /** Absolute URL of `POST /api/sse/subscriptions`, resolved when needed. */
  url: () => string;
  fetch: typeof fetch;
  token: TokenSource;
  headers: Record<string, string>;
  credentials: RequestCredentials | undefined;
  /** The channels the live connection should have now. */
  desired: () => Set<string>;
  /** How long one request may take. Undefined means 10000 ms. */
  timeoutMs?: number;
}

/**
 * ChannelSync brings a live connection's channels to the desired set with
 * `POST /api/sse/subscriptions` (SPEC §3.4), one request at a time. While no
 * connection is open it does nothing: the next connection asks for the
 * desired channels in its `channels=` query.
 */
export class ChannelSync {
  readonly #o: ChannelSyncOptions;
  #connectionId: string | undefined;
  #confirmed = new Set<string>(); // what the server says the connection has
  #ac: AbortController | undefined; // aborts requests of a connection that is gone
  #chain: Promise<void> = Promise.resolve();

  constructor(options: ChannelSyncOptions) {
    this.#o = options;
  }

  /** A connection opened with these channels (from `sse:ready`). */
  connected(connectionId: string, channels: string[]): void {
    this.disconnected();
    this.#connectionId = connectionId;
    this.#confirmed = new Set(channels);
    this.#ac = new AbortController();
  }

  /** The connection is gone; any request in flight is aborted. */
  disconnected(): void {
    this.#ac?.abort();
    this.#ac = undefined;
    this.#connectionId = undefined;
    this.#confirmed = new Set();
  }

  /**
   * Sends the difference between the desired and the confirmed channels.
   * Resolves when the server has them, or at once when no connection is open
   * or it closed meanwhile; rejects with an {@link HttpError} the server
   * refused (`403` for a channel the token does not allow).
   */
  sync(): Promise<void> {
    const p = this.#chain.then(() => this.#once());
    this.#chain = p.catch(() => {});
    return p;
  }

  async #once(retried = false): Promise<void> {
    const id = this.#connectionId;
    const ac = this.#ac;
    if (id === undefined || !ac) return;
    const want = this.#o.desired();
    const have = this.#confirmed;
    const subscribe = [...want].filter((c) => !have.has(c));
    const unsubscribe = [...have].filter((c) => !want.has(c));
    if (subscribe.length === 0 && unsubscribe.length === 0) return;

    const headers: Record<string, string> = { ...this.#o.headers, 'Content-Type': 'application/json' };
    // One request may not hold up the queue forever: it ends with the
    // connection or after timeoutMs, whichever comes first.
    const req = new AbortController();
    const endReq = () => req.abort();
    ac.signal.addEventListener('abort', endReq, { once: true });
    const timer = setTimeout(endReq, this.#o.timeoutMs ?? 10_000);
    let res: Response;
    let body: { channels?: unknown } | null = null;
    try {
      const token = await this.#o.token.get();
      if (token) headers['Authorization'] = `Bearer ${token}`;
      res = await this.#o.fetch(this.#o.url(), {
        method: 'POST',
        headers,
        body: JSON.stringify({ connectionId: id, subscribe, unsubscribe }),
        credentials: this.#o.credentials,
        signal: req.signal,
      });
      if (res.ok) body = (await res.json().catch(() => null)) as { channels?: unknown } | null;
    } catch (e) {
      if (ac.signal.aborted) return;
      throw req.signal.aborted ? new NetworkError('ssehub: channel change timed out') : e;
    } finally {
      clearTimeout(timer);
      ac.signal.removeEventListener('abort', endReq);
    }
    if (ac.signal.aborted || id !== this.#connectionId) return;
    if (res.ok) {
      this.#confirmed = Array.isArray(body?.channels) ? new Set(body.channels.map(String)) : new Set(want);
      return;
    }
    // 404: the connection closed before the server saw this; the next one
    // carries the channels in its query.
    if (res.status === 404) return;
    if (res.status === 401 && !retried && this.#o.token.refreshable) {
      this.#o.token.invalidate();
      return this.#once(true);
    }
    throw await httpErrorFrom(res);
  }
}
