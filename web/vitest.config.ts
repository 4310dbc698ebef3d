import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const react18 = fileURLToPath(new URL('./fixtures/react18/node_modules/', import.meta.url));
// Unit tests of the React bindings run against the client's source, not a possibly stale dist/.
const clientSource = { find: /^@ssehub\/client$/, replacement: fileURLToPath(new URL('./packages/client/src/index.ts', import.meta.url)) };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'client',
          root: 'packages/client',
          include: ['src/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        resolve: { alias: [clientSource] },
        test: {
          name: 'react',
          root: 'packages/react',
          include: ['src/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
        },
      },
      {
        // The same tests against React 18.
        resolve: {
          alias: [
            clientSource,
            { find: /^react$/, replacement: `${react18}react/index.js` },
            { find: /^react\/(.*)$/, replacement: `${react18}react/$1` },
            { find: /^react-dom$/, replacement: `${react18}react-dom/index.js` },
            { find: /^react-dom\/(.*)$/, replacement: `${react18}react-dom/$1` },
          ],
        },
        test: {
          name: 'react18',
          root: 'packages/react',
          include: ['src/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
        },
      },
    ],
  },
});
