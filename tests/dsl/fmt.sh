#!/bin/sh
# tests/dsl/fmt.sh SRC HTGEN: htgen --fmt on every routes file of the repo
# (examples/ and tests/, *.ht):
#   - a file that does not lex is refused: status 1, a diagnostic, no output;
#   - fmt is idempotent: fmt(fmt(x)) == fmt(x), and --check passes on it;
#   - --in-place writes what --fmt prints, --check fails before it;
#   - fmt never changes meaning: the formatted file, put where the original
#     is as far as its relative mount/embed directories go (a directory of
#     links to the original's neighbours), compiles to the same files as the
#     original, byte for byte once the routes.ht line numbers (#line, the
#     "routes.ht:12" comments, the routes table's line column) are set
#     aside, as blank lines may be collapsed; a file with errors gets the
#     same diagnostics (messages without their places) and status.
set -u
src=$1 htgen=$2
t=$(mktemp -d /tmp/ht_fmt.XXXXXX)
trap 'rm -rf "$t"' EXIT
failures=0 n=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

norm_out() { # generated file -> line numbers set aside
  sed -E -e 's/^#line [0-9]+/#line N/' -e 's/\.ht:[0-9][0-9, -]*/.ht:N/g' \
    -e 's/^(    \[[A-Za-z0-9_]+\] = \{ "[^"]*", "[^"]*", "[^"]*", )[0-9]+/\1N/' "$1"
}
norm_err() { # diagnostics -> messages only
  grep -E ': (error|warning|note): |errors? generated' "$1" | sed -E -e 's/^[^ ]*\.ht:[0-9]+:[0-9]+: //' \
    -e 's/\.ht:[0-9]+(:[0-9]+)?/.ht:N/g'
}

for f in $(cd "$src" && find examples tests -name '*.ht' | sort); do
  n=$((n + 1))
  k=$t/$n
  d=$(dirname "$src/$f") b=$(basename "$f")
  mkdir -p "$k/o" "$k/n" "$k/up/$(basename "$d")"
  "$htgen" --fmt "$src/$f" >"$k/fmt.ht" 2>"$k/fmt.err"
  st=$?
  if grep -q 'does not lex' "$k/fmt.err"; then # refused: nothing else to compare
    [ $st -eq 1 ] && [ ! -s "$k/fmt.ht" ] || fail "$f: a file that does not lex: status $st, $(wc -c <"$k/fmt.ht") bytes out"
    continue
  fi
  [ $st -eq 0 ] || { fail "$f: --fmt exited $st: $(head -c 300 "$k/fmt.err")"; continue; }
  "$htgen" --fmt "$k/fmt.ht" >"$k/fmt2.ht" 2>&1 && cmp -s "$k/fmt.ht" "$k/fmt2.ht" ||
    fail "$f: not idempotent: $(diff "$k/fmt.ht" "$k/fmt2.ht" | head -5)"
  "$htgen" --fmt --check "$k/fmt.ht" >/dev/null 2>&1 || fail "$f: --check fails on its own output"
  # the formatted copy among links to the original's neighbours (and theirs one level up)
  nd=$k/up/$(basename "$d")
  for e in "$d"/* "$d"/.[!.]*; do [ -e "$e" ] && [ "$(basename "$e")" != "$b" ] && ln -s "$e" "$nd/"; done
  for e in "$d"/../*; do [ -e "$e" ] && [ "$(basename "$e")" != "$(basename "$d")" ] && ln -s "$(cd "$e" 2>/dev/null && pwd || echo "$e")" "$k/up/"; done
  cp "$k/fmt.ht" "$nd/$b"
  (cd "$d" && "$htgen" "$b" -o "$k/o") >"$k/o.err" 2>&1
  so=$?
  (cd "$nd" && "$htgen" "$b" -o "$k/n") >"$k/n.err" 2>&1
  sn=$?
  [ $so -eq $sn ] || { fail "$f: htgen exits $so, formatted $sn: $(head -c 300 "$k/n.err")"; continue; }
  norm_err "$k/o.err" >"$k/o.msg"
  norm_err "$k/n.err" >"$k/n.msg"
  cmp -s "$k/o.msg" "$k/n.msg" || fail "$f: diagnostics differ: $(diff "$k/o.msg" "$k/n.msg" | head -6)"
  for g in "$k/o"/*; do
    [ -e "$g" ] || continue
    h=$k/n/$(basename "$g")
    [ -f "$h" ] || { fail "$f: $(basename "$g") not generated from the formatted file"; continue; }
    norm_out "$g" >"$k/a" && norm_out "$h" >"$k/b"
    cmp -s "$k/a" "$k/b" || fail "$f: $(basename "$g") differs: $(diff "$k/a" "$k/b" | head -6)"
  done
  [ "$(ls "$k/o" | wc -l)" -eq "$(ls "$k/n" | wc -l)" ] || fail "$f: not the same files generated"
done
# --in-place rewrites the file with what --fmt prints; --check says it differed
cp "$src/examples/routing/routes.ht" "$t/inplace.ht"
"$htgen" --fmt "$t/inplace.ht" >"$t/want.ht" || fail "--fmt on a copy of examples/routing/routes.ht"
if cmp -s "$t/inplace.ht" "$t/want.ht"; then
  fail "examples/routing/routes.ht is already formatted: the -i check below proves nothing"
fi
"$htgen" --fmt --check "$t/inplace.ht" 2>"$t/check.err" && fail "--check passed on an unformatted file"
grep -q 'is not formatted' "$t/check.err" || fail "--check: no reason given: $(cat "$t/check.err")"
"$htgen" --fmt -i "$t/inplace.ht" >"$t/inplace.out" 2>&1 || fail "--fmt -i exited $?"
[ ! -s "$t/inplace.out" ] || fail "--fmt -i printed something"
cmp -s "$t/inplace.ht" "$t/want.ht" || fail "--fmt -i did not write what --fmt prints"

[ $n -ge 20 ] || fail "only $n routes files found under $src"
echo "fmt.sh: $n routes files, $failures failures"
[ $failures -eq 0 ]
