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

# The Check suites that need nothing POSIX, built against tests/windows/check.h
# (an in-process subset of Check's API: Check has no mingw-w64 package; and
# tests/windows/sys/mman.h for the guard pages) and run under Wine by
# tests/windows/run.sh. Everything with sockets or files is left out
# (covered by tests/portable/http_cases.py against the servers instead).
option(HT_WINDOWS_UNIT_TESTS "Windows: build the portable unit suites (tests/windows)" ON)
if(HT_WINDOWS_UNIT_TESTS)
  foreach(_t base/check_slice base/check_alloc base/check_bytes base/check_uri
             http/check_parse http/check_chunked http/check_header_id files/check_mime
             files/check_httpfile)
    get_filename_component(_n ${_t} NAME)
    add_executable(${_n} ${PROJECT_SOURCE_DIR}/tests/${_t}.c)
    target_link_libraries(${_n} PRIVATE hachettp)
    target_include_directories(${_n} BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/tests/windows
                               ${PROJECT_SOURCE_DIR}/runtime/src ${PROJECT_BINARY_DIR}/runtime/gen
                               ${PROJECT_SOURCE_DIR}/tests)
    target_compile_definitions(${_n} PRIVATE _GNU_SOURCE _POSIX_THREAD_SAFE_FUNCTIONS=200112L)
    target_compile_options(${_n} PRIVATE ${HT_WARNINGS} -Wno-missing-prototypes)
    list(APPEND HT_WINDOWS_UNIT_SUITES ${_n})
    # check_parse is two files (tests/http/parse_harness.h); tests/windows/check.h
    # keeps its state in statics, so they are compiled as one translation unit.
    if(_n STREQUAL "check_parse")
      target_sources(${_n} PRIVATE ${PROJECT_SOURCE_DIR}/tests/http/check_parse_tables.c)
      set_target_properties(${_n} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 0)
    endif()
    if(_n STREQUAL "check_mime")
      target_compile_definitions(${_n} PRIVATE HT_MIME_LIST="${PROJECT_SOURCE_DIR}/runtime/src/files/mime.list")
    endif()
  endforeach()
  # The IOCP backend's operations one by one (Windows only).
  add_executable(check_loop_iocp ${PROJECT_SOURCE_DIR}/tests/windows/check_loop_iocp.c)
  target_link_libraries(check_loop_iocp PRIVATE hachettp)
  target_include_directories(check_loop_iocp BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/tests/windows)
  target_compile_options(check_loop_iocp PRIVATE ${HT_WARNINGS} -Wno-missing-prototypes)
  list(APPEND HT_WINDOWS_UNIT_SUITES check_loop_iocp)
  # files/resolve_win32.c and listing_win32.c directly (Windows only).
  add_executable(check_fs_win32 ${PROJECT_SOURCE_DIR}/tests/windows/check_fs_win32.c)
  target_link_libraries(check_fs_win32 PRIVATE hachettp)
  target_include_directories(check_fs_win32 BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/tests/windows
                             ${PROJECT_SOURCE_DIR}/runtime/src)
  target_compile_options(check_fs_win32 PRIVATE ${HT_WARNINGS} -Wno-missing-prototypes)
  list(APPEND HT_WINDOWS_UNIT_SUITES check_fs_win32)
  # server/signal_win32.c: the hidden window, WM_CLOSE, console events.
  add_executable(check_signal_win32 ${PROJECT_SOURCE_DIR}/tests/windows/check_signal_win32.c)
  target_link_libraries(check_signal_win32 PRIVATE hachettp)
  target_include_directories(check_signal_win32 BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/tests/windows)
  target_compile_options(check_signal_win32 PRIVATE ${HT_WARNINGS} -Wno-missing-prototypes)
  list(APPEND HT_WINDOWS_UNIT_SUITES check_signal_win32)
  add_custom_target(windows_unit DEPENDS ${HT_WINDOWS_UNIT_SUITES})
endif()

# Workers sharing one listening socket through per-loop duplicates: every
# worker must accept some connections (tests/windows/run.sh drives it).
add_executable(win_workers ${PROJECT_SOURCE_DIR}/tests/windows/win_workers.c)
target_link_libraries(win_workers PRIVATE hachettp)
target_compile_options(win_workers PRIVATE ${HT_WARNINGS})
# Sends the console close/log-off/shutdown events to a process by image name
# (tests/windows/stop_check.py).
add_executable(win_stop ${PROJECT_SOURCE_DIR}/tests/windows/win_stop.c)
target_include_directories(win_stop PRIVATE ${PROJECT_SOURCE_DIR}/runtime/include)
target_link_libraries(win_stop PRIVATE advapi32)
target_compile_options(win_stop PRIVATE ${HT_WARNINGS})
