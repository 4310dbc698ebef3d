import type { TabDeps } from '../tabs.js';

const enc = new TextEncoder();

/** One request the fake server received, still waiting for an answer. */
export class FakeRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Headers;
  readonly body: string | undefined;
  readonly signal: AbortSignal;
  answered = false;
  #resolve: (res: Response) => void;
  #reject: (err: unknown) => void;

  constructor(url: URL, init: RequestInit, resolve: (res: Response) => void, reject: (err: unknown) => void) {
    this.url = url;
    this.method = init.method ?? 'GET';
    this.headers = new Headers(init.headers);
    this.body = typeof init.body === 'string' ? init.body : undefined;
    this.signal = init.signal ?? new AbortController().signal;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Answers with a JSON error body, like ssehub's error writer. */
  error(status: number, code = '', headers: Record<string, string> = {}): void {
    this.respond(
      new Response(JSON.stringify({ error: { code, message: code } }), {
        status,
        headers: { 'Content-Type': 'application/json', ...headers },
      }),
    );
  }

  /** Fails like fetch does when the server cannot be reached. */
  fail(): void {
    this.answered = true;
    this.#reject(new TypeError('fetch failed'));
  }

  respond(res: Response): void {
    this.answered = true;
    this.#resolve(res);
  }

  /** Answers 200 with an event stream the test writes to. */
  stream(): FakeStream {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    const s = new FakeStream(controller);
    this.signal.addEventListener('abort', () => s.abort());
    this.respond(new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream; charset=utf-8' } }));
    return s;
  }
}

/** The server's side of an open event stream. */
export class FakeStream {
  readonly #c: ReadableStreamDefaultController<Uint8Array>;
  closed = false;
  aborted = false;

  constructor(c: ReadableStreamDefaultController<Uint8Array>) {
    this.#c = c;
  }

  write(text: string): void {
    if (!this.closed) this.#c.enqueue(enc.encode(text));
  }

  /** `retry:` plus `sse:ready`, as ssehub starts every stream. */
  ready(info: { connectionId?: string; channels?: string[]; heartbeatMs?: number } = {}, retry = 1000): void {
    const data = { connectionId: 'c1', userId: 'u1', tenantId: 't1', channels: [], heartbeatMs: 30000, ...info };
    this.write(`retry: ${retry}\n\nevent: sse:ready\ndata: ${JSON.stringify(data)}\n\n`);
  }

  event(name: string, data: unknown, id?: string): void {
    this.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  heartbeat(): void {
    this.write(':heartbeat\n\n');
  }

  /** The server closes the stream. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.#c.close();
  }

  abort(): void {
    if (this.closed) return;
    this.closed = this.aborted = true;
    this.#c.error(new DOMException('The operation was aborted.', 'AbortError'));
  }
}

/**
 * A fake ssehub for unit tests: `fetch` records each request; stream
 * requests wait for the test to answer, and `POST /subscriptions` is answered
 * at once from the channels it tracks per connection.
 */
export class FakeServer {
  readonly streams: FakeRequest[] = [];
  readonly posts: { connectionId: string; subscribe: string[]; unsubscribe: string[]; auth: string | null }[] = [];
  readonly channels = new Map<string, Set<string>>();
  forbidden = new Set<string>();
  /** While true, channel changes get no answer (a hung server). */
  hangPosts = false;

  readonly fetch: typeof fetch = (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return new Promise<Response>((resolve, reject) => {
      const req = new FakeRequest(url, init, resolve, reject);
      if (req.signal.aborted) return reject(req.signal.reason);
      req.signal.addEventListener('abort', () => {
        if (!req.answered) reject(req.signal.reason);
      });
      if (req.method === 'POST' && this.hangPosts) return;
      if (req.method === 'POST') this.#subscriptions(req);
      else this.streams.push(req);
    });
  };

  /** The latest stream request. */
  get last(): FakeRequest {
    const r = this.streams.at(-1);
    if (!r) throw new Error('no stream request yet');
    return r;
  }

  #subscriptions(req: FakeRequest): void {
    const body = JSON.parse(req.body ?? '{}') as { connectionId: string; subscribe?: string[]; unsubscribe?: string[] };
    const post = { connectionId: body.connectionId, subscribe: body.subscribe ?? [], unsubscribe: body.unsubscribe ?? [], auth: req.headers.get('Authorization') };
    this.posts.push(post);
    if (post.subscribe.some((c) => this.forbidden.has(c))) return req.error(403, 'forbidden');
    const set = this.channels.get(body.connectionId) ?? new Set();
    for (const c of post.subscribe) set.add(c);
    for (const c of post.unsubscribe) set.delete(c);
    this.channels.set(body.connectionId, set);
    req.respond(Response.json({ channels: [...set] }));
  }
}

/** An in-memory Web Locks manager: exclusive locks granted in request order. */
export class FakeLocks {
  readonly #held = new Set<string>();
  readonly #queues = new Map<string, (() => void)[]>();

  /** Whether `name` is held or requested. */
  busy(name: string): boolean {
    return this.#held.has(name) || (this.#queues.get(name)?.length ?? 0) > 0;
  }

  request(name: string, options: { signal?: AbortSignal }, cb: (lock: { name: string }) => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
      const queue = this.#queues.get(name) ?? [];
      this.#queues.set(name, queue);
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        this.#held.add(name);
        Promise.resolve()
          .then(() => cb({ name }))
          .then(resolve, reject)
          .finally(() => {
            this.#held.delete(name);
            this.#pump(name);
          });
      };
      const onAbort = () => {
        const i = queue.indexOf(grant);
        if (i >= 0) queue.splice(i, 1);
        reject(new DOMException('aborted', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(grant);
      this.#pump(name);
    });
  }

  #pump(name: string): void {
    if (this.#held.has(name)) return;
    this.#queues.get(name)?.shift()?.();
  }
}

/** Tab-sharing dependencies backed by {@link FakeLocks} and Node's BroadcastChannel. */
export function fakeTabs(locks = new FakeLocks()): TabDeps & { fakeLocks: FakeLocks } {
  return { locks: locks as unknown as LockManager, BroadcastChannel, fakeLocks: locks };
}
