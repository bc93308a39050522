#!/bin/sh
# tests/cxx/headers.sh INCLUDE_DIR GEN_INCLUDE_DIR LIBHACHETTP [LINK_FLAGS...]:
# every public header <ht/*.h> compiles on its own as C++17 with g++ and
# clang++ (-Wall -Wextra -Werror -pedantic: C linkage, no compound literals
# or _Alignof in inline code), and a C++ program calling the library through
# them links against libhachettp.a and runs. A compiler that is missing is
# reported and skipped; neither: exit 77 (ctest: skipped).
set -u
inc=$1
gen=$2
lib=$3
shift 3
t=$(mktemp -d /tmp/ht_cxx.XXXXXX)
trap 'rm -rf "$t"' EXIT
flags="-std=c++17 -Wall -Wextra -Werror -pedantic -I$inc -I$gen"
status=0
ran=0
for cxx in g++ clang++; do
  if ! command -v "$cxx" >/dev/null 2>&1; then
    echo "$cxx: not installed, skipped (Debian: g++, clang)"
    continue
  fi
  ran=$((ran + 1))
  n=0
  for h in "$inc"/ht/*.h; do
    name=ht/$(basename "$h")
    # Twice: a second include must be a no-op (include guards).
    printf '#include <%s>\n#include <%s>\n' "$name" "$name" > "$t/one.cpp"
    if ! $cxx $flags -c "$t/one.cpp" -o "$t/one.o" 2>"$t/err"; then
      echo "FAIL: <$name> with $cxx:"
      head -n 20 "$t/err"
      status=1
    fi
    n=$((n + 1))
  done
  # Linkage: the declarations are extern "C", so a C++ caller finds the
  # C library's symbols (a C++-mangled name would not link).
  cat > "$t/main.cpp" <<'CPP'
#include <ht/ht.h>
#include <cstdio>
#include <cstring>
int main() {
    ht_slice_t s = ht_slice__from_cstr("hello");
    ht_slice_t lit = HT_SLICE("hello");
    ht_alloc_t* a = ht_alloc__init();
    if (!a || !ht_slice__eq(s, lit) || ht_result__status(HT_E_BAD_URI) != 400) return 1;
    void* p = ht_alloc__alloc(a, 24);
    if (!p || (reinterpret_cast<uintptr_t>(p) % alignof(max_align_t)) != 0) return 1;
    ht_alloc__free(a, p, 24);
    ht_alloc__finalize(a);
    std::printf("%s\n", ht_result__str(HT_E_BAD_URI));
    return 0;
}
CPP
  if ! $cxx $flags "$t/main.cpp" "$lib" "$@" -lpthread -o "$t/main" 2>"$t/err"; then
    echo "FAIL: a C++ program with $cxx does not build or link against $lib:"
    head -n 20 "$t/err"
    status=1
  elif ! out=$("$t/main"); then
    echo "FAIL: the C++ program built with $cxx failed"
    status=1
  elif [ "$out" != "malformed URI" ]; then
    echo "FAIL: the C++ program built with $cxx printed '$out'"
    status=1
  fi
  echo "$cxx: $n headers compiled as C++17; a C++ program linked"
done
[ $ran -eq 0 ] && exit 77
exit $status
