#!/bin/sh
# Embedded assets: build cost of a 50 MiB tree (BENCHMARKS.md, "Embedded assets").
#   bench/embed/run.sh PREFIX [RUNS=3]
# PREFIX: an installed hachettp (cmake --install build --prefix PREFIX).
# Times, as wall_user_sys seconds: htgen on the tree, compiling PREFIX_embed.c
# (gcc and clang), a whole downstream build with and without the embed line
# (interleaved), a rebuild after one file changes, and for contrast 5 MiB of
# the same bytes as a C array initializer.
set -eu
PREFIX=$(cd "$1" && pwd)
RUNS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/ht-embed-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
T="/usr/bin/time -f %e_%U_%S"
python3 "$HERE/make_tree.py" "$W/tree" 50
du -sb "$W/tree"
cd "$W"
printf 'prefix app\nGET /api/hello -> hello\nembed /assets ./tree\n' > with.ht
printf 'prefix app\nGET /api/hello -> hello\n' > without.ht
cat > main.c <<'C'
#include "app_routes.h"
#include <ht/ht.h>
void app_hello(void* ctx, const ht_request_t* req, ht_response_t* res, ht_alloc_t* a,
               const app_hello_params_t* p) {
    (void) ctx, (void) req, (void) p;
    ht_response__text(res, 200, "hi\n", a);
}
int main(void) { return 0; }
C
cat > CMakeLists.txt <<'C'
cmake_minimum_required(VERSION 3.20)
project(embedbench C)
set(CMAKE_C_STANDARD 23)
find_package(hachettp 0.1 REQUIRED)
add_executable(app main.c)
target_link_libraries(app PRIVATE hachettp::libhachettp)
hachettp_add_routes(app ${ROUTES})
C
mkdir out
for i in $(seq "$RUNS"); do echo "htgen: $($T "$PREFIX/bin/htgen" with.ht -o out 2>&1 | tail -1)"; done
ls -l out/app_embed.bin
for cc in gcc clang; do
  for i in $(seq "$RUNS"); do
    echo "$cc -O2 -c app_embed.c: $($T $cc -std=c2x -O2 -c -I"$PREFIX/include" -Iout \
      -DAPP_EMBED_BLOB='"out/app_embed.bin"' out/app_embed.c -o embed.o 2>&1 | tail -1)"
  done
done
for i in $(seq "$RUNS"); do
  for v in with without; do
    rm -rf "b-$v"
    cmake -S . -B "b-$v" -DCMAKE_BUILD_TYPE=Release -DROUTES=$v.ht -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
    echo "build $v embed: $($T cmake --build "b-$v" -j2 2>&1 | tail -1)"
  done
done
f=$(find tree -name '*.js' | head -1)
for i in $(seq "$RUNS"); do
  echo "// $i" >> "$f"
  echo "rebuild after one file changed: $($T cmake --build b-with -j2 2>&1 | tail -1)"
done
python3 - <<'P'
data = open('out/app_embed.bin', 'rb').read()[:5 << 20]
with open('arr5.c', 'w') as f:
    f.write('const unsigned char blob[%d] = {\n' % len(data))
    for i in range(0, len(data), 16):
        f.write(','.join('0x%02x' % b for b in data[i:i + 16]) + ',\n')
    f.write('};\n')
P
echo "5 MiB as a C array, gcc -O2 -c: $($T gcc -O2 -c arr5.c -o arr5.o 2>&1 | tail -1)"
