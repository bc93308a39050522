# hachettp_add_routes(<target> <routes.ht> [PREFIX <name>] [OUTPUT_DIR <dir>])
#
# Compiles a routes.ht into <target>: htgen -> PREFIX_routes.h + PREFIX_routes.re
# (+ PREFIX_mime.gperf when the file has `mime` lines) -> re2c (and gperf) -> C.
# Only editing routes.ht (or rebuilding htgen) regenerates; the generated
# header's directory is added to <target>'s include path.
#
# re2c runs with -Wunreachable-rules -Werror: a route shadowed by a more
# specific one fails the build, a second proof behind htgen's own checks.
#
# PREFIX defaults to the file's `prefix` line ("routes" without one); the
# command line wins over the file. The file is a configure dependency, since
# the set of outputs (mime or not) and the prefix are read from it.
function(hachettp_add_routes target routes)
  cmake_parse_arguments(PARSE_ARGV 2 HR "" "PREFIX;OUTPUT_DIR" "")
  get_filename_component(_src "${routes}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${_src}")
    message(FATAL_ERROR "hachettp_add_routes: ${_src} does not exist")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_src}")
  file(STRINGS "${_src}" _prefix_lines REGEX "^[ \t]*prefix[ \t]+[A-Za-z_][A-Za-z0-9_]*")
  file(STRINGS "${_src}" _mime_lines REGEX "^[ \t]*mime[ \t]")
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
  set(_gen_outputs "${_h}" "${_re}")
  set(_sources "${_c}")
  if(_mime_lines)
    set(_gp "${_out}/${_prefix}_mime.gperf")
    set(_mc "${_out}/${_prefix}_mime.c")
    list(APPEND _gen_outputs "${_gp}")
    list(APPEND _sources "${_mc}")
  endif()

  add_custom_command(
    OUTPUT ${_gen_outputs}
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${_out}"
    COMMAND htgen "${_src}" --prefix "${_prefix}" -o "${_out}"
    DEPENDS "${_src}" htgen
    COMMENT "htgen ${routes} (${_prefix})"
    VERBATIM)
  add_custom_command(
    OUTPUT "${_c}"
    COMMAND "${RE2C_EXECUTABLE}" -W -Wno-nondeterministic-tags -Wunreachable-rules -Werror
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
  if(_mime_lines AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    # gperf's hash function ignores `len` for some key sets.
    set_source_files_properties("${_mc}" PROPERTIES COMPILE_OPTIONS "-Wno-unused-parameter")
  endif()
  target_sources(${target} PRIVATE ${_sources} "${_h}")
  target_include_directories(${target} PRIVATE "${_out}")
endfunction()
