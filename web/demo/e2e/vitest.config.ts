import { defineConfig } from 'vitest/config';

// The demo's tests: the dashboard's arithmetic (src/**/*.test.ts) and the
// end-to-end tests, headless Chromium against a real ssehub in dev mode
// serving the embedded demo build.
export default defineConfig({
  test: {
    name: 'demo-e2e',
    root: new URL('..', import.meta.url).pathname,
    include: ['e2e/**/*.e2e.ts', 'src/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['e2e/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 10_000,
    fileParallelism: false,
  },
});
