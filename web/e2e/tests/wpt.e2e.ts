// The stream resources of web-platform-tests eventsource/ (status-error,
// message with a MIME type, last-event-id, last-event-id2), served by a
// small local server, run in Chromium three ways on the same server:
// Chromium's own EventSource (the reference), and @ssehub/client with each
// transport. Where ssehub differs from EventSource on purpose, the test
// says so.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, watch } from '../harness/browser.js';
import { freePort } from '../harness/ports.js';
import type { WptEntry } from '../pages/wpt-page.js';

type Who = 'native' | 'fetch' | 'eventsource';
type Req = { path: string; at: number; lastEventId: string | undefined; header: boolean };

let server: Server;
let origin = '';
let browser: Browser;
const reqs: Req[] = [];

beforeAll(async () => {
  const pagesDir = inject('pagesDir');
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const h = req.headers['last-event-id'];
    // Node reads header bytes as latin1; the id's bytes are UTF-8.
    const header = typeof h === 'string' ? Buffer.from(h, 'latin1').toString('utf8') : undefined;
    // ssehub's EventSource transport resumes with ?lastEventId= (EventSource cannot set headers).
    const lastEventId = header ?? url.searchParams.get('lastEventId') ?? undefined;
    if (url.pathname !== '/wpt.html' && url.pathname !== '/wpt.js') reqs.push({ path: url.pathname + url.search, at: Date.now(), lastEventId, header: header !== undefined });
    const sse = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' };
    switch (url.pathname) {
      case '/wpt.html':
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return res.end('<!doctype html><meta charset="utf-8"><title>wpt</title><script type="module" src="/wpt.js"></script>');
      case '/wpt.js':
        return void readFile(join(pagesDir, 'wpt.js')).then((b) => res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(b));
      case '/status-error': // resources/status-error.py
        res.writeHead(Number(url.searchParams.get('status')), sse);
        return res.end('data: data\n\n');
      case '/message': // resources/message.py
        res.writeHead(200, { 'Content-Type': url.searchParams.get('mime') ?? 'text/event-stream' });
        return res.end(`${url.searchParams.get('message') ?? 'data: data'}\n\n\n`);
      case '/last-event-id': // resources/last-event-id.py
        res.writeHead(200, sse);
        return res.end(lastEventId ? `data: ${lastEventId}\n\n` : 'id: …\nretry: 200\ndata: hello\n\n');
      case '/last-event-id2': // resources/last-event-id2.py, type 3 (ID_RESETS)
        res.writeHead(200, sse);
        return res.end('id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n');
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

/**
 * Opens the page, runs `path` through `who` until `done` (then `settleMs`
 * more, to see that nothing follows), and returns the log and the requests.
 */
async function run(who: Who, path: string, done: (log: WptEntry[], n: number) => boolean, settleMs = 0, timeout = 8000) {
  const context = await browser.newContext();
  try {
    const page: Page = await context.newPage();
    watch(page, `wpt ${who}`);
    await page.goto(`${origin}/wpt.html`);
    await page.waitForFunction(() => 'wpt' in window);
    const from = reqs.length;
    const resource = path.split('?')[0] as string;
    const mine = () => reqs.slice(from).filter((r) => r.path.startsWith(resource));
    await page.evaluate(([w, p]) => (window as unknown as { wpt: { run(w: string, p: string): void } }).wpt.run(w as string, p as string), [who, path]);
    const end = Date.now() + timeout;
    let log: WptEntry[] = [];
    for (;;) {
      log = await page.evaluate(() => (window as unknown as { wpt: { log: WptEntry[] } }).wpt.log);
      if (done(log, mine().length)) break;
      if (Date.now() > end) throw new Error(`${who} ${path}: timed out; log ${JSON.stringify(log)}; requests ${JSON.stringify(mine())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (settleMs > 0) {
      await new Promise((r) => setTimeout(r, settleMs));
      log = await page.evaluate(() => (window as unknown as { wpt: { log: WptEntry[] } }).wpt.log);
    }
    await page.evaluate(() => (window as unknown as { wpt: { stop(): void } }).wpt.stop());
    return { log, requests: mine() };
  } finally {
    await context.close();
  }
}

const messages = (log: WptEntry[]) => log.filter((e) => e.kind === 'message').map((e) => ({ data: e.data, id: e.id }));
const lastState = (log: WptEntry[]) => log.filter((e) => e.kind === 'state').at(-1);

describe('WPT eventsource resources in Chromium', () => {
  // request-status-error.htm: EventSource ends CLOSED without a message.
  for (const status of [204, 404]) {
    for (const who of ['native', 'fetch', 'eventsource'] as const) {
      it(`status ${status} stops (${who})`, async () => {
        const settled = (log: WptEntry[]) =>
          who === 'native' ? log.some((e) => e.kind === 'error') : lastState(log)?.connecting === false;
        // 1.5 s more than the first backoff: no retry may follow.
        const { log, requests } = await run(who, `/status-error?status=${status}`, settled, 1500);
        // The EventSource transport asks the status with fetch once EventSource gave up.
        expect(requests).toHaveLength(who === 'eventsource' ? 2 : 1);
        expect(messages(log)).toEqual([]);
        if (who === 'native') expect(log.find((e) => e.kind === 'error')?.readyState).toBe(2);
        // Both transports report the status EventSource hides.
        else expect(lastState(log)?.error).toMatch(new RegExp(`^HttpError: ssehub: HTTP ${status}`));
      });
    }
  }

  // format-mime-bogus.htm: a wrong type fails the stream without a message.
  for (const who of ['native', 'fetch', 'eventsource'] as const) {
    it(`a wrong content type fails (${who})`, async () => {
      const path = `/message?mime=text/plain&message=${encodeURIComponent('data: data')}`;
      const { log, requests } = await run(
        who,
        path,
        (log, n) => (who === 'native' ? log.some((e) => e.kind === 'error') : who === 'fetch' ? n >= 2 : lastState(log)?.connecting === false),
        who === 'fetch' ? 0 : 1500,
      );
      expect(messages(log)).toEqual([]);
      if (who !== 'fetch') expect(requests).toHaveLength(who === 'eventsource' ? 2 : 1); // EventSource, then the status probe
      if (who === 'native') expect(log.find((e) => e.kind === 'error')?.readyState).toBe(2);
      // Deliberate difference: the fetch transport reports it and retries with backoff (a proxy's error page).
      if (who === 'fetch') {
        expect(log.some((e) => e.error?.startsWith('HttpError: ssehub: HTTP 200'))).toBe(true);
        expect(requests.length).toBeGreaterThanOrEqual(2);
      }
      if (who === 'eventsource') expect(lastState(log)?.error).toMatch(/^StreamRefusedError/);
    });
  }

  // MIME types compare case-insensitively; a longer subtype is another type.
  for (const who of ['native', 'fetch', 'eventsource'] as const) {
    it(`Text/Event-Stream is an event stream, text/event-streams is not (${who})`, async () => {
      const ok = await run(who, `/message?mime=${encodeURIComponent('Text/Event-Stream')}&message=${encodeURIComponent('data: ok')}`, (log) => messages(log).length >= 1);
      expect(messages(ok.log)[0]).toEqual({ data: 'ok', id: '' });
      const bad = await run(
        who,
        `/message?mime=${encodeURIComponent('text/event-streams')}&message=${encodeURIComponent('data: bad')}`,
        (log, n) => (who === 'native' ? log.some((e) => e.kind === 'error') : who === 'fetch' ? n >= 2 : lastState(log)?.connecting === false),
      );
      expect(messages(bad.log)).toEqual([]);
    });
  }

  // format-utf-8: the stream is UTF-8 whatever the charset says. Chromium
  // deviates from WHATWG here: its EventSource refuses a charset other than
  // UTF-8 (readyState CLOSED), so the EventSource transport does too; the
  // fetch transport follows the spec.
  for (const who of ['native', 'fetch', 'eventsource'] as const) {
    it(`charset=windows-1252 (${who})`, async () => {
      const path = `/message?mime=${encodeURIComponent('text/event-stream;charset=windows-1252')}&message=${encodeURIComponent('data:ok…')}`;
      const { log } = await run(who, path, (log) =>
        who === 'fetch' ? messages(log).length >= 1 : who === 'native' ? log.some((e) => e.kind === 'error') : lastState(log)?.connecting === false,
      );
      if (who === 'fetch') expect(messages(log)[0]).toEqual({ data: 'ok…', id: '' });
      if (who === 'native') expect(log.find((e) => e.kind === 'error')?.readyState).toBe(2);
      if (who === 'eventsource') expect(lastState(log)?.error).toMatch(/^StreamRefusedError/);
    });
  }

  // format-field-id.htm, format-field-id-2: a UTF-8 id is sent back on
  // reconnect (as UTF-8 bytes) after the stream's retry: 200, and events
  // without an id keep it.
  for (const who of ['native', 'fetch', 'eventsource'] as const) {
    it(`sends a UTF-8 Last-Event-ID after retry: 200 (${who})`, async () => {
      const { log, requests } = await run(who, '/last-event-id', (log) => messages(log).length >= 2);
      expect(messages(log).slice(0, 2)).toEqual([
        { data: 'hello', id: '…' },
        { data: '…', id: '…' },
      ]);
      expect(requests[0]?.lastEventId).toBeUndefined();
      expect(requests[1]?.lastEventId).toBe('…');
      expect(requests[1]?.header).toBe(who !== 'eventsource'); // the EventSource transport resumes with ?lastEventId=
      const gap = (requests[1]?.at ?? 0) - (requests[0]?.at ?? 0);
      expect(gap).toBeGreaterThanOrEqual(150);
      // EventSource hides retry: from the client, which then waits its own 1 s base.
      expect(gap).toBeLessThan(who === 'eventsource' ? 2500 : 800);
    });
  }

  // format-field-id-3.htm (resets): an empty id: clears the id, and the
  // reconnect sends none.
  for (const who of ['native', 'fetch', 'eventsource'] as const) {
    it(`an empty id: resets the last event ID (${who})`, async () => {
      const { log, requests } = await run(who, '/last-event-id2', (log, n) => messages(log).length >= 3 && n >= 2);
      expect(messages(log).slice(0, 3)).toEqual([
        { data: '1', id: '1' },
        { data: '2', id: '' },
        { data: '3', id: '' },
      ]);
      expect(requests[1]?.lastEventId).toBeUndefined();
    });
  }
});
