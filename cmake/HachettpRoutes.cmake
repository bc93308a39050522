# hachettp_add_routes(<target> <routes.ht> [PREFIX <name>] [OUTPUT_DIR <dir>] [MATCH_ONLY]
#                     [HTGEN_OPTIONS <option>...])
#
# Compiles a routes.ht into <target>: htgen -> PREFIX_routes.h + PREFIX_routes.re
# + PREFIX_dispatch.c (+ PREFIX_mime.gperf when the file has `mime` lines)
# -> re2c (and gperf) -> C. PREFIX_dispatch.c (PREFIX__dispatch, the server
# callback, and the mounts) calls every handler and needs libhachettp;
# MATCH_ONLY leaves it out (the pure matcher, for tests and tools).
#
# PREFIX_MOUNT_BASE, where PREFIX__mounts_open(nullptr, ...) looks for mount
# directories, is the directory of routes.ht relative to the target's build
# directory (CMAKE_CURRENT_BINARY_DIR): a relative path, so the generated
# files stay reproducible; a program run from its build directory finds its
# mounts, and one run elsewhere passes the base itself.
# Only editing routes.ht (or rebuilding htgen) regenerates — and, with
# `embed PREFIX DIR` lines, adding, changing or removing a file under DIR
# (htgen's depfile); the generated header's directory is added to
# <target>'s include path, and with a `context` line the directory of
# routes.ht too (where the context's header is looked up). Embedded trees become PREFIX_embed.c +
# PREFIX_embed.bin (assembled in with .incbin: GNU as or clang's integrated
# assembler; built and served on Linux, and cross-built with mingw-w64 and
# served under Wine).
#
# re2c runs with -Wunreachable-rules -Werror: a route shadowed by a more
# specific one fails the build, a second proof behind htgen's own checks.
# (-Wno-sentinel-in-midrule: a plain parameter's loop admits NUL so that it
# tests one byte; a path holding a NUL never reaches the DFA.)
#
# HTGEN_OPTIONS go to htgen as they are (e.g. --code-weight N: how much of
# the matcher is C code rather than tables; see htgen --help).
#
# PREFIX defaults to the file's `prefix` line ("routes" without one); the
# command line wins over the file. The file is a configure dependency, since
# the set of outputs (mime or not) and the prefix are read from it.
#
# The same file serves an installed hachettp (find_package(hachettp)): htgen
# is then the imported hachettp::htgen, and re2c/gperf are looked up with the
# Find modules installed beside this file when the function is first called.
function(hachettp_add_routes target routes)
  cmake_parse_arguments(PARSE_ARGV 2 HR "MATCH_ONLY" "PREFIX;OUTPUT_DIR" "HTGEN_OPTIONS")
  if(CMAKE_CROSSCOMPILING AND TARGET htgen AND NOT HT_HOST_HTGEN)
    # Said now, at configure time, rather than as "htgen: not found" from
    # the build's first routes file: the htgen this tree builds is a program
    # for the target, which this machine cannot run.
    message(FATAL_ERROR "hachettp_add_routes(${target} ${routes}): cross-compiling, so routes files "
            "need an htgen that runs on this machine: build one (cmake -S . -B build/host "
            "-DHT_BUILD_TESTS=OFF -DHT_BUILD_EXAMPLES=OFF && cmake --build build/host --target htgen) "
            "and pass -DHT_HOST_HTGEN=$PWD/build/host/codegen/htgen")
  endif()
  if(CMAKE_CROSSCOMPILING AND HT_HOST_HTGEN)
    # A cross build (cmake/toolchain-mingw64.cmake): its own htgen is a
    # Windows program; routes are compiled by one built for this machine.
    if(NOT IS_ABSOLUTE "${HT_HOST_HTGEN}" OR NOT EXISTS "${HT_HOST_HTGEN}" OR IS_DIRECTORY "${HT_HOST_HTGEN}")
      message(FATAL_ERROR "HT_HOST_HTGEN='${HT_HOST_HTGEN}': want the absolute path of an htgen built "
              "for this machine")
    endif()
    set(_htgen "${HT_HOST_HTGEN}")
    set(_htgen_dep "${HT_HOST_HTGEN}")
  elseif(TARGET htgen)
    set(_htgen htgen) # inside the hachettp tree
    set(_htgen_dep htgen)
  elseif(TARGET hachettp::htgen)
    set(_htgen hachettp::htgen)
    set(_htgen_dep "$<TARGET_FILE:hachettp::htgen>")
  else()
    message(FATAL_ERROR "hachettp_add_routes: no htgen (find_package(hachettp) first)")
  endif()
  foreach(_tool Re2c Gperf)
    string(TOUPPER "${_tool}" _TOOL)
    if(NOT ${_TOOL}_EXECUTABLE)
      # Beside this file (a variable of the defining directory would not
      # be seen from a sibling directory calling the function).
      include("${CMAKE_CURRENT_FUNCTION_LIST_DIR}/Find${_tool}.cmake")
      if(NOT ${_TOOL}_EXECUTABLE)
        message(FATAL_ERROR "hachettp_add_routes: ${_tool} not found (apt-get install re2c gperf)")
      endif()
    endif()
  endforeach()
  get_filename_component(_src "${routes}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${_src}")
    message(FATAL_ERROR "hachettp_add_routes: ${_src} does not exist")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_src}")
  file(STRINGS "${_src}" _prefix_lines REGEX "^[ \t]*prefix[ \t]+[A-Za-z_][A-Za-z0-9_]*")
  file(STRINGS "${_src}" _mime_lines REGEX "^[ \t]*mime[ \t]")
  file(STRINGS "${_src}" _embed_lines REGEX "^[ \t]*embed[ \t]")
  file(STRINGS "${_src}" _context_lines REGEX "^[ \t]*context[ \t]")
  if(HR_PREFIX)
    set(_prefix "${HR_PREFIX}")
  elseif(_prefix_lines)
    list(GET _prefix_lines 0 _p)
    string(REGEX REPLACE "^[ \t]*prefix[ \t]+([A-Za-z_][A-Za-z0-9_]*).*" "\\1" _prefix "${_p}")
  else()
    set(_prefix routes)
  endif()
  if(HR_OUTPUT_DIR)
    set(_out "${HR_OUTPUT_DIR}")
  else()
    set(_out "${CMAKE_CURRENT_BINARY_DIR}/${target}_routes")
  endif()

  set(_h "${_out}/${_prefix}_routes.h")
  set(_re "${_out}/${_prefix}_routes.re")
  set(_c "${_out}/${_prefix}_routes.c")
  set(_dc "${_out}/${_prefix}_dispatch.c")
  set(_gen_outputs "${_h}" "${_re}" "${_dc}")
  set(_sources "${_c}")
  if(NOT HR_MATCH_ONLY)
    list(APPEND _sources "${_dc}")
  endif()
  get_filename_component(_src_dir "${_src}" DIRECTORY)
  file(RELATIVE_PATH _base "${CMAKE_CURRENT_BINARY_DIR}" "${_src_dir}")
  if(_base STREQUAL "")
    set(_base ".")
  endif()
  if(_mime_lines)
    set(_gp "${_out}/${_prefix}_mime.gperf")
    set(_mc "${_out}/${_prefix}_mime.c")
    list(APPEND _gen_outputs "${_gp}")
    list(APPEND _sources "${_mc}")
  endif()

  # embed lines: PREFIX_embed.c (tables) + PREFIX_embed.bin (the bytes, which
  # the C file .incbin's from PREFIX_EMBED_BLOB). htgen's depfile names every
  # file and directory it read, so adding, changing or removing a file under
  # an embedded DIR reruns it; the object depends on the blob.
  set(_htgen_extra "")
  set(_depfile_args "")
  if(_embed_lines)
    set(_ec "${_out}/${_prefix}_embed.c")
    set(_eb "${_out}/${_prefix}_embed.bin")
    set(_dep "${_out}/${_prefix}_routes.d")
    list(APPEND _gen_outputs "${_ec}" "${_eb}")
    if(NOT HR_MATCH_ONLY)
      list(APPEND _sources "${_ec}")
    endif()
    string(TOUPPER "${_prefix}" _P)
    set_source_files_properties("${_ec}" PROPERTIES
      COMPILE_DEFINITIONS "${_P}_EMBED_BLOB=\"${_eb}\""
      OBJECT_DEPENDS "${_eb}")
    set(_htgen_extra --depfile "${_dep}")
    if(CMAKE_GENERATOR MATCHES "Ninja")
      set(_depfile_args DEPFILE "${_dep}")
    else()
      # The Makefile generators (CMake 3.25) keep a custom command's depfile
      # entries after the file is gone, and then rerun it on every build;
      # there, the embedded trees are globbed instead: CONFIGURE_DEPENDS
      # re-globs at each build and reconfigures when files come or go, and
      # the directories are dependencies too (a removal changes their mtime).
      foreach(_line IN LISTS _embed_lines)
        string(REGEX REPLACE "^[ \t]*embed[ \t]+[^ \t]+[ \t]+([^ \t#]+).*" "\\1" _edir "${_line}")
        get_filename_component(_edir "${_edir}" ABSOLUTE BASE_DIR "${_src_dir}")
        file(GLOB_RECURSE _efiles CONFIGURE_DEPENDS FOLLOW_SYMLINKS LIST_DIRECTORIES true "${_edir}/*")
        list(APPEND _depfile_args "${_edir}" ${_efiles})
      endforeach()
      if(_depfile_args)
        list(PREPEND _depfile_args DEPENDS)
      endif()
    endif()
  endif()

  add_custom_command(
    OUTPUT ${_gen_outputs}
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_out}"
    COMMAND ${_htgen} "${_src}" --prefix "${_prefix}" --mount-base "${_base}" -o "${_out}"
            ${_htgen_extra} ${HR_HTGEN_OPTIONS}
    DEPENDS "${_src}" ${_htgen_dep}
    ${_depfile_args}
    COMMENT "htgen ${routes} (${_prefix})"
    VERBATIM)
  add_custom_command(
    OUTPUT "${_c}"
    COMMAND "${RE2C_EXECUTABLE}" -W -Wno-nondeterministic-tags -Wno-sentinel-in-midrule -Wunreachable-rules -Werror
            --no-generation-date -o "${_c}" "${_re}"
    DEPENDS "${_re}"
    COMMENT "re2c ${_prefix}_routes.re"
    VERBATIM)
  if(_mime_lines)
    add_custom_command(
      OUTPUT "${_mc}"
      COMMAND "${GPERF_EXECUTABLE}" "--output-file=${_mc}" "${_gp}"
      DEPENDS "${_gp}"
      COMMENT "gperf ${_prefix}_mime.gperf"
      VERBATIM)
  endif()
  # Optimized builds add HT_ROUTES_OPT (a list) to the matcher's flags. With
  # gcc the default turns if-conversion off: on the one large function of
  # the segment automaton it made gcc's register dataflow twice as slow
  # (1,015 routes at -O3: 4.1 s vs 2.5 s) for no fewer instructions per
  # match (BENCHMARKS.md, Router). Debug builds keep their flags.
  if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
    set(_ht_routes_opt "-fno-if-conversion")
  else()
    set(_ht_routes_opt "")
  endif()
  set(HT_ROUTES_OPT "${_ht_routes_opt}" CACHE STRING
      "flags added to generated route matchers' (not in Debug builds)")
  if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    foreach(_opt IN LISTS HT_ROUTES_OPT) # per config: multi-config generators too
      set_property(SOURCE "${_c}" APPEND PROPERTY COMPILE_OPTIONS "$<$<NOT:$<CONFIG:Debug>>:${_opt}>")
    endforeach()
  endif()
  if(_mime_lines AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    # gperf's hash function ignores `len` for some key sets.
    set_source_files_properties("${_mc}" PROPERTIES COMPILE_OPTIONS "-Wno-unused-parameter")
  endif()
  target_sources(${target} PRIVATE ${_sources} "${_h}")
  target_include_directories(${target} PRIVATE "${_out}")
  if(_context_lines)
    # `context TYPE "app.h"`: PREFIX_routes.h includes the header as written,
    # found beside routes.ht.
    target_include_directories(${target} PRIVATE "${_src_dir}")
  endif()
endfunction()
