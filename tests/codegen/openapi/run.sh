#!/bin/sh
# tests/codegen/openapi/run.sh HTGEN SOURCE_DIR WORK_DIR: htgen --openapi on
# every examples/*/routes.ht, the codegen golden, urls/ and openapi/
# routes files, each document validated by @apidevtools/swagger-parser
# (installed with npm into $HT_NPM_CACHE, default ~/.cache/hachettp/npm, on
# first use); openapi/routes.ht's content checked by check.js; htgen's
# warnings for the routes it leaves out checked here.
# Without node, npm or the registry this test FAILS: it never passes
# without having validated.
set -u
htgen=$1 src=$2 work=$3
validator="@apidevtools/swagger-parser@10.1.1"
cache=${HT_NPM_CACHE:-${HOME:-/tmp}/.cache/hachettp/npm}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v node >/dev/null 2>&1 || fail "node not found: install nodejs and npm (make deps: PKGS has them)"
if [ ! -f "$cache/node_modules/@apidevtools/swagger-parser/package.json" ]; then
  command -v npm >/dev/null 2>&1 || fail "npm not found: install nodejs and npm (make deps: PKGS has them)"
  mkdir -p "$cache" || fail "cannot create $cache"
  echo "installing $validator into $cache"
  npm install --prefix "$cache" --no-audit --no-fund --no-save "$validator" >"$work.npm.log" 2>&1 ||
    { cat "$work.npm.log" >&2; fail "npm could not install $validator into $cache (no registry access?); the OpenAPI documents are NOT validated"; }
fi
echo "validator: swagger-parser $(node -p "require('$cache/node_modules/@apidevtools/swagger-parser/package.json').version"), node $(node --version)"
rm -rf "$work" && mkdir -p "$work" || fail "cannot create $work"
docs=""
for f in "$src"/examples/*/routes.ht "$src"/tests/codegen/golden/routes.ht "$src"/tests/codegen/golden_query/routes.ht \
         "$src"/tests/codegen/urls/routes.ht \
         "$src"/tests/codegen/openapi/routes.ht; do
  name=$(basename "$(dirname "$f")")
  "$htgen" --openapi "$f" -o "$work/$name.json" 2>"$work/$name.err" || { cat "$work/$name.err"; fail "htgen --openapi $f"; }
  docs="$docs $work/$name.json"
done
NODE_PATH="$cache/node_modules" node "$src/tests/codegen/openapi/validate.js" $docs || fail "an OpenAPI document is invalid"
node "$src/tests/codegen/openapi/check.js" "$work/openapi.json" || fail "openapi/routes.ht's document"
err="$work/openapi.err"
grep -q "routes.ht:14:9: warning: route left out of the OpenAPI document: '/q/{name}' and '/q/{id}' are one path template there" "$err" ||
  { cat "$err"; fail "no warning for /q/{name}"; }
grep -q "routes.ht:15:1: warning: method 'PURGE' left out of the OpenAPI document: OpenAPI 3.1 has no field for it" "$err" ||
  { cat "$err"; fail "no warning for PURGE"; }
[ "$(grep -c warning: "$err")" -eq 2 ] || { cat "$err"; fail "other warnings than the two expected"; }
# stdout without -o: the same bytes; with an error in the file: no document, status 1
"$htgen" --openapi "$src/tests/codegen/openapi/routes.ht" 2>/dev/null | cmp -s - "$work/openapi.json" || fail "stdout differs from -o"
printf 'GET /a -> \n' > "$work/bad.ht"
"$htgen" --openapi "$work/bad.ht" -o "$work/bad.json" 2>/dev/null; rc=$?
[ "$rc" -eq 1 ] && [ ! -e "$work/bad.json" ] || fail "a bad routes file: status $rc, or a document was written"
echo "ok"
