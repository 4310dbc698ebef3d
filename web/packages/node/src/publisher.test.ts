import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPublisher, publishURL, SSEHubError } from './index.js';

interface Call {
  url: string;
  body: unknown;
  headers: Record<string, string>;
}

/** A fetch that answers from a script, one entry per call, and records the calls. */
function scripted(...answers: Array<Response | Error | 'hang'>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: String(input),
      body: JSON.parse(String(init?.body)),
      headers: init?.headers as Record<string, string>,
    });
    const a = answers.shift();
    if (a === undefined) throw new Error('unexpected fetch call');
    if (a === 'hang') {
      return new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
      });
    }
    if (a instanceof Error) throw a;
    return a;
  });
  return { fetch: fn as unknown as typeof fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
const accepted = (id = '1-0') => json(202, { id });
const refused = (status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  json(status, { error: { code, message: `${code} happened`, ...extra } }, headers);

type Events = {
  'chat:message': { conversationId: string; text: string };
  'system:announcement': { message: string };
};

describe('emit', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('posts the seed shape and resolves to the id', async () => {
    const f = scripted(accepted('7-0'));
    const pub = createPublisher<Events>({ url: 'http://hub:8080', token: 'tok', tenantId: 't1', fetch: f.fetch });
    const id = await pub.emit('chat:message', { conversationId: 'c1', text: 'hi' }, { channel: 'conversation:c1' }, { excludeConnectionId: 'n1-3' });
    expect(id).toBe('7-0');
    expect(f.calls).toHaveLength(1);
    const c = f.calls[0]!;
    expect(c.url).toBe('http://hub:8080/api/events');
    expect(c.headers.Authorization).toBe('Bearer tok');
    expect(c.headers['Content-Type']).toBe('application/json');
    expect(c.body).toMatchObject({
      event: 'chat:message',
      tenantId: 't1',
      data: { conversationId: 'c1', text: 'hi' },
      target: { channel: 'conversation:c1' },
      excludeConnectionId: 'n1-3',
    });
    expect((c.body as { idempotencyKey: string }).idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('takes the tenant of a tenant target, and an explicit one over the default', async () => {
    const f = scripted(accepted(), accepted());
    const pub = createPublisher({ url: 'http://hub/api/events', getToken: () => 'g', tenantId: 'dflt', fetch: f.fetch });
    await pub.emit('data:update', { id: 1 }, { tenantId: 't9' });
    await pub.emit('data:update', { id: 1 }, { userId: 'u1' }, { tenantId: 't2' });
    expect(f.calls.map((c) => (c.body as { tenantId: string }).tenantId)).toEqual(['t9', 't2']);
    expect(f.calls[0]!.headers.Authorization).toBe('Bearer g');
  });

  it('retries network errors with the same idempotency key', async () => {
    const f = scripted(new TypeError('fetch failed'), new TypeError('fetch failed'), accepted('9-0'));
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch, random: () => 0.5 });
    const p = pub.emit('x', {}, { userId: 'u' });
    await vi.advanceTimersByTimeAsync(200 + 400);
    await expect(p).resolves.toBe('9-0');
    const keys = f.calls.map((c) => (c.body as { idempotencyKey: string }).idempotencyKey);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
  });

  it('keeps a given idempotency key', async () => {
    const f = scripted(refused(503, 'broker_unavailable'), accepted());
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch });
    const p = pub.emit('x', {}, { userId: 'u' }, { idempotencyKey: 'order-42' });
    await vi.advanceTimersByTimeAsync(1000);
    await p;
    expect(f.calls.map((c) => (c.body as { idempotencyKey: string }).idempotencyKey)).toEqual(['order-42', 'order-42']);
  });

  it('honours Retry-After on 429', async () => {
    const f = scripted(refused(429, 'rate_limited', {}, { 'Retry-After': '2' }), accepted());
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch, random: () => 0.5 });
    const p = pub.emit('x', {}, { userId: 'u' });
    await vi.advanceTimersByTimeAsync(1999);
    expect(f.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(p).resolves.toBe('1-0');
    expect(f.calls).toHaveLength(2);
  });

  it('gives up at once on a Retry-After over maxRetryAfterMs', async () => {
    const f = scripted(refused(429, 'rate_limited', {}, { 'Retry-After': '120' }));
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch });
    const err = await pub.emit('x', {}, { userId: 'u' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SSEHubError);
    expect(err).toMatchObject({ status: 429, code: 'rate_limited', retryAfterMs: 120_000, attempts: 1 });
  });

  it.each([502, 503, 504])('retries %i', async (status) => {
    const f = scripted(new Response('bad gateway', { status }), accepted());
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch });
    const p = pub.emit('x', {}, { userId: 'u' });
    await vi.advanceTimersByTimeAsync(300);
    await expect(p).resolves.toBe('1-0');
  });

  it.each([
    [400, 'invalid_request'],
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [413, 'payload_too_large'],
    [422, 'unprocessable_event'],
    [500, 'internal_error'],
  ])('never retries %i', async (status, code) => {
    const f = scripted(refused(status, code, { field: 'data/message/text' }));
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch });
    const err = await pub.emit('x', {}, { userId: 'u' }).catch((e: unknown) => e);
    expect(f.calls).toHaveLength(1);
    expect(err).toBeInstanceOf(SSEHubError);
    expect(err).toMatchObject({ status, code, field: 'data/message/text', attempts: 1 });
    expect((err as Error).message).toContain(`${code} happened`);
  });

  it('reports a non-JSON error body by status', async () => {
    const f = scripted(new Response('<html>nope</html>', { status: 404, statusText: 'Not Found' }));
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch });
    await expect(pub.emit('x', {}, { userId: 'u' })).rejects.toMatchObject({ status: 404, code: 'http_404' });
  });

  it('fails with the last network error after the retries', async () => {
    const f = scripted(new TypeError('a'), new TypeError('b'), new TypeError('c'));
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch, retry: { retries: 2 } });
    const p = pub.emit('x', {}, { userId: 'u' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    const err = (await p) as SSEHubError;
    expect(err).toBeInstanceOf(SSEHubError);
    expect(err).toMatchObject({ status: 0, code: 'network_error', attempts: 3 });
    expect((err.cause as Error).message).toBe('c');
  });

  it('times out a hanging request and retries it', async () => {
    const f = scripted('hang', accepted('2-0'));
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch, timeoutMs: 1000 });
    const p = pub.emit('x', {}, { userId: 'u' });
    await vi.advanceTimersByTimeAsync(1000 + 300);
    await expect(p).resolves.toBe('2-0');
    expect(f.calls).toHaveLength(2);
  });

  it('reports a timeout when every attempt hangs', async () => {
    const f = scripted('hang', 'hang');
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch, timeoutMs: 500, retry: { retries: 1 } });
    const p = pub.emit('x', {}, { userId: 'u' }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5000);
    expect(await p).toMatchObject({ status: 0, code: 'timeout', attempts: 2 });
  });

  it('stops at once when the caller aborts, retries included', async () => {
    const f = scripted(new TypeError('down'), accepted());
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch });
    const ac = new AbortController();
    const p = pub.emit('x', {}, { userId: 'u' }, { signal: ac.signal }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    ac.abort(new Error('caller gave up'));
    expect(((await p) as Error).message).toBe('caller gave up');
    expect(f.calls).toHaveLength(1);
  });

  it('aborts a request in flight', async () => {
    const f = scripted('hang');
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch });
    const p = pub.emit('x', {}, { userId: 'u' }, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(((await p) as Error).name).toBe('AbortError');
    expect(f.calls).toHaveLength(0);
  });
});

