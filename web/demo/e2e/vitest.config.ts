import { defineConfig } from 'vitest/config';

// The demo's end-to-end tests: headless Chromium against a real ssehub in
// dev mode, serving the embedded demo build.
export default defineConfig({
  test: {
    name: 'demo-e2e',
    root: new URL('.', import.meta.url).pathname,
    include: ['**/*.e2e.ts'],
    environment: 'node',
    globalSetup: ['global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 10_000,
    fileParallelism: false,
  },
});
