#!/usr/bin/env bash
# Packs @ssehub/client, @ssehub/react and @ssehub/node into tarballs, as npm
# publish would (each package's prepack builds it), into DIR (default
# web/packs/). Install them with
#   npm install DIR/ssehub-client-0.1.0.tgz DIR/ssehub-react-0.1.0.tgz DIR/ssehub-node-0.1.0.tgz
# Prints the three paths.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-packs}")
mkdir -p "$out"
# One at a time, in dependency order: react and node compile against the client's dist/.
for p in client react node; do
  npm pack -w "@ssehub/$p" --pack-destination "$out" --silent >/dev/null
done
ls "$out"/ssehub-{client,react,node}-*.tgz