describe('emitBatch', () => {
  it('sends an array with a key per event and resolves to the ids', async () => {
    const f = scripted(json(202, { ids: ['1-0', '2-0'] }));
    const pub = createPublisher<Events>({ url: 'http://hub', token: 't', fetch: f.fetch });
    const ids = await pub.emitBatch(
      [
        { event: 'chat:message', data: { conversationId: 'c', text: 'a' }, target: { userId: 'u1' } },
        { event: 'system:announcement', data: { message: 'm' }, target: { broadcast: true }, idempotencyKey: 'k2' },
      ],
      { tenantId: 't1' },
    );
    expect(ids).toEqual(['1-0', '2-0']);
    const body = f.calls[0]!.body as Array<{ idempotencyKey: string; tenantId?: string }>;
    expect(body).toHaveLength(2);
    expect(body[1]!.idempotencyKey).toBe('k2');
    expect(body[0]!.idempotencyKey).not.toBe('k2');
    expect(body[0]!.tenantId).toBe('t1');
  });

  it('names the failing event by index', async () => {
    const f = scripted(refused(422, 'unprocessable_event', { index: 1, field: 'data' }));
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch });
    await expect(pub.emitBatch([{ event: 'a', data: 1, target: { userId: 'u' } }, { event: 'b', data: 2, target: { userId: 'u' } }])).rejects.toMatchObject({
      status: 422,
      index: 1,
      field: 'data',
    });
  });

  it('sends nothing for an empty batch', async () => {
    const f = scripted();
    const pub = createPublisher({ url: 'http://hub', token: 't', fetch: f.fetch });
    await expect(pub.emitBatch([])).resolves.toEqual([]);
  });
});

