import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from './client.js';

/** A real HTTP server on a loopback port: each stream request gets the next of `bodies` (the last one ever after). */
async function serve(bodies: string[]): Promise<{ url: string; reqs: IncomingMessage[]; server: Server }> {
  const reqs: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    const body = bodies[Math.min(reqs.length, bodies.length - 1)] as string;
    reqs.push(req);
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/sse`, reqs, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const until = async (cond: () => boolean, what: () => string, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** The Last-Event-ID bytes of a request as UTF-8 text (Node reads header bytes as latin1). */
const lastEventIdOf = (req: IncomingMessage) => {
  const v = req.headers['last-event-id'];
  return v === undefined ? undefined : Buffer.from(String(v), 'latin1').toString('utf8');
};

describe('last event ID over real fetch', () => {
  it('sends a non-ISO-8859-1 id as its UTF-8 bytes, as browsers do, and keeps reconnecting', async () => {
    const { url, reqs } = await serve(['id: é…€😀\ndata: 1\n\n', 'data: 2\n\n']);
    const c = createClient({ url, shareAcrossTabs: false, backoff: { baseMs: 10 } });
    const ids: string[] = [];
    c.subscribe('message', (_d, meta) => ids.push(meta.id));
    await until(
      () => reqs.length >= 3,
      () => `${reqs.length} requests; state error: ${String(c.getState().error)}, cause: ${String(c.getState().error?.cause)}`,
    );
    c.close();
    expect(reqs.map(lastEventIdOf)).toEqual([undefined, 'é…€😀', 'é…€😀']);
    expect(ids.slice(0, 2)).toEqual(['é…€😀', 'é…€😀']);
  });

  it('sends no Last-Event-ID after an empty id:, and the id of an id-only block', async () => {
    const { url, reqs } = await serve(['id: 1\ndata: a\n\nid\ndata: b\n\n', 'id: 5\n\n', 'data: c\n\n']);
    const c = createClient({ url, shareAcrossTabs: false, backoff: { baseMs: 10 } });
    c.subscribe('message', () => {});
    await until(
      () => reqs.length >= 3,
      () => `${reqs.length} requests; state error: ${String(c.getState().error)}, cause: ${String(c.getState().error?.cause)}`,
    );
    c.close();
    expect(reqs.slice(0, 3).map(lastEventIdOf)).toEqual([undefined, undefined, '5']);
  });

  it('sends an id with control characters or surrounding spaces as ?lastEventId=, and does not wedge', async () => {
    const { url, reqs } = await serve(['id: \u0001a\u007f\ndata: 1\n\n', 'id:  b \ndata: 2\n\n', 'data: 3\n\n']);
    const c = createClient({ url, shareAcrossTabs: false, backoff: { baseMs: 10 } });
    c.subscribe('message', () => {});
    await until(
      () => reqs.length >= 3,
      () => `${reqs.length} requests; state error: ${String(c.getState().error)}, cause: ${String(c.getState().error?.cause)}`,
    );
    c.close();
    // Neither survives as a header (a control character fails the request; fetch trims spaces): both go as ?lastEventId=.
    expect(reqs.slice(1, 3).map(lastEventIdOf)).toEqual([undefined, undefined]);
    expect(reqs.slice(1, 3).map((r) => new URL(r.url ?? '', 'http://x').searchParams.get('lastEventId'))).toEqual(['\u0001a\u007f', ' b ']);
    expect(c.lastEventId).toBe(' b ');
  });
});

