#!/usr/bin/env bash
# Validates ssehub's API documents with well-kept tools from the npm
# registry (web/apidocs/package.json, with its own lockfile):
#   - the OpenAPI 3.1 document (ssehub gen openapi), with and without the
#     example catalog, by `redocly lint` (recommended-strict: warnings fail;
#     it checks the request examples against their schemas), and a copy
#     with a bad example must fail;
#   - the AsyncAPI 3 document (ssehub gen asyncapi) by @asyncapi/parser
#     (validate-asyncapi.mjs: errors and warnings fail), and a broken copy
#     must fail, so the check itself is known to work;
#   - openapi-typescript's types of the OpenAPI document type-checked
#     against @ssehub/node's types and `ssehub gen ts`'s (check.ts);
#   - the Python publisher and the module `ssehub gen python` writes, by
#     pyright in strict mode (clients/python/typecheck: wrong payloads,
#     targets and event names must be errors).
# Needs Go, Node 20+ and npm. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(cd .. && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
step() { printf '\n== apidocs: %s\n' "$*"; }

step "generate the documents"
(cd "$root" && go build -o "$out/ssehub" ./cmd/ssehub)
catalog="$root/examples/catalog/catalog.yaml"
"$out/ssehub" gen openapi --catalog "$catalog" -o "$out/openapi.json"
"$out/ssehub" gen openapi -o "$out/openapi-nocatalog.json"
"$out/ssehub" gen asyncapi --catalog "$catalog" -o "$out/asyncapi.json"
"$out/ssehub" gen asyncapi -o "$out/asyncapi-nocatalog.json"

cd apidocs
step "npm ci"
npm ci --no-audit --no-fund

step "redocly lint (OpenAPI 3.1)"
npx redocly lint --extends=recommended-strict "$out/openapi.json" "$out/openapi-nocatalog.json"
node -e '
  const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  d.paths["/api/events"].post.requestBody.content["application/json"].examples.notification.value.data = { id: 1 };
  require("fs").writeFileSync(process.argv[2], JSON.stringify(d));
' "$out/openapi.json" "$out/openapi-broken.json"
if npx redocly lint --extends=recommended-strict "$out/openapi-broken.json" >/dev/null 2>&1; then
  echo "apidocs: redocly accepted an example that does not match its schema" >&2; exit 1
fi

step "@asyncapi/parser (AsyncAPI 3)"
node validate-asyncapi.mjs "$out/asyncapi.json"
node validate-asyncapi.mjs "$out/asyncapi-nocatalog.json"
node -e '
  const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  d.operations.receiveEvents.channel.$ref = "#/channels/nope";
  require("fs").writeFileSync(process.argv[2], JSON.stringify(d));
' "$out/asyncapi.json" "$out/asyncapi-broken.json"
if node validate-asyncapi.mjs "$out/asyncapi-broken.json" >/dev/null 2>&1; then
  echo "apidocs: the AsyncAPI validator accepted a broken document" >&2; exit 1
fi

step "openapi-typescript, type-checked against @ssehub/node and ssehub gen ts"
mkdir -p gen
npx openapi-typescript "$out/openapi.json" --default-non-nullable false -o gen/openapi.d.ts
npx tsc -p tsconfig.json

step "pyright (strict): the Python publisher and ssehub gen python's types"
"$out/ssehub" gen python --catalog "$catalog" -o "$out/events_gen.py"
cmp "$out/events_gen.py" "$root/examples/catalog/events_gen.py" \
  || { echo "apidocs: examples/catalog/events_gen.py is stale: run go test ./internal/codegen -update" >&2; exit 1; }
npx pyright -p "$root/clients/python/typecheck/pyrightconfig.json"
echo "apidocs: OK"
