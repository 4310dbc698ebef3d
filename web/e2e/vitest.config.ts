import { defineConfig } from 'vitest/config';

// End-to-end tests: headless Chromium against a real ssehub binary.
export default defineConfig({
  test: {
    name: 'e2e',
    root: new URL('.', import.meta.url).pathname,
    include: ['tests/**/*.e2e.ts'],
    environment: 'node',
    globalSetup: ['harness/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 10_000,
    // Each file starts its own server and browser; a few at a time keeps the
    // timing-sensitive tests (backoff, watchdog) honest on small machines.
    maxWorkers: 3,
  },
});
