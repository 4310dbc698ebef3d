import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The tests run against the client's source, not a possibly stale dist/.
  resolve: { alias: [{ find: /^@ssehub\/client$/, replacement: fileURLToPath(new URL('../client/src/index.ts', import.meta.url)) }] },
  test: {
    name: 'node',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    // The integration tests build and start a real ssehub binary.
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
