// Builds the package in the current directory with tsc, twice: ESM into
// dist/esm and CommonJS into dist/cjs (which gets a package.json saying so,
// so Node and TypeScript read its .js and .d.ts files as CommonJS). Both come
// with declarations and source maps; the maps point into src/, which the
// package ships. Run by each package's `build` (and so `prepack`) script.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const run = (...args) => execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', ...args], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
run('--outDir', 'dist/esm');
run('--outDir', 'dist/cjs', '--module', 'commonjs', '--moduleResolution', 'node10', '--verbatimModuleSyntax', 'false');
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
