import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'node',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    // The integration tests build and start a real ssehub binary.
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
