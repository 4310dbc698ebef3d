#!/usr/bin/env bash
# Everything CI needs for web/, on a fresh machine with Go, Node 20, npm,
# Debian's Chromium and Redis on 127.0.0.1:6379: install, build, typecheck
# (with the type tests), unit tests (client, React 19, React 18), end-to-end
# tests (headless Chromium against a real ssehub built from this tree), the
# tests of @ssehub/node, the tarballs installed as a user would, and
# examples/nextjs built and run from them in Chromium (its restart test uses
# Redis). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "web/scripts/ci.sh: $*" >&2; exit 1; }
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing; install it first: apt-get install -y chromium"
command -v go >/dev/null || fail "go is not on PATH (the e2e tests build ./cmd/ssehub)"
command -v node >/dev/null || fail "node is not on PATH"

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

step() { printf '\n== web: %s\n' "$*"; }

step "npm ci"
npm ci --no-audit --no-fund

step "build"
npm run build

step "typecheck (sources, tests and *.test-d.ts type tests)"
npm run typecheck

step "unit tests"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results/unit.json"

step "e2e tests (Chromium + ssehub)"
npx vitest run --config e2e/vitest.config.ts --reporter=default --reporter=json --outputFile.json="$results/e2e.json"

reports=("$results/unit.json" "$results/e2e.json")
step "@ssehub/node: typecheck, unit and round-trip tests"
npm test -w @ssehub/node -- --reporter=default --reporter=json --outputFile.json="$results/node.json"
reports+=("$results/node.json")

step "packages: pack the three tarballs, install them into a scratch project, import, require, type-check"
bash scripts/pack-test.sh

# examples/nextjs installs the tarballs (file: dependencies on web/packs/),
# not workspace links; the test builds it with `next build`, runs `next
# start` in front of ssehub and drives it in Chromium.
step "examples/nextjs: pack, install the tarballs, next build, next start, Chromium"
cmp ../examples/catalog/events.gen.ts ../examples/nextjs/lib/events.gen.ts \
  || fail "examples/nextjs/lib/events.gen.ts differs from examples/catalog/events.gen.ts: copy it over"
bash scripts/pack.sh >/dev/null
(cd ../examples/nextjs && rm -rf node_modules/@ssehub && npm install --no-audit --no-fund --no-package-lock)
npx vitest run --config e2e/nextjs.config.ts --reporter=default --reporter=json --outputFile.json="$results/nextjs.json"
reports+=("$results/nextjs.json")

# The demo app is embedded into the binary from its committed build
# (internal/server/demo/static): a fresh build of web/demo must reproduce it
# byte for byte. Its e2e tests drive it in Chromium against ssehub in dev
# mode and leave screenshots in artifacts/screenshots/.
step "demo: typecheck, build (reproduces the committed build), e2e (Chromium + ssehub in dev mode)"
npm run typecheck -w @ssehub/demo
DEMO_OUT_DIR="$results/demo-build" npm run build -w @ssehub/demo
diff -r "$results/demo-build" ../internal/server/demo/static \
  || fail "internal/server/demo/static differs from a fresh build of web/demo: run 'npm run build -w @ssehub/demo' in web/ and commit the result"
npx vitest run --config demo/e2e/vitest.config.ts --reporter=default --reporter=json --outputFile.json="$results/demo.json"
reports+=("$results/demo.json")

# The OpenAPI and AsyncAPI documents: validators from npm, and the
# OpenAPI's types against @ssehub/node's (a separate npm project too).
step "API documents: redocly lint, @asyncapi/parser, openapi-typescript vs @ssehub/node"
bash scripts/apidocs.sh

node scripts/summary.mjs "${reports[@]}"
