#!/usr/bin/env bash
# Installs the three tarballs of scripts/pack.sh into a fresh project in a
# temporary directory with npm (as a user would from a registry, no
# workspace links), then: import and require of each package on this Node,
# the shipped files and metadata (scripts/pack-test/check.mjs), and a
# TypeScript file of each module kind type-checked against them.
set -euo pipefail
cd "$(dirname "$0")/.."
web=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash scripts/pack.sh "$tmp/packs" >/dev/null
cd "$tmp"
cp "$web"/scripts/pack-test/{check.mjs,use.ts,use-cjs.cts,tsconfig.json} .
echo '{ "name": "pack-test", "private": true, "type": "module" }' > package.json
react=$(node -p "require('$web/node_modules/react/package.json').version")
npm install --no-audit --no-fund --prefer-offline --silent \
  ./packs/ssehub-client-*.tgz ./packs/ssehub-react-*.tgz ./packs/ssehub-node-*.tgz \
  "react@$react" "react-dom@$react" "@types/react@$(node -p "require('$web/node_modules/@types/react/package.json').version")"
node check.mjs
"$web/node_modules/.bin/tsc" -p tsconfig.json
echo "ok: the packages type-check from their tarballs (ESM and CommonJS)"