describe('createPublisher', () => {
  it('resolves the endpoint', () => {
    expect(publishURL('http://hub:8080')).toBe('http://hub:8080/api/events');
    expect(publishURL('https://hub.example/')).toBe('https://hub.example/api/events');
    expect(publishURL('https://hub.example/sse/api/events')).toBe('https://hub.example/sse/api/events');
  });

  // Issue 15: the guide's singleton threw at `next build`, where SSEHUB_URL is only given at run time.
  it('never throws when constructed; bad options reject the first call', async () => {
    const bad = [
      { opts: { url: '/api/events', token: 't' }, want: /absolute URL/ },
      { opts: { url: 'ftp://x', token: 't' }, want: /http/ },
      { opts: { url: 'http://x' }, want: /token/ },
      { opts: { url: undefined as unknown as string, token: 't' }, want: /SSEHUB_URL/ },
    ];
    for (const { opts, want } of bad) {
      let pub: ReturnType<typeof createPublisher<Record<string, unknown>>> | undefined;
      expect(() => (pub = createPublisher(opts))).not.toThrow();
      await expect(pub!.emit('x', {}, { userId: 'u' })).rejects.toThrow(want);
    }
  });

  it('reads SSEHUB_URL and SSEHUB_PUBLISHER_TOKEN at the first call when url and token are not given', async () => {
    const saved = { url: process.env.SSEHUB_URL, token: process.env.SSEHUB_PUBLISHER_TOKEN };
    delete process.env.SSEHUB_URL;
    delete process.env.SSEHUB_PUBLISHER_TOKEN;
    try {
      const f = scripted(accepted('7-0'));
      const pub = createPublisher({ fetch: f.fetch }); // as at build time: no environment yet
      process.env.SSEHUB_URL = 'http://hub.run:8080';
      process.env.SSEHUB_PUBLISHER_TOKEN = 'run-token';
      await expect(pub.emit('x', {}, { userId: 'u' })).resolves.toBe('7-0');
      expect(f.calls[0]?.url).toBe('http://hub.run:8080/api/events');
      expect(f.calls[0]?.headers.Authorization).toBe('Bearer run-token');
      expect(pub.url).toBe('http://hub.run:8080/api/events');
    } finally {
      for (const [k, v] of [['SSEHUB_URL', saved.url], ['SSEHUB_PUBLISHER_TOKEN', saved.token]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
