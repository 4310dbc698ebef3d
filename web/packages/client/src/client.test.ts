import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type ClientOptions } from './client.js';
import { EvictedError, HeartbeatTimeoutError, HttpError, NetworkError, ServiceDisabledError } from './errors.js';
import { FakeServer } from './test/fake-server.js';
import type { ConnectionState } from './types.js';

type Events = {
  'chat:message': { conversationId: string; text: string };
  'news:item': { title: string };
};

/** Lets promises, stream reads and microtasks run (setImmediate is not faked). */
const tick = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

let server: FakeServer;

function client(opts: Partial<ClientOptions> = {}) {
  const c = createClient<Events>({
    url: 'http://hub.test/api/sse',
    fetch: server.fetch,
    shareAcrossTabs: false,
    random: () => 0.5, // no jitter unless a test asks for it
    ...opts,
  });
  const states: ConnectionState[] = [];
  c.subscribe(() => states.push(c.getState()));
  return { c, states };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  server = new FakeServer();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('connecting', () => {
  it('connects on the first subscriber and delivers typed events', async () => {
    const { c, states } = client();
    const got: unknown[] = [];
    c.subscribe('chat:message', (d, meta) => got.push([d.conversationId, d.text, meta.id, meta.event]));
    await tick();
    expect(server.streams).toHaveLength(1);
    expect(server.last.headers.get('Accept')).toBe('text/event-stream');
    expect(c.getState()).toMatchObject({ connecting: true, connected: false });

    const s = server.last.stream();
    s.ready();
    s.event('chat:message', { conversationId: '1', text: 'hi' }, 'e1');
    s.event('news:item', { title: 'x' }, 'e2');
    await tick();
    expect(got).toEqual([['1', 'hi', 'e1', 'chat:message']]);
    expect(c.getState()).toEqual({ connected: true, connecting: false, error: null, reconnectAttempts: 0 });
    expect(c.lastEventId).toBe('e2');
    expect(c.connectionId).toBe('c1');
    expect(states.map((x) => [x.connecting, x.connected])).toEqual([
      [true, false],
      [false, true],
    ]);
    c.close();
  });

  it('opens one connection when a subscriber leaves and comes back in the same task (StrictMode)', async () => {
    const { c } = client();
    const off = c.subscribe('news:item', () => {});
    off();
    c.subscribe('news:item', () => {});
    await tick();
    expect(server.streams).toHaveLength(1);
    c.close();
  });

  it('lets the connection go when the last subscriber leaves', async () => {
    const c = createClient<Events>({ url: 'http://hub.test/api/sse', fetch: server.fetch, shareAcrossTabs: false });
    const off = c.subscribe('news:item', () => {});
    await tick();
    server.last.stream().ready();
    await tick();
    expect(c.getState().connected).toBe(true);
    off();
    await tick();
    expect(server.last.signal.aborted).toBe(true);
    expect(c.getState()).toEqual({ connected: false, connecting: false, error: null, reconnectAttempts: 0 });
    expect(c.role).toBe('idle');
  });

  it('passes the payload as a string when it is not JSON, and survives a throwing handler', async () => {
    const reportError = vi.fn();
    vi.stubGlobal('reportError', reportError);
    const { c } = client();
    const got: unknown[] = [];
    c.subscribe('news:item', () => {
      throw new Error('boom');
    });
    c.subscribe('news:item', (d) => got.push(d));
    await tick();
    const s = server.last.stream();
    s.write('event: news:item\ndata: not json\n\n');
    await tick();
    expect(got).toEqual(['not json']);
    expect(reportError).toHaveBeenCalledOnce();
    vi.unstubAllGlobals();
    c.close();
  });
});

describe('backoff', () => {
  it('waits min(1000·2^attempt, 30000) ms between failed attempts', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    const times: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 8; i++) {
      times.push(Date.now() - start);
      server.last.fail();
      const before = server.streams.length;
      while (server.streams.length === before) await vi.advanceTimersByTimeAsync(50);
    }
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    // Gaps are measured in 50 ms steps.
    expect(gaps.map((g) => Math.ceil(g / 50) * 50)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(c.getState()).toMatchObject({ connecting: true, connected: false, reconnectAttempts: 8 });
    expect(c.getState().error).toBeInstanceOf(NetworkError);
    c.close();
  });

  it('adds jitter of at most ±10 %', async () => {
    for (const [random, want] of [
      [0, 900],
      [0.999999, 1100],
    ] as const) {
      server = new FakeServer();
      const { c } = client({ random: () => random });
      c.subscribe('news:item', () => {});
      await tick();
      server.last.fail();
      await tick();
      await vi.advanceTimersByTimeAsync(want - 1);
      expect(server.streams).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(server.streams).toHaveLength(2);
      c.close();
    }
  });

  it("uses the server's retry: as the base of the backoff, across connections", async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    const s = server.last.stream();
    s.write('retry: 150\n\n');
    await tick();
    s.end(); // the stream ends before sse:ready: attempt 0 waits 150 ms
    await tick();
    await vi.advanceTimersByTimeAsync(149);
    expect(server.streams).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.streams).toHaveLength(2);
    server.last.error(503, ''); // attempt 1: 300 ms
    await vi.advanceTimersByTimeAsync(299);
    expect(server.streams).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.streams).toHaveLength(3);
    c.close();
  });

  it('takes retry: 0 as 100 ms, so a stream cannot make it spin', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    const s = server.last.stream();
    s.write('retry: 0\n\n');
    await tick();
    s.end();
    await tick();
    await vi.advanceTimersByTimeAsync(99);
    expect(server.streams).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.streams).toHaveLength(2);
    c.close();
  });

  it('counts attempts in the state and resets them after sse:ready', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    server.last.error(502);
    await vi.advanceTimersByTimeAsync(1000);
    expect(c.getState()).toMatchObject({ reconnectAttempts: 1, connecting: true });
    expect((c.getState().error as HttpError).status).toBe(502);
    server.last.error(504);
    await vi.advanceTimersByTimeAsync(2000);
    expect(c.getState().reconnectAttempts).toBe(2);
    server.last.stream().ready();
    await tick();
    expect(c.getState()).toEqual({ connected: true, connecting: false, error: null, reconnectAttempts: 0 });
    c.close();
  });

  it('retries a bare 503 and a 429, honouring Retry-After', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    server.last.error(503, '');
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.streams).toHaveLength(2);
    server.last.error(429, 'too_many_connections', { 'Retry-After': '7' });
    await vi.advanceTimersByTimeAsync(6999);
    expect(server.streams).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.streams).toHaveLength(3);
    c.close();
  });
});

