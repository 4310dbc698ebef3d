import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from './client.js';
import { StreamRefusedError } from './errors.js';
import { FakeServer } from './test/fake-server.js';

type Events = { 'news:item': { title: string }; 'chat:message': { text: string } };

/** Just enough of EventSource: named listeners, onerror, close. */
class FakeEventSource {
  static all: FakeEventSource[] = [];
  readonly url: URL;
  readonly withCredentials: boolean;
  onerror: ((e: Event) => void) | null = null;
  readyState = 0;
  closed = false;
  readonly #listeners = new Map<string, ((e: MessageEvent) => void)[]>();

  constructor(url: string, init?: EventSourceInit) {
    this.url = new URL(url);
    this.withCredentials = init?.withCredentials ?? false;
    FakeEventSource.all.push(this);
  }

  addEventListener(name: string, fn: (e: MessageEvent) => void): void {
    this.#listeners.set(name, [...(this.#listeners.get(name) ?? []), fn]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  listening(): string[] {
    return [...this.#listeners.keys()];
  }

  emit(name: string, data: unknown, lastEventId = ''): void {
    const ev = new MessageEvent(name, { data: JSON.stringify(data), lastEventId });
    for (const fn of this.#listeners.get(name) ?? []) fn(ev);
  }

  /** A network error or an ended stream: the browser would reconnect (CONNECTING). */
  fail(): void {
    this.readyState = 0;
    this.onerror?.(new Event('error'));
  }

  /** A refused stream (204, non-200, wrong type): the browser gives up (CLOSED). */
  refuse(): void {
    this.readyState = 2;
    this.onerror?.(new Event('error'));
  }
}

const tick = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};
const last = () => FakeEventSource.all.at(-1) as FakeEventSource;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  FakeEventSource.all = [];
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('EventSource transport', () => {
  it('puts token, channels and the resume id in the query, and backs off on errors', async () => {
    const c = createClient<Events>({
      url: 'http://hub.test/api/sse',
      transport: 'eventsource',
      EventSource: FakeEventSource as unknown as typeof EventSource,
      shareAcrossTabs: false,
      channels: ['news'],
      getToken: () => 'tok',
      random: () => 0.5,
    });
    const got: string[] = [];
    c.subscribe('news:item', (d, meta) => got.push(`${d.title}@${meta.id}`));
    await tick();
    const es = last();
    expect(es.url.searchParams.get('access_token')).toBe('tok');
    expect(es.url.searchParams.get('channels')).toBe('news');
    expect(es.url.searchParams.has('lastEventId')).toBe(false);
    expect(es.listening()).toContain('news:item');

    es.emit('sse:ready', { connectionId: 'c1', channels: ['news'], heartbeatMs: 1000 });
    es.emit('news:item', { title: 'a' }, '7');
    expect(got).toEqual(['a@7']);
    expect(c.getState().connected).toBe(true);

    // A name subscribed later gets a listener on the live EventSource.
    c.subscribe('chat:message', () => {});
    expect(es.listening()).toContain('chat:message');

    // No heartbeat reaches EventSource listeners, so there is no watchdog.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(es.closed).toBe(false);

    es.fail();
    expect(es.closed).toBe(true); // no native retry: the client backs off itself
    await tick();
    expect(c.getState()).toMatchObject({ connected: false, connecting: true, reconnectAttempts: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeEventSource.all).toHaveLength(2);
    expect(last().url.searchParams.get('lastEventId')).toBe('7');
    c.close();
    expect(last().closed).toBe(true);
  });

  it('is chosen automatically only when fetch cannot stream', async () => {
    vi.stubGlobal('EventSource', FakeEventSource);
    const server = new FakeServer();
    vi.stubGlobal('fetch', server.fetch);
    const a = createClient({ url: 'http://hub.test/api/sse', shareAcrossTabs: false });
    a.subscribe(() => {});
    await tick();
    expect([server.streams.length, FakeEventSource.all.length]).toEqual([1, 0]);
    a.close();

    vi.stubGlobal('ReadableStream', undefined);
    const b = createClient({ url: 'http://hub.test/api/sse', shareAcrossTabs: false });
    b.subscribe(() => {});
    await tick();
    expect([server.streams.length, FakeEventSource.all.length]).toEqual([1, 1]);
    b.close();
  });

  it('when EventSource ends CLOSED, asks the URL once with fetch and acts on the status it hid', async () => {
    const server = new FakeServer();
    let tokens = 0;
    const c = createClient<Events>({
      url: 'http://hub.test/api/sse',
      transport: 'eventsource',
      EventSource: FakeEventSource as unknown as typeof EventSource,
      fetch: server.fetch,
      shareAcrossTabs: false,
      getToken: () => `tok${++tokens}`,
      random: () => 0.5,
    });
    c.subscribe('news:item', () => {});
    await tick();

    // A proxy's 502: retried with backoff, as with fetch.
    last().refuse();
    await tick();
    expect(server.last.url.searchParams.get('access_token')).toBe('tok1');
    server.last.error(502);
    await tick();
    expect(c.getState()).toMatchObject({ connecting: true, reconnectAttempts: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeEventSource.all).toHaveLength(2);

    // A 200 that EventSource refused (a wrong type): stops, as the browser does.
    last().refuse();
    await tick();
    server.last.respond(new Response('not a stream', { status: 200, headers: { 'Content-Type': 'text/plain' } }));
    await tick();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeEventSource.all).toHaveLength(2);
    expect(c.getState()).toMatchObject({ connected: false, connecting: false });
    expect(c.getState().error).toBeInstanceOf(StreamRefusedError);

    // reconnect() tries again, with a new token; a 204 stops with its status.
    c.reconnect();
    await tick();
    expect(FakeEventSource.all).toHaveLength(3);
    expect(last().url.searchParams.get('access_token')).toBe('tok2');
    last().refuse();
    await tick();
    server.last.respond(new Response(null, { status: 204 }));
    await tick();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeEventSource.all).toHaveLength(3);
    expect(c.getState().error).toMatchObject({ name: 'HttpError', status: 204 });
    c.close();
  });

  it('gives events of a new EventSource without an id the id it resumed from, until the stream sets one', async () => {
    const c = createClient<Events>({
      url: 'http://hub.test/api/sse',
      transport: 'eventsource',
      EventSource: FakeEventSource as unknown as typeof EventSource,
      shareAcrossTabs: false,
      random: () => 0.5,
    });
    const ids: string[] = [];
    c.subscribe('news:item', (_d, meta) => ids.push(meta.id));
    await tick();
    last().emit('news:item', { title: 'a' }, '7');
    last().fail();
    await tick();
    await vi.advanceTimersByTimeAsync(1000);
    expect(last().url.searchParams.get('lastEventId')).toBe('7');
    last().emit('news:item', { title: 'b' }); // a fresh EventSource reports ''
    last().emit('news:item', { title: 'c' }, '8');
    last().emit('news:item', { title: 'd' }); // '' now: the stream cleared it
    expect(ids).toEqual(['7', '7', '8', '']);
    expect(c.lastEventId).toBe('');
    c.close();
  });
});

