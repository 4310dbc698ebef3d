import type { BackoffOptions } from './backoff.js';
import { ChannelSync } from './channels.js';
import { Connection } from './connection.js';
import { errorFromWire, errorToWire, toError } from './errors.js';
import type { EventSourceMessage } from './parse.js';
import { IDLE, sameState } from './state.js';
import { TabLink, tabDepsFromGlobals, type TabDeps, type TabEnvelope, type WireState } from './tabs.js';
import { TokenSource } from './token.js';
import type {
  ConnectionState,
  ControlInfo,
  DefaultEvents,
  EventHandler,
  EventMap,
  EventMeta,
  EventName,
  Unsubscribe,
} from './types.js';

/** Options of {@link createClient}. Only `url` is required. */
export interface ClientOptions {
  /** The stream endpoint, e.g. '/api/sse'; relative URLs resolve against `location`. */
  url: string;
  /**
   * Returns a token sent as `Authorization: Bearer` (or `access_token=` with
   * EventSource). Called before the first connection and again after the
   * server reports the token expired (`401`, `sse:token-expired`); the result
   * is kept in between. Omit it for cookie auth.
   */
  getToken?: () => string | Promise<string>;
  /** Channels to join at connect time, as if passed to {@link SSEClient.subscribeChannels}. */
  channels?: string[];
  /** `POST` endpoint for channel changes. Undefined means `url + '/subscriptions'`. */
  subscriptionsUrl?: string;
  /** Called on `sse:reset`: the server could not resume, so the app must refetch its state. */
  onReset?: (info: ControlInfo) => void;
  /**
   * Share one connection between all tabs of this origin that use the same
   * key (default: the resolved `url`). Undefined or true means on where the
   * browser has Web Locks and BroadcastChannel; false means one connection per client.
   */
  shareAcrossTabs?: boolean | { key?: string };
  /**
   * 'fetch' streams with `fetch` (headers, status codes); 'eventsource' uses
   * `EventSource` (no headers: the token goes in `access_token=`; statuses are
   * invisible, so when `EventSource` gives up (`CLOSED`) the client asks the
   * URL once with `fetch` for the status and acts on it as the fetch
   * transport does; a wrong type ends it with `StreamRefusedError`; network
   * errors and ended streams are retried with backoff). Undefined or 'auto'
   * picks fetch when the runtime can stream response bodies.
   */
  transport?: 'auto' | 'fetch' | 'eventsource';
  /** Extra request headers (fetch transport and channel changes). */
  headers?: Record<string, string>;
  /** `credentials` of the requests; undefined means the fetch default ('same-origin'). */
  credentials?: RequestCredentials;
  /**
   * Reconnect delays; the default is SPEC §2: `min(base·2^attempt, 30000)` ms
   * ±10 %, where base is the server's last `retry:` (at least 100 ms), 1000
   * before one.
   */
  backoff?: BackoffOptions;
  /** Heartbeat interval assumed until `sse:ready` gives the real one. Undefined means 30000. */
  heartbeatMs?: number;
  /**
   * Reconnect when no byte arrived for this many heartbeat intervals.
   * Undefined means 2.5; 0 turns the watchdog off.
   */
  heartbeatTimeoutFactor?: number;
  /** Aborting it closes the client, like {@link SSEClient.close}. */
  signal?: AbortSignal;
  /** Replaces the global `fetch` (tests, instrumentation). */
  fetch?: typeof fetch;
  /** Replaces the global `EventSource`. */
  EventSource?: typeof EventSource;
  /** Replaces `navigator.locks` and `BroadcastChannel` for tab sharing (tests). */
  tabs?: TabDeps;
  /** Replaces `Math.random` for the jitter (tests). */
  random?: () => number;
}

/** The client's part in tab sharing. */
export type ClientRole = 'idle' | 'direct' | 'leader' | 'follower' | 'closed';

type AnyHandler = (data: unknown, meta: EventMeta) => void;

