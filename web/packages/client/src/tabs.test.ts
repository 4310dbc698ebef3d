import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, type SSEClient } from './client.js';
import { ServiceDisabledError } from './errors.js';
import { identityKey } from './tabs.js';
import { FakeServer, fakeTabs, type FakeLocks } from './test/fake-server.js';

type Events = { 'chat:message': { conversationId: string; n: number } };

/** Waits until `cond` holds (tab messages travel through real BroadcastChannels). */
async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  const end = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let open: SSEClient<Events>[] = [];
afterEach(() => {
  for (const c of open) c.close();
  open = [];
});

/** One "tab": a client sharing `locks` and the BroadcastChannel key with the others. */
function tab(server: FakeServer, locks: FakeLocks, opts: { onReset?: () => void; key?: string } = {}) {
  const c = createClient<Events>({
    url: 'http://hub.test/api/sse',
    fetch: server.fetch,
    tabs: fakeTabs(locks),
    shareAcrossTabs: { key: opts.key ?? `test-${keySeq}` },
    getToken: () => 'tok',
    onReset: opts.onReset,
  });
  open.push(c);
  const got: string[] = [];
  c.subscribe('chat:message', (d, meta) => got.push(`${d.n}@${meta.id}`));
  return { c, got };
}

let keySeq = 0;

describe('tab sharing', () => {
  it('holds one connection for all tabs and relays events, ids and state', async () => {
    keySeq++;
    const server = new FakeServer();
    const locks = fakeTabs().fakeLocks;
    const a = tab(server, locks);
    await until(() => a.c.role === 'leader', 'a to lead');
    const b = tab(server, locks);
    await until(() => b.c.role === 'follower', 'b to follow');
    expect(server.streams).toHaveLength(1);

    const s = server.last.stream();
    s.ready();
    s.event('chat:message', { conversationId: '1', n: 1 }, 'e1');
    await until(() => b.got.length === 1 && b.c.getState().connected, 'b to get the event');
    expect(a.got).toEqual(['1@e1']);
    expect(b.got).toEqual(['1@e1']);
    expect(b.c.lastEventId).toBe('e1');
    expect(server.streams).toHaveLength(1);
  });

  it('hands over to another tab that resumes from the last id', async () => {
    keySeq++;
    const server = new FakeServer();
    const locks = fakeTabs().fakeLocks;
    const a = tab(server, locks);
    await until(() => a.c.role === 'leader', 'a to lead');
    const b = tab(server, locks);
    const c = tab(server, locks);
    await until(() => b.c.role === 'follower' && c.c.role === 'follower', 'followers');
    const s = server.last.stream();
    s.ready();
    s.event('chat:message', { conversationId: '1', n: 1 }, 'e1');
    s.event('chat:message', { conversationId: '1', n: 2 }, 'e2');
    await until(() => b.got.length === 2 && c.got.length === 2, 'relay');

    a.c.close();
    expect(s.aborted).toBe(true);
    await until(() => server.streams.length === 2, 'a new connection');
    const leader = b.c.role === 'leader' ? b : c;
    const follower = leader === b ? c : b;
    expect(follower.c.role).toBe('follower');
    expect(server.last.headers.get('Last-Event-ID')).toBe('e2');

    const s2 = server.last.stream();
    s2.ready({ connectionId: 'c2' });
    s2.event('chat:message', { conversationId: '1', n: 3 }, 'e3');
    await until(() => follower.got.length === 3, 'relay from the new leader');
    expect(leader.got).toEqual(['1@e1', '2@e2', '3@e3']);
    expect(follower.got).toEqual(['1@e1', '2@e2', '3@e3']);
  });

  it("joins a follower's channels through the leader's connection", async () => {
    keySeq++;
    const server = new FakeServer();
    const locks = fakeTabs().fakeLocks;
    const a = tab(server, locks);
    await until(() => a.c.role === 'leader', 'a to lead');
    server.last.stream().ready({ connectionId: 'c1' });
    await until(() => a.c.getState().connected, 'connected');
    const b = tab(server, locks);
    await until(() => b.c.role === 'follower' && b.c.getState().connected, 'b to follow');

    await b.c.subscribeChannels(['conversation:7']);
    expect(server.posts).toEqual([{ connectionId: 'c1', subscribe: ['conversation:7'], unsubscribe: [], auth: 'Bearer tok' }]);
    await a.c.subscribeChannels(['conversation:7']);
    await b.c.unsubscribeChannels(['conversation:7']);
    expect(server.posts).toHaveLength(1); // a still wants it

    server.forbidden.add('secret');
    await expect(b.c.subscribeChannels(['secret'])).rejects.toMatchObject({ status: 403 });
    expect(b.c.channels).toEqual([]);

    // A follower that leaves takes its channels with it.
    await b.c.subscribeChannels(['conversation:8']);
    b.c.close();
    await until(() => server.posts.at(-1)?.unsubscribe.includes('conversation:8') === true, 'unsubscribe after bye');
  });

  it('relays a stop and a reset, and lets a follower ask for a reconnect', async () => {
    keySeq++;
    const server = new FakeServer();
    const locks = fakeTabs().fakeLocks;
    const onResetA = vi.fn();
    const onResetB = vi.fn();
    const a = tab(server, locks, { onReset: onResetA });
    await until(() => a.c.role === 'leader', 'a to lead');
    const b = tab(server, locks, { onReset: onResetB });
    await until(() => b.c.role === 'follower', 'b to follow');
    const s = server.last.stream();
    s.ready();
    s.event('sse:reset', { reason: 'history' });
    await until(() => onResetB.mock.calls.length === 1, 'reset in b');
    expect(onResetA).toHaveBeenCalledOnce();

    s.event('sse:disabled', {});
    await until(() => b.c.getState().error instanceof ServiceDisabledError, 'disabled in b');
    expect(b.c.getState().connecting).toBe(false);
    b.c.reconnect();
    await until(() => server.streams.length === 2, 'reconnect');
  });

  it('releases the lock on close and when the last subscriber leaves', async () => {
    keySeq++;
    const server = new FakeServer();
    const locks = fakeTabs().fakeLocks;
    const name = `ssehub:test-${keySeq}`;
    const a = tab(server, locks);
    const b = tab(server, locks);
    await until(() => a.c.role === 'leader' && b.c.role === 'follower', 'roles');
    b.c.close();
    a.c.close();
    await until(() => !locks.busy(name), 'lock released');
    expect(server.last.signal.aborted).toBe(true);

    const c = createClient({ url: 'http://hub.test/api/sse', fetch: server.fetch, tabs: fakeTabs(locks), shareAcrossTabs: { key: `test-${keySeq}` } });
    const off = c.subscribe(() => {});
    await until(() => c.role === 'leader', 'c to lead');
    off();
    await until(() => !locks.busy(name) && c.role === 'idle', 'lock released when idle');
    expect(server.last.signal.aborted).toBe(true);
  });

  it('steps down when its page freezes and rejoins as a follower on resume', async () => {
    keySeq++;
    const server = new FakeServer();
    const locks = fakeTabs().fakeLocks;
    const docA = new EventTarget();
    vi.stubGlobal('document', docA);
    const a = tab(server, locks);
    await until(() => a.c.role === 'leader', 'a to lead');
    vi.stubGlobal('document', new EventTarget());
    const b = tab(server, locks);
    await until(() => b.c.role === 'follower', 'b to follow');
    vi.unstubAllGlobals();
    const s = server.last.stream();
    s.ready();
    s.event('chat:message', { conversationId: '1', n: 1 }, 'e1');
    await until(() => b.got.length === 1, 'relay');

    docA.dispatchEvent(new Event('freeze'));
    expect(a.c.role).toBe('idle');
    expect(s.aborted).toBe(true);
    await until(() => b.c.role === 'leader' && server.streams.length === 2, 'b to take over');
    expect(server.last.headers.get('Last-Event-ID')).toBe('e1');

    docA.dispatchEvent(new Event('resume'));
    await until(() => a.c.role === 'follower', 'a to follow');
    server.last.stream().event('chat:message', { conversationId: '1', n: 2 }, 'e2');
    await until(() => a.got.length === 2, 'relay to a');
    expect(a.got).toEqual(['1@e1', '2@e2']);
  });

  it('opens one connection per client when sharing is off', async () => {
    const server = new FakeServer();
    const mk = () =>
      createClient({ url: 'http://hub.test/api/sse', fetch: server.fetch, shareAcrossTabs: false, tabs: fakeTabs() });
    const a = mk();
    const b = mk();
    a.subscribe(() => {});
    b.subscribe(() => {});
    await until(() => server.streams.length === 2, 'two connections');
    expect(a.role).toBe('direct');
    a.close();
    b.close();
  });
});

