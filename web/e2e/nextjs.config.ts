import { defineConfig } from 'vitest/config';

// examples/nextjs, built with `next build` from the packed tarballs and run
// with `next start` against a real ssehub, driven in Chromium.
export default defineConfig({
  test: {
    name: 'nextjs',
    root: new URL('.', import.meta.url).pathname,
    include: ['nextjs/**/*.e2e.ts'],
    environment: 'node',
    globalSetup: ['harness/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 300_000, // next build
    teardownTimeout: 10_000,
  },
});
