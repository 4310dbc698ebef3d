// Run inside a temporary project where the three tarballs were installed
// with npm: loads each package with import and with require, and checks
// that every source map points at a file the package ships.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const require = createRequire(import.meta.url);
const want = {
  '@ssehub/client': ['createClient', 'SSEClient', 'HttpError', 'backoffDelay', 'readErrorBody'],
  '@ssehub/react': ['SSEProvider', 'useSSE', 'useSSEEvent', 'conversationChannel'],
  '@ssehub/node': ['createPublisher', 'SSEHubError', 'retryDelay'],
};
let failed = 0;
const fail = (msg) => {
  failed++;
  console.error(`FAIL ${msg}`);
};

for (const [pkg, names] of Object.entries(want)) {
  const esm = await import(pkg);
  const cjs = require(pkg);
  for (const n of names) {
    if (typeof esm[n] !== 'function') fail(`${pkg}: import has no function ${n}`);
    if (typeof cjs[n] !== 'function') fail(`${pkg}: require has no function ${n}`);
  }
  if (esm.createClient && esm.createClient === cjs.createClient) fail(`${pkg}: require returned the ESM build`);

  const root = join('node_modules', pkg);
  for (const f of ['LICENSE', 'README.md', 'package.json']) if (!existsSync(join(root, f))) fail(`${pkg}: ships no ${f}`);
  const meta = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const k of ['license', 'repository', 'homepage', 'bugs', 'keywords', 'engines']) if (!meta[k]) fail(`${pkg}: package.json has no ${k}`);
  for (const [dep, range] of Object.entries(meta.dependencies ?? {})) {
    if (dep.startsWith('@ssehub/') && !range.startsWith('^')) fail(`${pkg}: ${dep} pinned as ${range}, want a caret range`);
  }
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  if (!readme.includes(`npm install ${pkg}`)) fail(`${pkg}: README has no install line`);
  for (const m of readme.matchAll(/\]\(([^)]+)\)/g)) {
    if (!/^(https?:|#)/.test(m[1])) fail(`${pkg}: README link ${m[1]} is relative (breaks once published)`);
  }
  let maps = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.map')) {
        maps++;
        for (const s of JSON.parse(readFileSync(p, 'utf8')).sources) {
          if (!existsSync(resolve(dirname(p), s))) fail(`${pkg}: ${p} points at ${s}, which is not shipped`);
        }
      }
    }
  };
  walk(join(root, 'dist'));
  if (maps === 0) fail(`${pkg}: no source maps found`);
  console.log(`ok ${pkg}: import, require, ${maps} source maps resolve`);
}
if (failed) {
  console.error(`${failed} packaging check(s) failed`);
  process.exit(1);
}
