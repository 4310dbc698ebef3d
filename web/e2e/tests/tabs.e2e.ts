import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { seqs, sleep, useE2E, type PageWindow } from '../harness/fixture.js';

const e2e = useE2E();

const role = (page: Page) => page.evaluate(() => (window as unknown as PageWindow).sse.client.role);

describe('one connection for all tabs', () => {
  it('two tabs share one server connection', async () => {
    const token = await e2e.token('u-tabs');
    const a = await e2e.open({ token });
    await e2e.until(a, (l) => l.states.some((s) => s.connected));
    const b = await e2e.open({ token }, { context: a.context() });
    await e2e.until(b, (l) => l.states.at(-1)?.connected === true);
    expect([await role(a), await role(b)]).toEqual(['leader', 'follower']);

    const stats = await e2e.hub.stats();
    expect(stats.clientsByUser['t1/u-tabs']).toBe(1);
    expect(e2e.requests('u-tabs')).toHaveLength(1);

    const id = await e2e.hub.publish('chat:message', { conversationId: '9', seq: 1, text: 'both' }, { userId: 'u-tabs' });
    await e2e.until(a, (l) => l.events.length === 1);
    await e2e.until(b, (l) => l.events.length === 1);
    expect((await e2e.log(b)).events).toEqual([{ event: 'chat:message', id, data: { conversationId: '9', seq: 1, text: 'both' } }]);
  });

  it('hands over to another tab when the leader closes, without losing events', async () => {
    const token = await e2e.token('u-handover');
    const a = await e2e.open({ token });
    await e2e.until(a, (l) => l.states.some((s) => s.connected));
    const b = await e2e.open({ token }, { context: a.context() });
    const c = await e2e.open({ token }, { context: a.context() });
    await e2e.until(b, (l) => l.states.at(-1)?.connected === true);
    await e2e.until(c, (l) => l.states.at(-1)?.connected === true);
    expect(await role(a)).toBe('leader');

    // Publish a steady stream while the leader's tab goes away mid-way.
    const total = 40;
    const publishing = (async () => {
      for (let seq = 1; seq <= total; seq++) {
        await e2e.hub.publish('news:item', { seq, title: 't' }, { userId: 'u-handover' });
        await sleep(40);
      }
    })();
    await e2e.until(b, (l) => l.events.length >= 10);
    await a.close();
    await publishing;

    const want = Array.from({ length: total }, (_, i) => i + 1);
    for (const page of [b, c]) {
      await e2e.until(page, (l, n) => l.events.length >= (n as number), total);
      expect(seqs(await e2e.log(page))).toEqual(want);
    }
    const roles = [await role(b), await role(c)].sort();
    expect(roles).toEqual(['follower', 'leader']);
    const reqs = e2e.requests('u-handover');
    expect(reqs).toHaveLength(2);
    expect(reqs[1]?.lastEventId).toBeTruthy(); // the new leader resumed
    await sleep(300);
    expect((await e2e.hub.stats()).clientsByUser['t1/u-handover']).toBe(1);
  });

  it('can be turned off: one connection per tab', async () => {
    const token = await e2e.token('u-solo');
    const a = await e2e.open({ token, share: false });
    const b = await e2e.open({ token, share: false }, { context: a.context() });
    await e2e.until(a, (l) => l.states.some((s) => s.connected));
    await e2e.until(b, (l) => l.states.some((s) => s.connected));
    expect([await role(a), await role(b)]).toEqual(['direct', 'direct']);
    expect((await e2e.hub.stats()).clientsByUser['t1/u-solo']).toBe(2);
  });

  // Issue 15: sharing was keyed by URL alone, so a tab signed in as
  // alice@globex followed the alice@acme tab's connection and rendered acme's events.
  it('never shares between identities: alice@acme and alice@globex in one browser', async () => {
    const acme = await e2e.hub.token({ sub: 'alice', tenant: 'acme' });
    const globex = await e2e.hub.token({ sub: 'alice', tenant: 'globex' });
    const a = await e2e.open({ token: acme });
    await e2e.until(a, (l) => l.states.some((s) => s.connected));
    const b = await e2e.open({ token: globex }, { context: a.context() });
    await e2e.until(b, (l) => l.states.at(-1)?.connected === true);

    await e2e.hub.publish('news:item', { seq: 1, title: 'acme only' }, { userId: 'alice' }, 'acme');
    await e2e.hub.publish('news:item', { seq: 2, title: 'globex only' }, { userId: 'alice' }, 'globex');
    await e2e.until(a, (l) => l.events.length >= 1);
    await e2e.until(b, (l) => l.events.length >= 1);
    await sleep(300);
    expect(seqs(await e2e.log(a))).toEqual([1]);
    expect(seqs(await e2e.log(b))).toEqual([2]); // the globex tab never renders acme's event
    expect([await role(a), await role(b)]).toEqual(['leader', 'leader']);
    const stats = await e2e.hub.stats();
    expect([stats.clientsByUser['acme/alice'], stats.clientsByUser['globex/alice']]).toEqual([1, 1]);
  });

  it('leaves the old share when a tab switches account', async () => {
    const acme = await e2e.hub.token({ sub: 'bob', tenant: 'acme' });
    const a = await e2e.open({ token: acme });
    await e2e.until(a, (l) => l.states.some((s) => s.connected));
    // b starts as bob@acme (a follower of a); its next token is bob@globex.
    const b = await e2e.open({ token: acme, tokenUrl: '/test/token?sub=bob&tenant=globex' }, { context: a.context() });
    await e2e.until(b, (l) => l.states.at(-1)?.connected === true);
    expect(await role(b)).toBe('follower');

    // The app signed b in as someone else and tells the client so.
    await b.evaluate(() => (window as unknown as PageWindow).sse.client.refreshToken());
    await e2e.until(b, (l) => l.tokenCalls >= 2);
    await e2e.until(b, (l) => l.states.at(-1)?.connected === true);
    await expect.poll(() => role(b)).toBe('leader');

    await e2e.hub.publish('news:item', { seq: 1, title: 'acme only' }, { userId: 'bob' }, 'acme');
    await e2e.hub.publish('news:item', { seq: 2, title: 'globex only' }, { userId: 'bob' }, 'globex');
    await e2e.until(a, (l) => l.events.length >= 1);
    await e2e.until(b, (l) => l.events.length >= 1);
    await sleep(300);
    expect(seqs(await e2e.log(a))).toEqual([1]);
    expect(seqs(await e2e.log(b))).toEqual([2]);
  });
});
