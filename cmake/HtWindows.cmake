# Windows (cross) builds: the per-target adjustments that keep the sources
# free of platform #ifdefs. Included by the top CMakeLists.txt when WIN32.
if(TARGET htgen)
  # strndup, realpath: not in mingw-w64's C library.
  target_compile_options(htgen PRIVATE -include ${PROJECT_SOURCE_DIR}/codegen/win32_compat.h
    # Its printf-like helpers say format(printf), which mingw-w64 maps to
    # msvcrt's archetype (no %zu) even though __USE_MINGW_ANSI_STDIO gives
    # them C99 printf; the Linux build checks those formats.
    -Wno-format)
endif()
