#!/usr/bin/env bash
# Regenerates the README's screenshots, docs/images/demo.png and
# docs/images/dashboard.png: rebuilds the demo (internal/server/demo/static),
# builds ssehub, and runs the "screenshots" e2e test, which signs in four
# users and an admin in headless Chromium and makes some traffic first.
#
# Needs what web/scripts/ci.sh needs (Go, Node 20, npm, /usr/bin/chromium)
# and `npm ci && npm run build` in web/ first. The committed images were
# taken with Debian's fonts-inter installed (apt-get install -y fonts-inter);
# without it Chromium draws the page with another sans-serif font.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

npm run build
DEMO_SCREENSHOT_DIR="$out" npx vitest run --config e2e/vitest.config.ts -t screenshots
mkdir -p ../../docs/images
cp "$out/demo.png" "$out/dashboard.png" ../../docs/images/
echo "wrote docs/images/demo.png and docs/images/dashboard.png"