// Issue 15: excludeConnectionId with a shared connection hid the sender's
// message from the sender's other tabs, which all read that one connection.
describe('excludeConnectionId', () => {
  it('is undefined while the connection is shared, so the other tabs get the event', async () => {
    keySeq++;
    const server = new FakeServer();
    const locks = fakeTabs().fakeLocks;
    const a = tab(server, locks);
    await until(() => a.c.role === 'leader', 'a to lead');
    const b = tab(server, locks);
    await until(() => b.c.role === 'follower', 'b to follow');
    server.last.stream().ready();
    await until(() => a.c.connectionId === 'c1', 'a to connect');
    expect(a.c.excludeConnectionId).toBeUndefined();
    expect(b.c.excludeConnectionId).toBeUndefined();
  });

  it('is the connection id when the client holds its connection alone', async () => {
    const server = new FakeServer();
    const c = createClient({ url: 'http://hub.test/api/sse', fetch: server.fetch, shareAcrossTabs: false });
    open.push(c);
    c.subscribe(() => {});
    await until(() => server.streams.length === 1, 'a stream');
    server.last.stream().ready();
    await until(() => c.connectionId === 'c1', 'to connect');
    expect(c.excludeConnectionId).toBe('c1');
  });
});

describe('identityKey', () => {
  const jwt = (claims: object) => `h.${btoa(JSON.stringify(claims)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}.s`;
  it('is the same for a fresh token of the same identity', () => {
    expect(identityKey(jwt({ sub: 'alice', tid: 'acme', exp: 1, iat: 0, jti: 'a' }))).toBe(
      identityKey(jwt({ tid: 'acme', sub: 'alice', exp: 99, iat: 50, jti: 'b' })),
    );
  });
  it('differs by tenant, user, channels or roles', () => {
    const base = identityKey(jwt({ sub: 'alice', tid: 'acme' }));
    for (const other of [{ sub: 'alice', tid: 'globex' }, { sub: 'bob', tid: 'acme' }, { sub: 'alice', tid: 'acme', channels: ['x'] }, { sub: 'alice', tid: 'acme', roles: ['admin'] }]) {
      expect(identityKey(jwt(other))).not.toBe(base);
    }
  });
  it('keys an opaque token by itself', () => {
    expect(identityKey('opaque-1')).not.toBe(identityKey('opaque-2'));
    expect(identityKey('a.b.c')).toBe('token:a.b.c');
  });
});
