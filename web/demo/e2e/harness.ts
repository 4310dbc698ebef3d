import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launch, watch } from '../../e2e/harness/browser.ts';
import { freePort } from '../../e2e/harness/ports.ts';

/** Where screenshots go: artifacts/screenshots/ at the repository root, which CI keeps. */
export const screenshotDir = process.env['DEMO_SCREENSHOT_DIR'] ?? fileURLToPath(new URL('../../../artifacts/screenshots/', import.meta.url));

/** One `ssehub` in dev mode (no key configured), as `go run ./cmd/ssehub` starts it. */
export class DevServer {
  readonly bin: string;
  port = 0;
  log = '';
  #proc: ChildProcess | undefined;

  constructor(bin: string) {
    this.bin = bin;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const proc = spawn(this.bin, ['--addr', `127.0.0.1:${this.port}`, '--heartbeat', '2s', '--log-level', 'warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#proc = proc;
    const append = (b: Buffer) => {
      this.log += b.toString();
    };
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`ssehub exited with ${proc.exitCode}:\n${this.log}`);
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`ssehub did not start:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The server, Chromium, and a browser context per person. */
export class World {
  server: DevServer;
  browser!: Browser;
  readonly #contexts: BrowserContext[] = [];

  constructor(bin: string) {
    this.server = new DevServer(bin);
  }

  async start(): Promise<void> {
    await this.server.start();
    this.browser = await launch();
  }

  async stop(): Promise<void> {
    for (const c of this.#contexts.splice(0)) await c.close().catch(() => {});
    await this.browser?.close();
    await this.server.stop();
  }

  /** A new browser context (its own storage: another person) with one page. */
  async page(label: string, viewport = { width: 1280, height: 860 }): Promise<Page> {
    const context = await this.browser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion: 'reduce' });
    this.#contexts.push(context);
    const page = await context.newPage();
    watch(page, label);
    return page;
  }

  /** Opens the demo in a new context and signs in as `name` (e.g. "Alice Martin"). */
  async signIn(name: string, viewport?: { width: number; height: number }): Promise<Page> {
    const page = await this.page(name, viewport);
    await page.goto(this.server.url + '/');
    await page.getByRole('button', { name: new RegExp(`^Sign in as ${name}`) }).click();
    await page.getByTestId('connection-status').filter({ hasText: 'Live' }).waitFor();
    return page;
  }

  /** Opens the dashboard in a new context. */
  async dashboard(viewport?: { width: number; height: number }): Promise<Page> {
    const page = await this.page('dashboard', viewport);
    await page.goto(this.server.url + '/dashboard');
    return page;
  }
}

/** Saves a full-page screenshot as <dir>/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string, dir = screenshotDir): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: false, animations: 'disabled', caret: 'hide' });
  return path;
}
