import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

/** Claims of a token minted by `ssehub token`. */
export interface TokenSpec {
  sub: string;
  /** Undefined means t1; '' means none (a publisher of every tenant). */
  tenant?: string;
  role?: 'publisher' | 'admin';
  channels?: string;
  /** The "global": true claim: the roles apply to every tenant. */
  global?: boolean;
  /** A Go duration, e.g. '2s'. Undefined means the CLI default (1h). */
  ttl?: string;
}

/** A target of POST /api/events. */
export type Target =
  | { userId: string }
  | { userIds: string[] }
  | { tenantId: string }
  | { channel: string }
  | { broadcast: true };

/**
 * Hub runs one real `ssehub` process on a free port with a fresh secret, and
 * talks to it the way a backend and an admin would.
 */
export class Hub {
  readonly bin: string;
  readonly secret = randomBytes(24).toString('hex');
  readonly args: string[];
  port = 0;
  log = '';
  #proc: ChildProcess | undefined;
  readonly #publishers = new Map<string, string>(); // tenant → a publisher token bound to it
  #admin: string | undefined;

  constructor(bin: string, args: string[] = []) {
    this.bin = bin;
    this.args = args;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the server (on the same port as before, after a stop) and waits until it answers. */
  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const proc = spawn(
      this.bin,
      ['--addr', `127.0.0.1:${this.port}`, '--jwt-secret', this.secret, '--heartbeat', '1s', '--log-level', 'debug', ...this.args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
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
        const res = await fetch(`${this.url}/healthz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`ssehub did not start:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the server gracefully (SIGTERM: it sends sse:shutdown) and waits for it to exit. */
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

  /** Mints a token with `ssehub token`. */
  async token(spec: TokenSpec): Promise<string> {
    const args = ['token', '--jwt-secret', this.secret, '--sub', spec.sub];
    if (spec.tenant !== '') args.push('--tenant', spec.tenant ?? 't1');
    if (spec.role) args.push('--role', spec.role);
    if (spec.global) args.push('--global');
    if (spec.channels) args.push('--channels', spec.channels);
    if (spec.ttl) args.push('--ttl', spec.ttl);
    const { stdout } = await run(this.bin, args);
    return stdout.trim();
  }

  /** Publishes one event as a backend would; returns its id. */
  async publish(event: string, data: unknown, target: Target, tenantId = 't1'): Promise<string> {
    let publisher = this.#publishers.get(tenantId);
    if (!publisher) {
      publisher = await this.token({ sub: 'backend', role: 'publisher', tenant: tenantId });
      this.#publishers.set(tenantId, publisher);
    }
    const res = await fetch(`${this.url}/api/events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${publisher}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ event, tenantId, data, target }),
    });
    const body = (await res.json()) as { id?: string };
    if (res.status !== 202 || !body.id) throw new Error(`publish: ${res.status} ${JSON.stringify(body)}`);
    return body.id;
  }

  /** GET /api/sse/stats with an admin token. */
  async stats(): Promise<{ totalClients: number; clientsByUser: Record<string, number> }> {
    const res = await this.#adminFetch('/api/sse/stats', 'GET');
    return (await res.json()) as { totalClients: number; clientsByUser: Record<string, number> };
  }

  async disable(): Promise<void> {
    await this.#adminFetch('/api/admin/sse/disable', 'POST');
  }

  async enable(): Promise<void> {
    await this.#adminFetch('/api/admin/sse/enable', 'POST');
  }

  async #adminFetch(path: string, method: string): Promise<Response> {
    this.#admin ??= await this.token({ sub: 'admin', role: 'admin', global: true });
    const res = await fetch(`${this.url}${path}`, { method, headers: { Authorization: `Bearer ${this.#admin}` } });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res;
  }
}
