import { describe, expect, it } from 'vitest';
import { seqs, sleep, useE2E, type PageWindow } from '../harness/fixture.js';

const e2e = useE2E();

describe('@ssehub/client in Chromium against ssehub', () => {
  it('receives typed events', async () => {
    const page = await e2e.open({ token: await e2e.token('u-typed', { channels: 'news' }), channels: ['news'] });
    await e2e.until(page, (l) => l.states.some((s) => s.connected));
    const id = await e2e.hub.publish('chat:message', { conversationId: 'c1', seq: 1, text: 'hello\nworld' }, { userId: 'u-typed' });
    await e2e.hub.publish('news:item', { seq: 2, title: 'headline' }, { channel: 'news' });
    await e2e.until(page, (l) => l.events.length >= 2);
    const log = await e2e.log(page);
    expect(log.events).toEqual([
      { event: 'chat:message', id, data: { conversationId: 'c1', seq: 1, text: 'hello\nworld' } },
      { event: 'news:item', id: expect.any(String), data: { seq: 2, title: 'headline' } },
    ]);
  });

  it('reconnects with backoff when the server stops, and tells the app to refetch after a restart', async () => {
    const page = await e2e.open({ token: await e2e.token('u-restart'), share: false });
    await e2e.until(page, (l) => l.states.some((s) => s.connected));
    for (let seq = 1; seq <= 3; seq++) await e2e.hub.publish('news:item', { seq, title: 'before' }, { userId: 'u-restart' });

    // Stop at once: the server drains what was published, then sends
    // sse:shutdown; the proxy answers 502 while it is down.
    const before = e2e.requests('u-restart').length;
    await e2e.hub.stop();
    await e2e.until(page, (l) => l.events.length === 3);
    await e2e.until(page, (l) => l.states.some((s) => s.reconnectAttempts >= 2));
    await sleep(1500);
    await e2e.hub.start();
    await e2e.until(page, (l) => l.states.at(-1)?.connected === true && l.resets === 1, undefined, 20_000);

    // Attempts while it was down: after `retry` (1 s), then 1 s, 2 s, 4 s … ±10 %.
    const at = e2e.requests('u-restart').slice(before).map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    // The lower bounds are firm (a timer never fires early); the upper ones
    // leave room for a loaded CI machine.
    expect(gaps[0]).toBeGreaterThanOrEqual(850);
    expect(gaps[0]).toBeLessThan(1900);
    expect(gaps[1]).toBeGreaterThanOrEqual(1750);
    expect(gaps[1]).toBeLessThan(3200);
    const log = await e2e.log(page);
    expect(log.states.some((s) => s.error?.startsWith('HttpError: ssehub: HTTP 502'))).toBe(true);

    // The restarted server (memory broker) has a new history: sse:reset told
    // the page to refetch; new events flow again.
    await e2e.hub.publish('news:item', { seq: 4, title: 'after' }, { userId: 'u-restart' });
    await e2e.until(page, (l) => l.events.length === 4);
    expect(seqs(await e2e.log(page))).toEqual([1, 2, 3, 4]);
  });

  it('resumes from Last-Event-ID after a dropped connection without losing or repeating events', async () => {
    const page = await e2e.open({ token: await e2e.token('u-resume'), share: false });
    await e2e.until(page, (l) => l.states.some((s) => s.connected));
    for (let seq = 1; seq <= 3; seq++) await e2e.hub.publish('news:item', { seq, title: 'x' }, { userId: 'u-resume' });
    await e2e.until(page, (l) => l.events.length === 3);
    const lastId = (await e2e.log(page)).events[2]?.id;

    e2e.web.down = true;
    e2e.web.cut();
    await e2e.until(page, (l) => l.states.at(-1)?.connected === false);
    for (let seq = 4; seq <= 6; seq++) await e2e.hub.publish('news:item', { seq, title: 'missed' }, { userId: 'u-resume' });
    e2e.web.down = false;
    await e2e.until(page, (l) => l.events.length >= 6 && l.states.at(-1)?.connected === true);
    await sleep(300);

    const log = await e2e.log(page);
    expect(seqs(log)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(log.resets).toBe(0);
    expect(e2e.requests('u-resume').at(-1)?.lastEventId).toBe(lastId);
  });

  it('reconnects a stream that went silent (heartbeat watchdog)', async () => {
    const page = await e2e.open({ token: await e2e.token('u-silent'), share: false });
    await e2e.until(page, (l) => l.states.some((s) => s.connected));
    await e2e.hub.publish('news:item', { seq: 1, title: 'x' }, { userId: 'u-silent' });
    await e2e.until(page, (l) => l.events.length === 1);
    const before = e2e.requests('u-silent').length;
    const frozenAt = Date.now();
    e2e.web.freeze(); // the TCP connection stays up, but no byte arrives: 2.5 × 1 s heartbeat
    await e2e.until(page, (l) => l.states.some((s) => s.error?.startsWith('HeartbeatTimeoutError') ?? false), undefined, 10_000);
    // 2.5 s after the last byte, which came up to one heartbeat before the freeze.
    const firedAfter = Date.now() - frozenAt;
    expect(firedAfter).toBeGreaterThanOrEqual(1400);
    expect(firedAfter).toBeLessThan(5000);
    await e2e.until(page, (l) => l.states.at(-1)?.connected === true);
    expect(e2e.requests('u-silent').length).toBe(before + 1);
    await e2e.hub.publish('news:item', { seq: 2, title: 'x' }, { userId: 'u-silent' });
    await e2e.until(page, (l) => l.events.length === 2);
  });

  it('stops reconnecting on 503 sse_disabled and on sse:disabled', async () => {
    const page = await e2e.open({ token: await e2e.token('u-disabled'), share: false });
    await e2e.until(page, (l) => l.states.some((s) => s.connected));
    try {
      await e2e.hub.disable();
      // The open stream gets sse:disabled and stops.
      await e2e.until(page, (l) => l.states.at(-1)?.error?.startsWith('ServiceDisabledError') === true);

      // A new page gets 503 sse_disabled and does not retry.
      const page2 = await e2e.open({ token: await e2e.token('u-disabled2'), share: false });
      await e2e.until(page2, (l) => l.states.at(-1)?.error?.startsWith('ServiceDisabledError') === true);
      await sleep(3000);
      expect(e2e.requests('u-disabled2')).toHaveLength(1);
      const last = (await e2e.log(page2)).states.at(-1);
      expect(last).toMatchObject({ connected: false, connecting: false });
      expect((await e2e.log(page)).states.at(-1)).toMatchObject({ connected: false, connecting: false });
    } finally {
      await e2e.hub.enable();
    }
    await page.evaluate(() => (window as unknown as PageWindow).sse.client.reconnect());
    await e2e.until(page, (l) => l.states.at(-1)?.connected === true);
  });

  it('does not reconnect after sse:evicted (per-user limit 3)', async () => {
    const token = await e2e.token('u-evict');
    const first = await e2e.open({ token, share: false });
    await e2e.until(first, (l) => l.states.some((s) => s.connected));
    for (let i = 0; i < 3; i++) {
      const p = await e2e.open({ token, share: false }, { context: first.context() });
      await e2e.until(p, (l) => l.states.some((s) => s.connected));
    }
    await e2e.until(first, (l) => l.states.at(-1)?.error?.startsWith('EvictedError') === true);
    await sleep(2500);
    expect(e2e.requests('u-evict')).toHaveLength(4);
    expect((await e2e.log(first)).states.at(-1)).toMatchObject({ connected: false, connecting: false });
    expect((await e2e.hub.stats()).clientsByUser['t1/u-evict']).toBe(3);
  });

  it('refreshes an expired token: on 401 and on sse:token-expired', async () => {
    // Already expired when the page connects: 401 token_expired, then getToken().
    const stale = await e2e.token('u-token', { ttl: '1s' });
    await sleep(2100);
    const page = await e2e.open({ token: stale, tokenUrl: '/test/token?sub=u-token&ttl=2s', share: false });
    await e2e.until(page, (l) => l.states.some((s) => s.connected));
    expect((await e2e.log(page)).tokenCalls).toBe(2);

    // That token expires on the open stream: sse:token-expired, getToken(), reconnect.
    await e2e.until(page, (l) => l.tokenCalls === 3 && l.states.at(-1)?.connected === true, undefined, 10_000);
    await e2e.hub.publish('news:item', { seq: 1, title: 'fresh' }, { userId: 'u-token' });
    await e2e.until(page, (l) => l.events.length === 1);
    expect((await e2e.log(page)).resets).toBe(0);
  });

  it('falls back to EventSource: token in the query, resume with lastEventId', async () => {
    const page = await e2e.open({ token: await e2e.token('u-es'), transport: 'eventsource', share: false });
    await e2e.until(page, (l) => l.states.some((s) => s.connected));
    const req = e2e.requests('u-es').at(-1);
    expect(req?.url.searchParams.get('access_token')).toBeTruthy();
    await e2e.hub.publish('news:item', { seq: 1, title: 'x' }, { userId: 'u-es' });
    await e2e.until(page, (l) => l.events.length === 1);
    const lastId = (await e2e.log(page)).events[0]?.id;

    e2e.web.down = true;
    e2e.web.cut();
    await e2e.until(page, (l) => l.states.at(-1)?.connected === false);
    await e2e.hub.publish('news:item', { seq: 2, title: 'missed' }, { userId: 'u-es' });
    e2e.web.down = false;
    await e2e.until(page, (l) => l.events.length === 2 && l.states.at(-1)?.connected === true);
    expect(e2e.requests('u-es').at(-1)?.url.searchParams.get('lastEventId')).toBe(lastId);
    expect(seqs(await e2e.log(page))).toEqual([1, 2]);
  });
});