/** Both forms of {@link SSEClient.subscribe}. */
export interface Subscribe<E extends EventMap> {
  /** Calls `listener` after each state change (the `useSyncExternalStore` contract). */
  (listener: () => void): Unsubscribe;
  /** Calls `handler` with the payload of each `name` event. */
  <K extends EventName<E>>(name: K, handler: EventHandler<E, K>): Unsubscribe;
}

const WAITING: ConnectionState = Object.freeze({ connected: false, connecting: true, error: null, reconnectAttempts: 0 });

/**
 * SSEClient receives an ssehub event stream and hands each event to the
 * handlers subscribed to its name.
 *
 * It holds a connection while anything is subscribed (event handlers or
 * state listeners) and lets it go when the last one unsubscribes; both are
 * decided on a microtask, so an unsubscribe followed at once by a subscribe
 * (React StrictMode) keeps the one connection. With tab sharing, only one tab
 * (the leader) holds the connection and relays to the others.
 *
 * All methods are meant for one JavaScript thread. After {@link close},
 * subscribe calls do nothing and nothing of the client keeps running.
 */
export class SSEClient<E extends EventMap = DefaultEvents> {
  readonly #options: ClientOptions;
  readonly #fetch: typeof fetch;
  readonly #token: TokenSource;
  readonly #sync: ChannelSync;
  readonly #tabDeps: TabDeps | undefined;

  readonly #handlers = new Map<string, Set<AnyHandler>>();
  readonly #listeners = new Set<() => void>();
  readonly #channels = new Map<string, number>(); // channel → subscribeChannels count
  readonly #remote = new Map<string, { channels: string[]; names: string[] }>(); // leader: followers' needs
  readonly #acks = new Map<number, { resolve: () => void; reject: (e: Error) => void }>(); // follower
  #req = 0;

  #state: ConnectionState = IDLE;
  #lastEventId = '';
  #closed = false;
  #active = false;
  #reconcileQueued = false;
  #frozen = false; // the page is frozen (Page Lifecycle): a leader must step down
  #lifecycle: EventTarget | undefined; // the document whose freeze/resume we listen to
  #conn: Connection | undefined;
  #tabs: TabLink | undefined;

