# Cross-compiling hachettp for 64-bit Windows with Debian's mingw-w64
# (apt-get install gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64
# mingw-w64-x86-64-dev libz-mingw-w64-dev); the result runs under wine64 too:
#   cmake -S . -B build/win -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake \
#         -DCMAKE_BUILD_TYPE=Release -DHT_HOST_HTGEN=$PWD/build/<linux>/codegen/htgen
# HT_HOST_HTGEN: a htgen built for this machine (an absolute path; without
# it configuring stops with how to build one), to compile routes.ht files
# (the Windows htgen.exe is built too, but cannot run here without wine).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(_ht_mingw x86_64-w64-mingw32)
# The -posix variant (winpthreads underneath, linked statically): the runtime
# itself uses Win32 threads, but either variant works.
find_program(CMAKE_C_COMPILER NAMES ${_ht_mingw}-gcc-posix ${_ht_mingw}-gcc REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${_ht_mingw}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${_ht_mingw})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Self-contained .exe files: no libgcc/libwinpthread DLLs to ship (or to
# point wine at).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc")
# Windows 8 APIs (GetQueuedCompletionStatusEx, CancelIoEx, InitOnce,
# GetFileInformationByHandleEx, WSA_FLAG_NO_HANDLE_INHERIT).
add_compile_definitions(_WIN32_WINNT=0x0602 WINVER=0x0602)
# C99 printf (%zu, %lld, %ju) from mingw-w64's own stdio instead of msvcrt's.
add_compile_definitions(__USE_MINGW_ANSI_STDIO=1)
# Sanitizers do not exist for mingw; Check is not packaged for it either.
set(HT_SANITIZE OFF CACHE BOOL "" FORCE)
set(HT_BUILD_TESTS OFF CACHE BOOL "" FORCE)
# zlib (ht --precompress, htgen's embed): Debian's libz-mingw-w64-dev, the
# static archive, so no zlib1.dll either.
set(ZLIB_USE_STATIC_LIBS ON)
