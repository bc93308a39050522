#!/usr/bin/env bash
# Packs what bench/cores.sh (and bench/run.sh) need on a lent device machine
# that reaches no registry: the peers' binaries as this machine has them
# (wrk, nginx, lighttpd, h2o: `make bench-deps`) with the libraries ldd
# lists for them (glibc's own excepted: the device has its own), lighttpd's
# modules, h2o's share/, and hachettp's benchmark binaries from each
# BUILD_DIR, laid out as a build dir (with the two CMakeCache lines run.sh
# reads).
#
#   bench/device_bundle.sh DEST BUILD_DIR [BUILD_DIR...]
#
# DEST is git-ignored (.device/ is; pass it to the device run's `carry`).
# Afterwards:
#   PATH=$PWD/DEST/bin:$PATH bench/cores.sh DEST/build-iouring DEST/build-epoll
# DEST/bin holds wrappers that set LD_LIBRARY_PATH for the peer alone and
# exec it, so the PID bench/run.sh starts (setsid) is the server's own;
# lighttpd gets `-m DEST/lighttpd-modules`, h2o `H2O_ROOT=DEST`.
set -euo pipefail
[[ $# -ge 2 ]] || { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
D=$1
shift
mkdir -p "$D"
D=$(cd "$D" && pwd)
rm -rf "${D:?}/bin" "${D:?}/real" "${D:?}/lib" "${D:?}/lighttpd-modules" "${D:?}/share" "${D:?}"/build-*
mkdir -p "$D/bin" "$D/real" "$D/lib" "$D/lighttpd-modules" "$D/share"

# glibc and the loader stay the device's own.
is_glibc() {
  case $(basename "$1") in
    libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | ld-linux*.so.* | \
      libresolv.so.* | libnss_*.so.* | libutil.so.* | libanl.so.*) return 0 ;;
  esac
  return 1
}
copy_libs() { # ELF files -> their ldd libraries into $D/lib
  local f lib
  for f in "$@"; do
    while read -r lib; do
      [[ -n $lib && -f $lib ]] || continue
      is_glibc "$lib" || cp -L -n "$lib" "$D/lib/"
    done < <(ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
  done
}

for p in wrk nginx lighttpd h2o; do
  src=$(command -v "$p") || { echo "device_bundle.sh: $p not installed (make bench-deps)" >&2; exit 1; }
  cp -L "$src" "$D/real/$p"
  copy_libs "$src"
  extra=
  case $p in
    lighttpd) extra='-m "$here/lighttpd-modules"' ;;
    h2o) extra= ;;
  esac
  {
    echo '#!/bin/sh'
    echo 'here=$(cd "$(dirname "$0")/.." && pwd)'
    [[ $p == h2o ]] && echo 'H2O_ROOT=$here; export H2O_ROOT'
    echo "LD_LIBRARY_PATH=\$here/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} exec \"\$here/real/$p\" $extra \"\$@\""
  } >"$D/bin/$p"
  chmod +x "$D/bin/$p"
done
cp -L /usr/lib/lighttpd/*.so "$D/lighttpd-modules/"
copy_libs "$D"/lighttpd-modules/*.so
cp -rL /usr/share/h2o "$D/share/h2o"

for b in "$@"; do
  b=$(cd "$b" && pwd)
  backend=iouring
  grep -q '^HT_IO_URING:BOOL=OFF' "$b/CMakeCache.txt" && backend=epoll
  o=$D/build-$backend
  mkdir -p "$o/examples/hello" "$o/examples/ht" "$o/bench/floor" "$o/bench/conns" "$o/bench/lobind"
  grep -E '^(HT_IO_URING|CMAKE_BUILD_TYPE):' "$b/CMakeCache.txt" >"$o/CMakeCache.txt"
  for f in examples/hello/hello examples/ht/ht bench/floor/floor bench/conns/conns bench/lobind/liblobind.so; do
    [[ -f $b/$f ]] || { echo "device_bundle.sh: no $b/$f (build hello ht floor conns lobind)" >&2; exit 1; }
    cp "$b/$f" "$o/$f"
  done
  copy_libs "$o/examples/ht/ht" # zlib, brotli, zstd for --precompress
  if [[ -f $b/bench/bigfile/bigget ]]; then # bench/bigfile/run.sh's client, where built
    mkdir -p "$o/bench/bigfile"
    cp "$b/bench/bigfile/bigget" "$o/bench/bigfile/bigget"
  fi
done
du -sh "$D" >&2
