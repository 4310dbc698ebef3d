import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// The build is committed inside the Go package that embeds it, so that
// `go run ./cmd/ssehub` needs no Node. DEMO_OUT_DIR builds elsewhere (CI
// compares that build with the committed one).
const outDir = process.env['DEMO_OUT_DIR'] ?? join(here, '../../internal/server/demo/static');

export default defineConfig({
  root: here,
  base: '/',
  plugins: [sourcesHash()],
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    rolldownOptions: {
      // @ssehub/react marks its modules 'use client' for Next.js; a
      // browser bundle has no use for the directive.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
      output: {
        // Fixed names: the Go server revalidates them with ETags.
        entryFileNames: 'assets/app.js',
        chunkFileNames: 'assets/[name].js',
        assetFileNames: 'assets/app[extname]',
      },
    },
  },
  server: {
    // `npm run dev` against a running `go run ./cmd/ssehub`.
    proxy: { '/api': process.env['SSEHUB_URL'] ?? 'http://127.0.0.1:8080' },
  },
});

/**
 * Emits sources.sha256, the hash of the sources the build came from. The Go
 * test internal/server/demo TestBuildIsFresh computes the same hash from the
 * tree and fails when the committed build is older than the sources.
 * The hash: for each file (sorted by path), "path\n" + sha256(content with
 * CRLF as LF) in hex + "\n"; then sha256 of all that, in hex.
 */
function sourcesHash(): Plugin {
  return {
    name: 'ssehub-sources-hash',
    apply: 'build',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'sources.sha256', source: hashSources(here) + '\n' });
    },
  };
}

export function hashSources(dir: string): string {
  const files = ['index.html', 'package.json', 'tsconfig.json', 'vite.config.ts', ...walk(join(dir, 'src')).map((f) => relative(dir, f).split('\\').join('/'))]
    .filter((f) => !/\.test\.tsx?$/.test(f))
    .sort();
  const all = createHash('sha256');
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8').replaceAll('\r\n', '\n');
    all.update(`${f}\n${createHash('sha256').update(text).digest('hex')}\n`);
  }
  return all.digest('hex');
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}
