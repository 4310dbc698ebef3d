// A real ssehub for the integration tests: built once with `go build`,
// started on a free port with a fresh secret.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root (web/packages/node/test → ../../../..). */
export const repoDir = fileURLToPath(new URL('../../../../', import.meta.url));
/** The example catalog and its generated types. */
export const exampleCatalog = join(repoDir, 'examples/catalog/catalog.yaml');

/**
 * Builds ./cmd/ssehub (or takes $SSEHUB_BIN). Resolves to undefined (the caller skips, loudly)
 * when Go is missing, unless CI is set.
 */
export async function buildHub(): Promise<string | undefined> {
  // SSEHUB_BIN runs the tests against a prebuilt binary instead.
  if (process.env.SSEHUB_BIN) return process.env.SSEHUB_BIN;
  try {
    await run('go', ['version']);
  } catch {
    if (process.env.CI) throw new Error('CI is set but go is not installed: cannot build ssehub');
    console.warn('SKIPPING the @ssehub/node integration tests: go is not installed to build ssehub');
    return undefined;
  }
  const bin = join(mkdtempSync(join(tmpdir(), 'ssehub-node-')), 'ssehub');
  await run('go', ['build', '-o', bin, './cmd/ssehub'], { cwd: repoDir }).catch((e: Error & { stderr?: string }) => {
    throw new Error(`go build ./cmd/ssehub failed:\n${e.stderr ?? e.message}`);
  });
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export class Hub {
  readonly secret = randomBytes(24).toString('hex');
  port = 0;
  log = '';
  #proc: ChildProcess | undefined;

  constructor(
    readonly bin: string,
    readonly args: string[] = [],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Whether this binary has the --catalog flag (the catalog is wired into the server). */
  async hasCatalogFlag(): Promise<boolean> {
    const out = await run(this.bin, ['serve', '-h']).then(
      (r) => r.stdout + r.stderr,
      (e: { stdout?: string; stderr?: string }) => (e.stdout ?? '') + (e.stderr ?? ''),
    );
    return /-catalog\b/.test(out);
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const proc = spawn(this.bin, ['--addr', `127.0.0.1:${this.port}`, '--jwt-secret', this.secret, '--heartbeat', '1s', ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#proc = proc;
    const append = (b: Buffer) => {
      this.log += b.toString();
    };
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    const deadline = Date.now() + 15_000;
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
  async token(sub: string, opts: { tenant?: string; role?: string; channels?: string } = {}): Promise<string> {
    const args = ['token', '--jwt-secret', this.secret, '--sub', sub];
    // A token with no tenant acts on every tenant only with the global claim.
    if (opts.tenant !== '') args.push('--tenant', opts.tenant ?? 't1');
    else args.push('--global');
    if (opts.role) args.push('--role', opts.role);
    if (opts.channels) args.push('--channels', opts.channels);
    const { stdout } = await run(this.bin, args);
    return stdout.trim();
  }
}
