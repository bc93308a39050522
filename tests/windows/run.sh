#!/bin/sh
# tests/windows/run.sh — the Windows build (IOCP backend), cross-compiled with
# Debian's mingw-w64 and tested under wine64 with a private WINEPREFIX:
#   1. a host htgen (routes.ht files are compiled on this machine);
#   2. cmake/toolchain-mingw64.cmake, Release, -Werror, every target (and,
#      first, that configuring it without HT_HOST_HTGEN stops with the reason):
#      libhachettp, htgen.exe, ht.exe, routing.exe, hello.exe, workers.exe
#      and the Windows test programs (the portable Check suites against
#      tests/windows/check.h, check_loop_iocp, check_fs_win32, win_workers);
#      not examples/microservice, which needs jansson and libpq (mingw-w64
#      has neither in Debian) and ht_loop__poll (IOCP has no readiness);
#   3. wineboot in a fresh prefix and TMPDIR (both deleted at the end);
#   4. the unit suites under Wine, and check_loop_iocp (the backend's
#      operations one by one: timers, wake, accept/recv cancellation,
#      send, sendfile with a head, errors) and check_fs_win32 (docroot
#      errors, names Windows reinterprets, 8.3 aliases, stat, listings) and
#      check_signal_win32 (the hidden window, WM_CLOSE, console events);
#   5. htgen.exe under Wine: its output for examples/routing must be
#      byte-identical to the host htgen's;
#   6. tests/portable/http_cases.py (the cases epoll and io_uring pass in
#      ctest) against `wine ht.exe` and `wine routing.exe` on 127.0.0.1;
#   7. 4 workers on one listening socket (win_workers.exe): each must accept
#      some of 400 connections, and SIGINT must stop them all (exit 0);
#   8. every other way to stop ht.exe drains it (tests/windows/stop_check.py):
#      SIGTERM, taskkill (WM_CLOSE), the console close and system shutdown
#      events (win_stop.exe) and a service stop (ht.exe --service); log-off
#      is ignored, a second SIGTERM forces.
# Prints the time of each step. Needs the packages in the Makefile's
# WIN_PKGS (make test-windows installs them).
#
#   BUILD=build sh tests/windows/run.sh [HOST_HTGEN]
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
HOST_HTGEN=${1:-}
t0=$(date +%s)
step() { echo "== windows: $1 ($(($(date +%s) - t0)) s so far)"; }

if [ -z "$HOST_HTGEN" ]; then
  step "host htgen"
  cmake -S . -B "$BUILD/win-host" -DCMAKE_BUILD_TYPE=Release -DHT_BUILD_TESTS=OFF \
        -DHT_BUILD_EXAMPLES=OFF -DHT_SANITIZE=OFF >/dev/null
  cmake --build "$BUILD/win-host" -j "$JOBS" --target htgen >/dev/null
  HOST_HTGEN=$PWD/$BUILD/win-host/codegen/htgen
fi

step "cross configure without HT_HOST_HTGEN: refused at configure time"
rm -rf "$BUILD/windows-nohost"
if cmake -S . -B "$BUILD/windows-nohost" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake \
      -DCMAKE_BUILD_TYPE=Release >"$BUILD/windows-nohost.log" 2>&1; then
  echo "FAIL: a cross configure without HT_HOST_HTGEN succeeded (the build would fail on 'htgen: not found')"
  exit 1
fi
grep -q "cross-compiling" "$BUILD/windows-nohost.log" || {
  echo "FAIL: the refused cross configure does not say why:"; tail -n 20 "$BUILD/windows-nohost.log"; exit 1; }
rm -rf "$BUILD/windows-nohost" "$BUILD/windows-nohost.log"

step "cross build (mingw-w64)"
cmake -S . -B "$BUILD/windows" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake \
      -DCMAKE_BUILD_TYPE=Release -DHT_WERROR=ON -DHT_HOST_HTGEN="$HOST_HTGEN" >/dev/null
# Everything (library, htgen, every example, the Windows test programs).
cmake --build "$BUILD/windows" -j "$JOBS" >/dev/null
W=$PWD/$BUILD/windows

step "wineboot"
WINEPREFIX=$(mktemp -d /tmp/ht-wine.XXXXXX)
# wineserver makes its socket directory with mkdtemp under $TMPDIR
# (/tmp/wine-XXXXXX) and leaves it behind: give it one of ours, removed below.
TMPDIR=$(mktemp -d /tmp/ht-winetmp.XXXXXX)
export WINEPREFIX TMPDIR WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() {
  wineserver -k 2>/dev/null || true
  wineserver -w 2>/dev/null || true # gone before its directory is
  rm -rf "$WINEPREFIX" "$TMPDIR"
}
trap cleanup EXIT
# One wineserver for every step below (persistent for 60 s without clients).
wineserver -p 60 2>/dev/null || true
wineboot -i >/dev/null 2>&1 || true
# Wine's null display driver: windows without an X server, so ht.exe's hidden
# window exists for taskkill's WM_CLOSE (step 8). Read when the desktop
# starts: restart the wineserver.
wine reg add 'HKCU\Software\Wine\Drivers' /v Graphics /d null /f >/dev/null 2>&1
wineserver -k 2>/dev/null || true
wineserver -w 2>/dev/null || true
wineserver -p 60 2>/dev/null || true

step "unit suites under wine"
# check_bytes' pushf_encoding_error_is_einval: glibc's printf fails with
# EILSEQ on a wide character the C locale cannot encode; mingw-w64's does not
# fail, so there is nothing for ht_bytes__pushf to report on Windows.
export HT_CK_SKIP=pushf_encoding_error_is_einval
for t in check_slice check_alloc check_bytes check_uri check_parse check_chunked check_header_id \
         check_mime check_httpfile check_loop_iocp check_fs_win32 check_signal_win32; do
  timeout 300 wine "$W/$t.exe" # no fork or per-test timeout in check.h: bound it here
done
unset HT_CK_SKIP

step "htgen.exe under wine"
g=$(mktemp -d /tmp/ht-htgen.XXXXXX)
mkdir "$g/host" "$g/win"
"$HOST_HTGEN" examples/routing/routes.ht -o "$g/host"
timeout 120 wine "$W/codegen/htgen.exe" examples/routing/routes.ht -o "$g/win"
diff -r "$g/host" "$g/win"
rm -rf "$g"
echo "htgen.exe output identical to the host htgen's"

step "http cases under wine"
timeout 600 python3 tests/portable/http_cases.py --windows --wine wine \
        --ht "wine $W/examples/ht/ht.exe" \
        --routing "wine $W/examples/routing/routing.exe" --routing-dir examples/routing

step "workers sharing the listening socket under wine"
timeout 300 python3 tests/windows/workers_check.py 4 wine "$W/win_workers.exe"

step "stopping ht.exe under wine: SIGTERM, taskkill, console close, shutdown, service stop"
timeout 300 python3 tests/windows/stop_check.py wine "$W/examples/ht/ht.exe" "$W/win_stop.exe"

step "done"
