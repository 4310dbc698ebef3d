import type { SSEClient } from '@ssehub/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import type { PageConfig, PageLog, TestEvents } from '../pages/events.js';
import { launch, watch } from './browser.js';
import { Hub } from './ssehub.js';
import { WebServer, type StreamRequest } from './web-server.js';

/** The globals of the client test page. */
export type PageWindow = { sse: { client: SSEClient<TestEvents>; log: PageLog } };

/** One test file's world: an ssehub, the page server in front of it, and Chromium. */
export interface E2E {
  hub: Hub;
  web: WebServer;
  browser: Browser;
  /** Opens `name` (default the client page) in a new tab of `context` (default a new context). */
  open(cfg: PageConfig, opts?: { context?: BrowserContext; name?: string }): Promise<Page>;
  /** A token for user `sub` of tenant t1. */
  token(sub: string, opts?: { channels?: string; ttl?: string }): Promise<string>;
  /** The stream requests the proxy saw from user `sub`. */
  requests(sub: string): StreamRequest[];
  /** The client page's log. */
  log(page: Page): Promise<PageLog>;
  /** Waits until the client page's log satisfies `test` (a function of the log, run in the page). */
  until(page: Page, test: (log: PageLog, arg: unknown) => boolean, arg?: unknown, timeout?: number): Promise<void>;
}

/** Starts the world before the file's tests and stops it after them. */
export function useE2E(hubArgs: string[] = []): E2E {
  const contexts: BrowserContext[] = [];
  const e2e = {
    async open(cfg: PageConfig, opts: { context?: BrowserContext; name?: string } = {}) {
      let context = opts.context;
      if (!context) {
        context = await e2e.browser.newContext();
        contexts.push(context);
      }
      const page = await context.newPage();
      watch(page, `${opts.name ?? 'client'} ${contexts.length}`);
      await page.goto(e2e.web.page(opts.name ?? 'client', cfg));
      return page;
    },
    token(sub: string, opts: { channels?: string; ttl?: string } = {}) {
      return e2e.hub.token({ sub, ...opts });
    },
    requests(sub: string) {
      return e2e.web.streamRequests.filter((r) => r.user === sub);
    },
    log(page: Page) {
      return page.evaluate(() => (window as unknown as PageWindow).sse.log);
    },
    async until(page: Page, test: (log: PageLog, arg: unknown) => boolean, arg?: unknown, timeout = 15_000) {
      await page.waitForFunction(
        ([src, a]) => {
          const fn = new Function(`return (${src as string})`)() as (log: PageLog, arg: unknown) => boolean;
          return fn((window as unknown as PageWindow).sse.log, a);
        },
        [test.toString(), arg] as const,
        { timeout, polling: 50 },
      );
    },
  } as E2E;

  beforeAll(async () => {
    e2e.hub = new Hub(inject('ssehubBin'), hubArgs);
    await e2e.hub.start();
    e2e.web = new WebServer(
      inject('pagesDir'),
      () => e2e.hub.port,
      (p) => e2e.hub.token({ sub: p.get('sub') ?? 'anon', tenant: p.get('tenant') ?? undefined, channels: p.get('channels') ?? undefined, ttl: p.get('ttl') ?? undefined }),
    );
    await e2e.web.start();
    e2e.browser = await launch();
  });

  // Each test's pages close with it, so none reconnects during the next one.
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
  });

  afterAll(async () => {
    await e2e.browser?.close();
    await e2e.web?.stop();
    await e2e.hub?.stop();
  });

  return e2e;
}

/** The `seq` of each event a page received, in order. */
export const seqs = (log: PageLog) => log.events.map((e) => (e.data as { seq: number }).seq);

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