  constructor(options: ClientOptions) {
    this.#options = options;
    // Nothing here touches the network or needs `location`: creating a client
    // during server-side rendering is safe. URLs are resolved on connect.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#token = new TokenSource(options.getToken);
    this.#sync = new ChannelSync({
      url: () => absolute(options.subscriptionsUrl ?? `${absolute(options.url).split('?')[0]}/subscriptions`),
      fetch: this.#fetch,
      token: this.#token,
      headers: options.headers ?? {},
      credentials: options.credentials,
      desired: () => this.#desiredChannels(),
    });
    const share = options.shareAcrossTabs ?? true;
    this.#tabDeps = share === false ? undefined : (options.tabs ?? tabDepsFromGlobals());
    for (const c of options.channels ?? []) this.#channels.set(c, (this.#channels.get(c) ?? 0) + 1);
    if (options.signal?.aborted) this.close();
    else options.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /**
   * `subscribe(listener)` calls `listener` after each state change;
   * `subscribe(name, handler)` calls `handler(data, {id, event})` for each
   * `name` event, where `data` is the parsed JSON payload (the raw string if
   * it is not JSON). Both return a function that undoes them. A bound
   * function, so `useSyncExternalStore(client.subscribe, client.getState)` works.
   */
  readonly subscribe: Subscribe<E> = ((a: string | (() => void), b?: AnyHandler): Unsubscribe => {
    if (this.#closed) return () => {};
    if (typeof a === 'function') {
      const listener = () => a();
      this.#listeners.add(listener);
      this.#queueReconcile();
      return () => {
        if (this.#listeners.delete(listener)) this.#queueReconcile();
      };
    }
    const name = a;
    const handler: AnyHandler = (data, meta) => b?.(data, meta); // one entry per call, even for the same function
    let set = this.#handlers.get(name);
    if (!set) {
      set = new Set();
      this.#handlers.set(name, set);
      this.#conn?.addName(name);
      if (this.#role() === 'follower') this.#postInterest();
    }
    set.add(handler);
    this.#queueReconcile();
    return () => {
      const s = this.#handlers.get(name);
      if (!s?.delete(handler)) return;
      if (s.size === 0) this.#handlers.delete(name);
      this.#queueReconcile();
    };
  }) as Subscribe<E>;

  /** The current state; the same object until it changes. */
  readonly getState = (): ConnectionState => this.#state;

  /** The id the client resumes from ('' before the first event with an id). */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** The id of this client's own open connection (direct or leader), if any. */
  get connectionId(): string | undefined {
    return this.#conn?.connectionId;
  }

  /** The channels this client asked for. */
  get channels(): string[] {
    return [...this.#channels.keys()];
  }

  /** Whether this client holds its own connection, relays a leader's, or neither. */
  get role(): ClientRole {
    return this.#role();
  }

  /**
   * Joins channels: at connect time through `channels=`, on a live
   * connection through `POST /api/sse/subscriptions`. Counted per channel:
   * each call needs its own {@link unsubscribeChannels}. Resolves when the
   * server has them (or at once when no connection is open: the next one asks
   * for them); rejects with the {@link HttpError} of a refusal, undoing the call.
   */
  async subscribeChannels(channels: string[]): Promise<void> {
    if (this.#closed) return;
    for (const c of channels) this.#channels.set(c, (this.#channels.get(c) ?? 0) + 1);
    try {
      await this.#applyChannels();
    } catch (e) {
      this.#dropChannels(channels);
      void this.#applyChannels().catch(() => {});
      throw e;
    }
  }

  /** Undoes one {@link subscribeChannels} call per channel. */
  async unsubscribeChannels(channels: string[]): Promise<void> {
    if (this.#closed) return;
    this.#dropChannels(channels);
    await this.#applyChannels();
  }

  /**
   * Connects again now, with a fresh backoff: after the client stopped
   * (disabled, evicted, a status retrying cannot fix) or to skip a wait.
   */
  reconnect(): void {
    if (this.#closed) return;
    if (this.#conn) this.#conn.reconnect();
    else if (this.#role() === 'follower') this.#tabs?.post({ type: 'reconnect' });
  }

  /**
   * Closes the connection, leaves tab sharing (another tab takes over) and
   * drops all subscriptions. Nothing keeps running: no timer, request, or
   * lock. The client cannot be reused.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deactivate();
    this.#handlers.clear();
    this.#listeners.clear();
    this.#setState(IDLE);
  }

  #role(): ClientRole {
    if (this.#closed) return 'closed';
    if (this.#tabs) return this.#tabs.isLeader ? 'leader' : 'follower';
    return this.#conn ? 'direct' : 'idle';
  }

  #queueReconcile(): void {
    if (this.#reconcileQueued) return;
    this.#reconcileQueued = true;
    queueMicrotask(() => {
      this.#reconcileQueued = false;
      this.#reconcile();
    });
  }

  /** Connects or disconnects to match: subscribers present, not closed, not frozen. */
  #reconcile(): void {
    const want = !this.#closed && !this.#frozen && (this.#listeners.size > 0 || this.#handlers.size > 0);
    if (want && !this.#active) this.#activate();
    else if (!want && this.#active) this.#deactivate();
  }

  // A frozen page runs no code, so a leader there would starve the other
  // tabs: it steps down (synchronously: nothing runs after the event) and
  // queues for the lock again on resume.
  readonly #onFreeze = (): void => {
    this.#frozen = true;
    this.#reconcile();
  };

  readonly #onResume = (): void => {
    this.#frozen = false;
    this.#queueReconcile();
  };

  #watchLifecycle(on: boolean): void {
    if (on && !this.#lifecycle) {
      const doc = (globalThis as { document?: EventTarget }).document;
      doc?.addEventListener('freeze', this.#onFreeze);
      doc?.addEventListener('resume', this.#onResume);
      this.#lifecycle = doc;
    } else if (!on && this.#lifecycle) {
      this.#lifecycle.removeEventListener('freeze', this.#onFreeze);
      this.#lifecycle.removeEventListener('resume', this.#onResume);
      this.#lifecycle = undefined;
    }
  }

  #activate(): void {
    this.#active = true;
    if (!this.#tabDeps) {
      this.#startConnection();
      return;
    }
    this.#watchLifecycle(true);
    this.#setState(WAITING);
    const share = this.#options.shareAcrossTabs;
    this.#tabs = new TabLink(
      (typeof share === 'object' && share.key) || absolute(this.#options.url),
      this.#tabDeps,
      () => this.#becomeLeader(),
      (m) => this.#onTabMessage(m),
    );
    this.#tabs.start();
    this.#postInterest();
  }

  #deactivate(): void {
    this.#active = false;
    const conn = this.#conn;
    this.#conn = undefined;
    conn?.stop();
    this.#sync.disconnected();
    this.#tabs?.stop();
    this.#tabs = undefined;
    this.#remote.clear();
    this.#settleAcks();
    if (!this.#frozen || this.#closed) this.#watchLifecycle(false);
    this.#setState(IDLE);
  }

  #startConnection(): void {
    const o = this.#options;
    const transport =
      o.transport && o.transport !== 'auto' ? o.transport : o.fetch || canStreamFetch() || !globalThis.EventSource ? 'fetch' : 'eventsource';
    let url: string;
    try {
      url = absolute(o.url);
    } catch (e) {
      this.#setState({ connected: false, connecting: false, error: toError(e), reconnectAttempts: 0 });
      return;
    }
    const conn: Connection = new Connection({
      url,
      transport,
      fetch: this.#fetch,
      EventSource: o.EventSource ?? globalThis.EventSource,
      token: this.#token,
      headers: o.headers ?? {},
      credentials: o.credentials,
      backoff: o.backoff ?? {},
      heartbeatMs: o.heartbeatMs ?? 30000,
      heartbeatTimeoutFactor: o.heartbeatTimeoutFactor ?? 2.5,
      random: o.random ?? Math.random,
      channels: () => [...this.#desiredChannels()],
      names: () => this.#names(),
      lastEventId: () => this.#lastEventId,
      onState: (s) => {
        if (this.#conn !== conn) return;
        this.#setState(s);
        if (this.#tabs?.isLeader) this.#tabs.post({ type: 'state', state: stateToWire(s) });
      },
      onMessage: (msg) => {
        this.#lastEventId = msg.id;
        if (this.#tabs?.isLeader) this.#tabs.post({ type: 'event', event: msg.event, data: msg.data, id: msg.id });
        this.#dispatch(msg);
      },
      onId: (id) => {
        this.#lastEventId = id;
        if (this.#tabs?.isLeader) this.#tabs.post({ type: 'id', id });
      },
      onReady: (info) => {
        this.#sync.connected(info.connectionId, info.channels);
        void this.#sync.sync().catch(() => {});
      },
      onClose: () => this.#sync.disconnected(),
    });
    this.#conn = conn;
    conn.start();
  }

  #becomeLeader(): void {
    if (!this.#active || !this.#tabs) return;
    this.#settleAcks(); // our own channels go into the connection we open now
    this.#startConnection();
    this.#tabs.post({ type: 'leader' });
  }

  #onTabMessage(m: TabEnvelope): void {
    const tabs = this.#tabs;
    if (!tabs) return;
    if (tabs.isLeader) {
      switch (m.type) {
        case 'interest': {
          this.#remote.set(m.from, { channels: m.channels, names: m.names });
          for (const n of m.names) this.#conn?.addName(n);
          const req = m.req;
          this.#sync.sync().then(
            () => req !== undefined && tabs.post({ type: 'ack', to: m.from, req }),
            (e: unknown) => req !== undefined && tabs.post({ type: 'ack', to: m.from, req, error: errorToWire(toError(e)) }),
          );
          tabs.post({ type: 'state', state: stateToWire(this.#state) });
          break;
        }
        case 'bye':
          if (this.#remote.delete(m.from)) void this.#sync.sync().catch(() => {});
          break;
        case 'reconnect':
          this.#conn?.reconnect();
          break;
      }
      return;
    }
    switch (m.type) {
      case 'leader':
        this.#settleAcks(); // the new leader gets our channels from this interest
        this.#postInterest();
        break;
      case 'state': {
        const prev = this.#state.error;
        const w = m.state.error;
        // Keep the same Error object while the leader reports the same error.
        const error = !w ? null : prev && prev.name === w.name && prev.message === w.message ? prev : errorFromWire(w);
        this.#setState({ ...m.state, error });
        break;
      }
      case 'event':
        this.#lastEventId = m.id;
        this.#dispatch(m);
        break;
      case 'id':
        this.#lastEventId = m.id;
        break;
      case 'ack': {
        if (m.to !== tabs.id) break;
        const ack = this.#acks.get(m.req);
        this.#acks.delete(m.req);
        if (m.error) ack?.reject(errorFromWire(m.error));
        else ack?.resolve();
        break;
      }
    }
  }

  /** Tells the leader what this follower needs; with `req`, the leader acks once synced. */
  #postInterest(req?: number): void {
    this.#tabs?.post({ type: 'interest', channels: this.channels, names: this.#names(), req });
  }

  async #applyChannels(): Promise<void> {
    if (this.#role() !== 'follower') return this.#sync.sync();
    const req = ++this.#req;
    const done = new Promise<void>((resolve, reject) => this.#acks.set(req, { resolve, reject }));
    this.#postInterest(req);
    return done;
  }

  #dropChannels(channels: string[]): void {
    for (const c of channels) {
      const n = (this.#channels.get(c) ?? 0) - 1;
      if (n > 0) this.#channels.set(c, n);
      else this.#channels.delete(c);
    }
  }

  /** Resolves the acks a follower waits for; used when the leader changes or we leave. */
  #settleAcks(): void {
    for (const a of this.#acks.values()) a.resolve();
    this.#acks.clear();
  }

  #desiredChannels(): Set<string> {
    const all = new Set(this.#channels.keys());
    for (const r of this.#remote.values()) for (const c of r.channels) all.add(c);
    return all;
  }

  #names(): string[] {
    const all = new Set(this.#handlers.keys());
    for (const r of this.#remote.values()) for (const n of r.names) all.add(n);
    return [...all];
  }

  #dispatch(msg: EventSourceMessage): void {
    const handlers = this.#handlers.get(msg.event);
    const onReset = msg.event === 'sse:reset' ? this.#options.onReset : undefined;
    if (!handlers?.size && !onReset) return;
    let data: unknown;
    try {
      data = JSON.parse(msg.data);
    } catch {
      data = msg.data;
    }
    const meta: EventMeta = { id: msg.id, event: msg.event };
    if (onReset) call(() => onReset((data ?? {}) as ControlInfo));
    if (handlers) for (const h of [...handlers]) call(() => h(data, meta));
  }

  #setState(next: ConnectionState): void {
    if (sameState(this.#state, next)) return;
    this.#state = Object.isFrozen(next) ? next : Object.freeze({ ...next });
    for (const l of [...this.#listeners]) call(l);
  }
}

/**
 * Creates a client. `E` maps event names to payload types, so handlers are
 * typed: `createClient<{ 'chat:message': Msg }>({ url: '/api/sse' })`.
 * Without it the map registered on {@link Register} is used.
 */
export function createClient<E extends EventMap = DefaultEvents>(options: ClientOptions): SSEClient<E> {
  return new SSEClient<E>(options);
}

/** Resolves `url` against the page's location (throws for a relative URL without one). */
function absolute(url: string): string {
  return new URL(url, (globalThis as { location?: { href: string } }).location?.href).toString();
}

function stateToWire(s: ConnectionState): WireState {
  return { ...s, error: s.error && errorToWire(s.error) };
}

/** Runs a user callback; a throw is reported, not allowed to break the stream. */
function call(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
    if (typeof report === 'function') report(e);
    else
      queueMicrotask(() => {
        throw e;
      });
  }
}

function canStreamFetch(): boolean {
  return (
    typeof globalThis.fetch === 'function' &&
    typeof globalThis.ReadableStream === 'function' &&
    typeof globalThis.Response === 'function' &&
    'body' in globalThis.Response.prototype
  );
}
