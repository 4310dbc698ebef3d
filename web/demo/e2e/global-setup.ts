import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { CHROMIUM } from '../../e2e/harness/browser.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The ssehub binary under test. */
    ssehubBin: string;
  }
}

const repoDir = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Builds ./cmd/ssehub from the tree once: the binary embeds the committed
 * demo build (internal/server/demo/static), which is what the tests load.
 * SSEHUB_E2E_BIN tests a binary built elsewhere.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  if (!existsSync(CHROMIUM)) throw new Error(`demo e2e: ${CHROMIUM} is missing; install it with: apt-get install -y chromium`);
  const prebuilt = process.env['SSEHUB_E2E_BIN'];
  if (prebuilt) {
    project.provide('ssehubBin', prebuilt);
    return () => {};
  }
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-demo-e2e-'));
  const bin = join(dir, 'ssehub');
  await promisify(execFile)('go', ['build', '-o', bin, './cmd/ssehub'], { cwd: repoDir }).catch((e: Error & { stderr?: string }) => {
    throw new Error(`demo e2e: go build ./cmd/ssehub failed:\n${e.stderr ?? e.message}`);
  });
  project.provide('ssehubBin', bin);
  return () => rmSync(dir, { recursive: true, force: true });
}
