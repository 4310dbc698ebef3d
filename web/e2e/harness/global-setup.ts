import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { CHROMIUM } from './browser.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The ssehub binary built for this run. */
    ssehubBin: string;
    /** Bundled test pages: <name>.js for each entry in pages/. */
    pagesDir: string;
  }
}

const run = promisify(execFile);
const webDir = fileURLToPath(new URL('../../', import.meta.url));
const repoDir = join(webDir, '..');

/** Builds the ssehub binary and the test pages once for all test files. */
export default async function setup(project: TestProject): Promise<() => void> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`e2e: ${CHROMIUM} is missing; install it with: apt-get install -y chromium`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-e2e-'));
  const bin = join(dir, 'ssehub');
  const pagesDir = join(dir, 'pages');

  // SSEHUB_E2E_BIN runs the tests against a binary built elsewhere.
  const prebuilt = process.env['SSEHUB_E2E_BIN'];
  await Promise.all([
    prebuilt
      ? Promise.resolve()
      : run('go', ['build', '-o', bin, './cmd/ssehub'], { cwd: repoDir }).catch((e: Error & { stderr?: string }) => {
          throw new Error(`e2e: go build ./cmd/ssehub failed:\n${e.stderr ?? e.message}`);
        }),
    bundlePages(pagesDir),
  ]);

  project.provide('ssehubBin', prebuilt || bin);
  project.provide('pagesDir', pagesDir);
  return () => rmSync(dir, { recursive: true, force: true });
}

async function bundlePages(outdir: string): Promise<void> {
  const pages = join(webDir, 'e2e', 'pages');
  const common = {
    bundle: true,
    format: 'esm' as const,
    target: 'chrome120',
    sourcemap: 'inline' as const,
    logLevel: 'warning' as const,
    // Development React, so StrictMode double-invokes effects as in an app under development.
    define: { 'process.env.NODE_ENV': '"development"' },
  };
  await build({ ...common, entryPoints: { client: join(pages, 'client-page.ts'), react: join(pages, 'react-page.tsx'), wpt: join(pages, 'wpt-page.ts') }, outdir });
  const react18 = join(webDir, 'fixtures', 'react18', 'node_modules');
  await build({
    ...common,
    entryPoints: { react18: join(pages, 'react-page.tsx') },
    outdir,
    alias: { react: join(react18, 'react'), 'react-dom': join(react18, 'react-dom') },
  });
  writeFileSync(join(outdir, 'BUILT'), new Date().toISOString());
}