describe('stopping', () => {
  it('stops on 503 sse_disabled and reconnect() starts again', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    server.last.error(503, 'sse_disabled');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(server.streams).toHaveLength(1);
    expect(c.getState()).toMatchObject({ connected: false, connecting: false });
    expect(c.getState().error).toBeInstanceOf(ServiceDisabledError);
    expect(vi.getTimerCount()).toBe(0);
    c.reconnect();
    await tick();
    expect(server.streams).toHaveLength(2);
    c.close();
  });

  it('stops on sse:disabled and on sse:evicted', async () => {
    for (const [event, cls] of [
      ['sse:disabled', ServiceDisabledError],
      ['sse:evicted', EvictedError],
    ] as const) {
      server = new FakeServer();
      const { c } = client();
      const seen = vi.fn();
      c.subscribe(event, seen);
      await tick();
      const s = server.last.stream();
      s.ready();
      s.event(event, { reason: 'admin' });
      await tick();
      await vi.advanceTimersByTimeAsync(120_000);
      expect(server.streams).toHaveLength(1);
      expect(seen).toHaveBeenCalledWith({ reason: 'admin' }, { id: '', event });
      expect(c.getState().error).toBeInstanceOf(cls);
      expect(c.getState().connecting).toBe(false);
      c.close();
    }
  });

  it('stops on a status retrying cannot fix (403)', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    server.last.error(403, 'forbidden');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.streams).toHaveLength(1);
    expect(c.getState().error).toMatchObject({ status: 403, code: 'forbidden' });
    c.close();
  });

  it('close() leaves no timer, request or stream behind', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    server.last.fail();
    await tick();
    expect(vi.getTimerCount()).toBe(1); // the backoff wait
    c.close();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.streams).toHaveLength(1);

    server = new FakeServer();
    const { c: c2 } = client();
    c2.subscribe('news:item', () => {});
    await tick();
    const s = server.last.stream();
    s.ready({ heartbeatMs: 1000 });
    await tick();
    expect(vi.getTimerCount()).toBe(1); // the watchdog
    c2.close();
    await tick();
    expect(s.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(c2.subscribe('news:item', () => {})).toBeTypeOf('function');
    await tick();
    expect(server.streams).toHaveLength(1);
  });

  it('closes when its signal aborts', async () => {
    const ac = new AbortController();
    const { c } = client({ signal: ac.signal });
    c.subscribe('news:item', () => {});
    await tick();
    ac.abort();
    expect(server.last.signal.aborted).toBe(true);
    expect(c.role).toBe('closed');
  });
});

