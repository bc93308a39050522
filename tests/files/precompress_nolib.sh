#!/bin/sh
# tests/files/precompress_nolib.sh HT_BIN HTGEN_BIN CODINGS SANITIZED: the
# compressors' libraries are loaded on first use (codegen/dynload.h), not at
# start-up.
#   - ht's and htgen's ELF needs neither libbrotlienc, libzstd nor libm (htgen
#     keeps libz, for its ETags' CRC-32; ht needs no libz either; libm is not
#     checked in a sanitized build, whose runtime needs it: SANITIZED=ON);
#   - on a machine without one of them (a private mount namespace where the
#     library file is /dev/null), `ht --precompress` exits 1 with a line
#     naming the library and its Debian package, and writes nothing;
#     htgen's embed fails the same way (a build must not depend on what is
#     installed); ht without any of them still serves.
# CODINGS: the codings this build has beside gzip ("br zstd", "zstd", ""),
# as codegen/CMakeLists.txt found them. Exit 77 (skipped) where unprivileged
# user and mount namespaces are not allowed (unshare -rm), or without curl.
set -u
ht=$1
htgen=$2
codings=${3:-}
sanitized=${4:-OFF}
libm=libm
[ "$sanitized" = ON ] && libm=

if [ "${NOLIB_INSIDE:-}" != 1 ]; then
  for lib in libz libbrotlienc libbrotlicommon libzstd $libm; do
    if readelf -d "$ht" | grep -q "NEEDED.*\[$lib\.so"; then echo "FAIL: ht needs $lib at start-up"; exit 1; fi
  done
  for lib in libbrotlienc libbrotlicommon libzstd $libm; do
    if readelf -d "$htgen" | grep -q "NEEDED.*\[$lib\.so"; then echo "FAIL: htgen needs $lib at start-up"; exit 1; fi
  done
  echo "ok: ht and htgen load no compressor library at start-up"
  command -v curl >/dev/null 2>&1 || { echo "no curl"; exit 77; }
  unshare -rm true 2>/dev/null || { echo "unshare -rm not allowed here: the missing-library cases are skipped"; exit 77; }
  NOLIB_INSIDE=1 exec unshare -rm sh "$0" "$@"
fi

t=$(mktemp -d /tmp/precompress_nolib.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$t"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$t/err" ] && { echo "--- stderr"; cat "$t/err"; }; exit 1; }

# The file the dynamic linker would open for soname $1 (the first match in
# Debian's and the usual directories); bind-mounting /dev/null over it (it
# follows the symlink) makes every name of that library unloadable here.
lib_file() {
  for d in /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /lib64 /usr/lib /lib; do
    [ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
  done
  return 1
}
hide() { mount --bind /dev/null "$(lib_file "$1")" || fail "cannot hide $1"; }
unhide() { umount "$(lib_file "$1")" || fail "cannot restore $1"; }

mkdir -p "$t/tree/sub" "$t/gen"
i=0
while [ $i -lt 100 ]; do echo "line $i of a compressible file, line $i of a compressible file"; i=$((i + 1)); done >"$t/tree/a.txt"
cp "$t/tree/a.txt" "$t/tree/sub/b.css"
printf 'embed /s tree\n' >"$t/routes.ht"

# soname, Debian package: every library this build loads.
set -- "libz.so.1 zlib1g"
case " $codings " in *" br "*) set -- "$@" "libbrotlienc.so.1 libbrotli1" ;; esac
case " $codings " in *" zstd "*) set -- "$@" "libzstd.so.1 libzstd1" ;; esac
for entry in "$@"; do
  soname=${entry% *}
  pkg=${entry#* }
  lib_file "$soname" >/dev/null || fail "no $soname on this machine"
  hide "$soname"
  "$ht" --precompress "$t/tree" >"$t/out" 2>"$t/err"
  st=$?
  [ $st -eq 1 ] || fail "ht --precompress without $soname: exit status $st, not 1"
  grep -q "^ht: precompress: cannot load $soname (install Debian's $pkg): " "$t/err" ||
    fail "ht --precompress without $soname: no line naming it and $pkg"
  [ -z "$(find "$t/tree" -name '*.gz' -o -name '*.br' -o -name '*.zst' -o -name '.*tmp*')" ] ||
    fail "ht --precompress without $soname wrote: $(find "$t/tree" -type f)"
  echo "ok: ht --precompress without $soname: exit 1, names $pkg, writes nothing"
  if [ "$soname" != libz.so.1 ]; then # htgen itself links libz (CRC-32)
    "$htgen" "$t/routes.ht" -o "$t/gen" >"$t/out" 2>"$t/err"
    st=$?
    [ $st -ne 0 ] || fail "htgen's embed without $soname succeeded"
    grep -q "^htgen: embed: cannot load $soname (install Debian's $pkg): " "$t/err" ||
      fail "htgen's embed without $soname: no line naming it and $pkg"
    echo "ok: htgen's embed without $soname: exit $st, names $pkg"
  fi
  unhide "$soname"
done

# Started with them all missing, ht serves as before, and never maps them
# (libm may be there: the sanitizers' runtime needs it; curl needs libz
# itself: the libraries come back once ht is up).
for entry in "$@"; do hide "${entry% *}"; done
"$ht" -b 127.0.0.1 -p 0 -d "$t/tree" -w 1 2>"$t/err" &
pid=$!
i=0
while ! grep -q "serving" "$t/err" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 200 ] && fail "ht did not start without the compressors' libraries"; sleep 0.05
done
for entry in "$@"; do unhide "${entry% *}"; done
port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$t/err" | head -n1)
[ -n "$port" ] || fail "no port in ht's serving line"
curl -sS -o "$t/got" "http://127.0.0.1:$port/a.txt" || fail "GET /a.txt"
cmp -s "$t/got" "$t/tree/a.txt" || fail "GET /a.txt: not the file's bytes"
if grep -E 'lib(z|brotli[a-z]*|zstd)\.so' "/proc/$pid/maps"; then fail "serving, ht mapped a compressor's library"; fi
kill -TERM "$pid"
wait "$pid"
st=$?
pid=
[ $st -eq 0 ] || fail "ht: exit status $st after SIGTERM"
echo "ok: ht started without the compressors' libraries serves, and maps none of them"

# And with them back, the same tree gets its sidecars.
"$ht" --precompress "$t/tree" >"$t/out" 2>"$t/err" || fail "ht --precompress with the libraries: exit status $?"
[ -f "$t/tree/a.txt.gz" ] || fail "ht --precompress with the libraries wrote no a.txt.gz"
echo "ok: ht --precompress with the libraries back writes the sidecars"
