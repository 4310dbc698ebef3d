// Issue 15's example app: examples/nextjs (App Router), installed from the
// tarballs of web/scripts/pack.sh, built with `next build`, run with `next
// start` in front of a real ssehub on Redis (rewrites put both on one
// origin), driven in Chromium. Tab sharing is on: all tabs are in one browser profile.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, watch } from '../harness/browser.js';
import { freePort } from '../harness/ports.js';
import { Hub } from '../harness/ssehub.js';

const app = fileURLToPath(new URL('../../../examples/nextjs/', import.meta.url));
const catalog = fileURLToPath(new URL('../../../examples/catalog/catalog.yaml', import.meta.url));

let hub: Hub;
let next: ChildProcess | undefined;
let nextLog = '';
let base = '';
let browser: Browser;
let context: BrowserContext;

function run(cmd: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: app, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}\n${out}`))));
  });
}

beforeAll(async () => {
  // Redis, so that a restart keeps the history (a prefix of its own per run).
  const broker = `redis://127.0.0.1:6379/0?prefix=nextjs-e2e-${randomBytes(4).toString('hex')}`;
  hub = new Hub(inject('ssehubBin'), ['--catalog', catalog, '--broker', broker]);
  hub.port = await freePort();
  const env = {
    SSEHUB_URL: hub.url, // rewrites are worked out at build time: the same URL for build and start
    SSEHUB_JWT_SECRET: hub.secret,
    NEXT_TELEMETRY_DISABLED: '1',
  };
  await run('npx', ['next', 'build'], env);
  await hub.start();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  next = spawn('npx', ['next', 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: app,
    env: { ...process.env, ...env, SSEHUB_PUBLISHER_TOKEN: await hub.token({ sub: 'next-app', role: 'publisher', tenant: '', global: true }) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // npx and next in one process group, stopped together
  });
  next.stdout?.on('data', (b: Buffer) => (nextLog += b.toString()));
  next.stderr?.on('data', (b: Buffer) => (nextLog += b.toString()));
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 200) throw new Error(`next start did not answer:\n${nextLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await launch();
  context = await browser.newContext();
});

afterAll(async () => {
  if (process.env['CI'] || process.env['NEXTJS_E2E_LOG']) console.log(`next start said:\n${nextLog.slice(-3000)}`);
  await browser?.close();
  if (next?.pid && next.exitCode === null) {
    const exited = new Promise<void>((r) => next!.once('exit', () => r()));
    process.kill(-next.pid, 'SIGTERM');
    await exited;
  }
  await hub?.stop();
});

async function open(user: string): Promise<Page> {
  const page = await context.newPage();
  watch(page, user);
  await page.goto(`${base}/?user=${encodeURIComponent(user)}`);
  await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 15_000 }).toBe('live');
  return page;
}

const items = (page: Page, id: string) => page.getByTestId(id).locator('li').allTextContents();

describe('examples/nextjs', () => {
  it('renders the signed-in page from the server (SSR) and says connecting, not reconnecting', async () => {
    const html = await (await fetch(`${base}/?user=alice%40acme`)).text();
    expect(html).toContain('connecting…');
    expect(html).not.toContain('reconnecting');
  });

  it('two tenants in one browser never see each other: data:update, notifications and chat', async () => {
    const acme = await open('alice@acme');
    const globex = await open('alice@globex');
    await acme.getByTestId('new-invoice').click();
    await expect.poll(() => items(acme, 'invoices').then((l) => l.length)).toBe(1);
    await globex.getByTestId('new-invoice').click();
    await expect.poll(() => items(globex, 'invoices').then((l) => l.length)).toBe(1);
    // Each sees only its own tenant's invoice.
    await new Promise((r) => setTimeout(r, 500));
    expect(await items(acme, 'invoices')).toHaveLength(1);
    expect(await items(globex, 'invoices')).toHaveLength(1);
    expect(await items(acme, 'invoices')).not.toEqual(await items(globex, 'invoices'));

    // A route handler notifies alice of acme only.
    const res = await fetch(`${base}/api/notify`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: 'bob@acme', to: 'alice', title: 'for acme' }),
    });
    expect(res.status).toBe(202);
    await expect.poll(() => items(acme, 'notifications')).toEqual(['for acme']);
    await new Promise((r) => setTimeout(r, 500));
    expect(await items(globex, 'notifications')).toEqual([]);
    await acme.close();
    await globex.close();
  });

  it("the sender's other tab shows the sent message", async () => {
    const a1 = await open('bob@acme');
    const a2 = await open('bob@acme');
    await a1.getByTestId('draft').fill('hello from tab 1');
    await a1.getByTestId('send').click();
    await expect.poll(() => items(a2, 'messages')).toEqual(['bob: hello from tab 1']);
    await expect.poll(() => items(a1, 'messages')).toEqual(['bob: hello from tab 1']); // once, not twice
    await a1.close();
    await a2.close();
  });

  it('typing in a three-person chat clears per sender', async () => {
    const alice = await open('alice@acme');
    const carol = await open('carol@acme');
    const bob = await open('bob@acme');
    await alice.getByTestId('typing-on').click();
    await carol.getByTestId('typing-on').click();
    await expect.poll(() => bob.getByTestId('typing').textContent(), { timeout: 10_000 }).toBe('alice, carol typing');
    await alice.getByTestId('typing-off').click();
    await carol.getByTestId('typing-on').click();
    await expect.poll(() => bob.getByTestId('typing').textContent(), { timeout: 10_000 }).toBe('carol typing');
    for (const p of [alice, carol, bob]) await p.close();
  });

  it('a restart of ssehub on Redis loses nothing: the page resumes, no sse:reset', async () => {
    const page = await open('bob@acme');
    const invoice = (id: string) => hub.publish('data:update', { entity: 'invoice', action: 'create', id }, { tenantId: 'acme' }, 'acme');
    await invoice('before');
    await expect.poll(() => items(page, 'invoices')).toEqual(['before']);
    await hub.stop(); // SIGTERM: sse:shutdown, the page reconnects after retry
    await hub.start();
    await invoice('after-1');
    await invoice('after-2');
    await expect.poll(() => items(page, 'invoices'), { timeout: 15_000 }).toEqual(['before', 'after-1', 'after-2']);
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 15_000 }).toBe('live');
    expect(await page.getByTestId('resets').textContent()).toBe('0');
    await page.close();
  });

  it('sign-out stops the client: no stream is left for the user', async () => {
    const page = await open('carol@acme');
    await expect.poll(async () => (await hub.stats()).clientsByUser['acme/carol'] ?? 0).toBe(1);
    await page.getByTestId('sign-out').click();
    await page.waitForURL(`${base}/`);
    await expect.poll(async () => (await hub.stats()).clientsByUser['acme/carol'] ?? 0, { timeout: 10_000 }).toBe(0);
    await page.close();
  });
});