describe('tokens', () => {
  it('sends the token, and on 401 asks for a new one and retries at once', async () => {
    let n = 0;
    const getToken = vi.fn(() => `t${++n}`);
    const { c } = client({ getToken });
    c.subscribe('news:item', () => {});
    await tick();
    expect(server.last.headers.get('Authorization')).toBe('Bearer t1');
    server.last.error(401, 'token_expired');
    await tick();
    expect(server.streams).toHaveLength(2);
    expect(server.last.headers.get('Authorization')).toBe('Bearer t2');
    // A second 401 in a row backs off.
    server.last.error(401, 'unauthorized');
    await tick();
    expect(server.streams).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(server.streams).toHaveLength(3);
    expect(server.last.headers.get('Authorization')).toBe('Bearer t3');
    c.close();
  });

  it('refreshes on sse:token-expired and reconnects at once', async () => {
    let n = 0;
    const { c } = client({ getToken: async () => `t${++n}` });
    c.subscribe('news:item', () => {});
    await tick();
    const s = server.last.stream();
    s.ready();
    s.event('news:item', { title: 'a' }, '5');
    s.event('sse:token-expired', {});
    await tick();
    expect(s.aborted).toBe(true);
    expect(server.streams).toHaveLength(2);
    expect(server.last.headers.get('Authorization')).toBe('Bearer t2');
    expect(server.last.headers.get('Last-Event-ID')).toBe('5');
    c.close();
  });

  it('stops on 401 when there is no getToken to call', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    server.last.error(401, 'unauthorized');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.streams).toHaveLength(1);
    expect(c.getState().error).toBeInstanceOf(HttpError);
  });
});

