#!/bin/sh
# tests/cli/cli.sh SRC HT HTGEN ROUTING MICROSERVICE: the programs' command
# lines as a new user meets them (issue 15 items 6 and 8):
#   - -h and --help print the usage on stdout and exit 0; an unknown option,
#     a missing value or a stray argument exits 2 with a one-line reason;
#   - ht --precompress refuses other options, -v lists every file and the
#     summary counts those too small;
#   - the man pages (examples/ht/ht.1, codegen/htgen.1) name every long
#     option the --help output names, and groff formats them without a
#     warning (-ww; skipped without groff).
# An empty program path skips that program (examples not built).
set -u
src=$1 ht=$2 htgen=$3 routing=$4 micro=$5
t=$(mktemp -d /tmp/ht_cli.XXXXXX)
trap 'rm -rf "$t"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect STATUS PATTERN (grep -E, on stdout+stderr) CMD...
expect() {
  want=$1 pat=$2
  shift 2
  "$@" >"$t/out" 2>&1
  st=$?
  [ $st -eq "$want" ] || { fail "$* exited $st, not $want: $(head -c 300 "$t/out")"; return; }
  grep -Eq -- "$pat" "$t/out" || fail "$*: no '$pat' in: $(head -c 300 "$t/out")"
}

for p in "$ht" "$htgen" "$routing" "$micro"; do
  [ -n "$p" ] || continue
  n=$(basename "$p")
  for h in -h --help; do
    "$p" $h >"$t/out" 2>"$t/err"; st=$?
    [ $st -eq 0 ] || fail "$n $h exited $st"
    grep -q "^usage: " "$t/out" || fail "$n $h: no usage on stdout"
    [ -s "$t/err" ] && fail "$n $h wrote to stderr: $(cat "$t/err")"
  done
  expect 2 "unknown option '--no-such-option'" "$p" --no-such-option
done
for p in "$ht" "$routing" "$micro"; do
  [ -n "$p" ] || continue
  expect 2 "option '-p' needs a value" "$p" -p
  expect 2 "bad port 'x'" "$p" -p x
  expect 2 "unexpected argument 'stray'" "$p" stray
done
expect 2 "option '--prefix' needs a value" "$htgen" --prefix
expect 2 "option '-o' needs a value" "$htgen" routes.ht -o

# ht --precompress: alone (with -v), a summary that counts every file.
mkdir -p "$t/pre/sub"
awk 'BEGIN { for (i = 0; i < 200; i++) print "body { margin: " i "px; }" }' > "$t/pre/a.css"
cp "$t/pre/a.css" "$t/pre/sub/b.js"
echo "tiny" > "$t/pre/tiny.txt"
expect 2 "--precompress takes no other option but -v \(got --port\)" "$ht" --precompress "$t/pre" -p 80
expect 2 "--precompress takes no other option but -v \(got --no-gzip\)" "$ht" --no-gzip --precompress "$t/pre"
expect 2 "-v goes with --precompress" "$ht" -v
# A sidecar per coding this build writes (gzip always; br and zstd with
# libbrotli and libzstd): one line each in the summary, counted below.
expect 0 "wrote [0-9]* sidecar\(s\) for .*, 0 up to date, 0 not worth it, 1 too small, 0 failed" "$ht" --precompress "$t/pre"
k=$(grep -c '^ht:   ' "$t/out")
grep -q "wrote $((2 * k)) sidecar(s)" "$t/out" || fail "ht --precompress: not 2 files x $k codings: $(cat "$t/out")"
expect 0 "/sub/b.js.gz: up to date" "$ht" --precompress "$t/pre" -v
grep -q "/tiny.txt: too small (5 bytes)" "$t/out" || fail "ht --precompress -v: no line for tiny.txt: $(cat "$t/out")"
grep -q "wrote 0 sidecar(s) for 0 bytes of originals, $((2 * k)) up to date, 0 not worth it, 1 too small" "$t/out" ||
  fail "second --precompress: $(cat "$t/out")"

# Man pages: every --long option of --help, named in the page as \-\-long.
man_check() {
  prog=$1 page=$2
  [ -f "$page" ] || { fail "$page missing"; return; }
  "$prog" --help | grep -oE -- "--[a-z][a-z0-9-]*" | sort -u > "$t/flags"
  [ -s "$t/flags" ] || fail "$prog --help names no long option"
  while read -r f; do
    esc=$(printf '%s' "$f" | sed 's/-/\\-/g')
    grep -qF -- "$esc" "$page" || fail "$(basename "$page") does not document $f (in $(basename "$prog") --help)"
  done < "$t/flags"
  if command -v groff >/dev/null 2>&1; then
    groff -man -Tutf8 -ww -P-cbou "$page" >"$t/man.txt" 2>"$t/groff.err" || fail "groff failed on $page"
    [ -s "$t/groff.err" ] && fail "groff warns on $page: $(cat "$t/groff.err")"
    grep -q "^NAME" "$t/man.txt" || fail "$page: no NAME section rendered"
  else
    echo "groff not installed: formatting of $page not checked"
  fi
}
man_check "$ht" "$src/examples/ht/ht.1"
man_check "$htgen" "$src/codegen/htgen.1"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "cli: all checks passed"
