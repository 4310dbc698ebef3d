#!/usr/bin/env bash
# The project's test command (the README's second command). It runs every
# check CI runs: formatting, vet, the Go tests with the race detector
# (including the fuzz seed corpora and the Redis/NATS broker tests), and the
# TypeScript packages' unit and browser tests.
#
# Needs: Go, Python 3.11+ with venv (standard library only), Node 20 + npm,
# Redis on 127.0.0.1:6379, NATS with JetStream on
# 127.0.0.1:4222 and Debian's Chromium at /usr/bin/chromium. `.ci/run`
# installs and starts whatever of these is missing, then calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "go test -race (unit, integration, fuzz seed corpora)"
go test -race -count=1 -timeout 15m ./...

step "ssehttp again, streams on net/http's standard path"
SSEHUB_TEST_STANDARD_STREAMS=1 go test -race -count=1 ./ssehttp

step "Python publisher (clients/python) against a real ssehub"
go build -o "${TMPDIR:-/tmp}/ssehub-python-tests" ./cmd/ssehub
(cd clients/python/tests && SSEHUB_BIN="${TMPDIR:-/tmp}/ssehub-python-tests" python3 -m unittest -v)
rm -f "${TMPDIR:-/tmp}/ssehub-python-tests"

if [ -f bench/go.mod ]; then
  step "bench module builds and vets"
  (cd bench && go vet ./...)
fi

if [ -f web/scripts/ci.sh ]; then
  step "web: TypeScript packages, unit and browser tests"
  bash web/scripts/ci.sh
fi