describe('resume and control events', () => {
  it('sends Last-Event-ID on reconnect and keeps it across events without id', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    expect(server.last.headers.get('Last-Event-ID')).toBeNull();
    const s = server.last.stream();
    s.ready();
    s.event('news:item', { title: 'a' }, '1-0');
    s.event('news:item', { title: 'b' }, '2-0');
    s.end();
    await tick();
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.streams).toHaveLength(2);
    expect(server.last.headers.get('Last-Event-ID')).toBe('2-0');
    const s2 = server.last.stream();
    s2.ready({ connectionId: 'c2' });
    await tick();
    expect(c.lastEventId).toBe('2-0');
    c.close();
  });

  it('reconnects after the retry time on sse:shutdown', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    const s = server.last.stream();
    s.ready({}, 3000);
    s.event('sse:shutdown', { reason: 'restart' });
    await tick();
    expect(c.getState()).toMatchObject({ connected: false, connecting: true, error: null, reconnectAttempts: 0 });
    await vi.advanceTimersByTimeAsync(2999);
    expect(server.streams).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.streams).toHaveLength(2);
    c.close();
  });

  it('prefers the retryMs of sse:shutdown to the retry field', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    const s = server.last.stream();
    s.ready({}, 3000);
    s.event('sse:shutdown', { reason: 'max_age', retryMs: 500 });
    await tick();
    await vi.advanceTimersByTimeAsync(499);
    expect(server.streams).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.streams).toHaveLength(2);
    c.close();
  });

  it('takes the id of sse:ready on a fresh connection as the resume point', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    const s = server.last.stream();
    s.write('retry: 1000\n\nid: ep-7\nevent: sse:ready\ndata: {"connectionId":"c1","heartbeatMs":30000}\n\n');
    s.end();
    await tick();
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.last.headers.get('Last-Event-ID')).toBe('ep-7');
    // A resuming connection's sse:ready has no id: the id it sent stays.
    server.last.stream().ready();
    await tick();
    expect(c.lastEventId).toBe('ep-7');
    c.close();
  });

  it('tells the app to refetch on sse:reset', async () => {
    const onReset = vi.fn();
    const { c } = client({ onReset });
    const seen = vi.fn();
    c.subscribe('sse:reset', seen);
    await tick();
    const s = server.last.stream();
    s.ready();
    s.event('sse:reset', { reason: 'history' });
    await tick();
    expect(onReset).toHaveBeenCalledWith({ reason: 'history' });
    expect(seen).toHaveBeenCalledOnce();
    expect(c.getState().connected).toBe(true);
    c.close();
  });

  it('reconnects a stream that went silent (watchdog) but not one with heartbeats', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    const s = server.last.stream();
    s.ready({ heartbeatMs: 1000 });
    await tick();
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(1000);
      s.heartbeat();
      await tick();
    }
    expect(server.streams).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2500);
    expect(s.aborted).toBe(true);
    expect(c.getState().error).toBeInstanceOf(HeartbeatTimeoutError);
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.streams).toHaveLength(2);
    c.close();
  });
});

describe('channels', () => {
  it('joins channels at connect time and on a live connection', async () => {
    const { c } = client({ channels: ['news'], getToken: () => 'tok' });
    c.subscribe('news:item', () => {});
    await tick();
    expect(server.last.url.searchParams.get('channels')).toBe('news');
    const s = server.last.stream();
    s.ready({ connectionId: 'c9', channels: ['news'] });
    server.channels.set('c9', new Set(['news']));
    await tick();
    expect(server.posts).toEqual([]);

    await c.subscribeChannels(['conversation:1', 'conversation:2']);
    expect(server.posts).toEqual([
      { connectionId: 'c9', subscribe: ['conversation:1', 'conversation:2'], unsubscribe: [], auth: 'Bearer tok' },
    ]);
    // Counted: a second subscribe needs a second unsubscribe.
    await c.subscribeChannels(['conversation:1']);
    await c.unsubscribeChannels(['conversation:1']);
    expect(server.posts).toHaveLength(1);
    await c.unsubscribeChannels(['conversation:1', 'news']);
    expect(server.posts.at(-1)).toMatchObject({ subscribe: [], unsubscribe: ['news', 'conversation:1'] });
    expect(c.channels).toEqual(['conversation:2']);

    s.end();
    await tick();
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.last.url.searchParams.get('channels')).toBe('conversation:2');
    c.close();
  });

  it('rejects and undoes a channel the server refuses', async () => {
    server.forbidden.add('secret');
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    server.last.stream().ready();
    await tick();
    await expect(c.subscribeChannels(['secret'])).rejects.toMatchObject({ status: 403 });
    expect(c.channels).toEqual([]);
    c.close();
  });

  it('gives up on a channel change the server does not answer in 10 s', async () => {
    const { c } = client();
    c.subscribe('news:item', () => {});
    await tick();
    server.last.stream().ready();
    await tick();
    server.hangPosts = true;
    const p = c.subscribeChannels(['slow']);
    const settled = vi.fn();
    p.catch(settled);
    await vi.advanceTimersByTimeAsync(9999);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await expect(p).rejects.toBeInstanceOf(NetworkError);
    expect(c.channels).toEqual([]);
    c.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves at once while not connected and asks at connect time', async () => {
    const { c } = client();
    await c.subscribeChannels(['a']);
    c.subscribe('news:item', () => {});
    await tick();
    expect(server.last.url.searchParams.get('channels')).toBe('a');
    c.close();
  });
});
