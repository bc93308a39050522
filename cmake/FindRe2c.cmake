# FindRe2c: the re2c lexer generator (build-time only).
# Sets RE2C_EXECUTABLE, RE2C_VERSION and Re2c_FOUND; stops with the Debian package name.
find_program(RE2C_EXECUTABLE NAMES re2c)
if(RE2C_EXECUTABLE)
  execute_process(COMMAND ${RE2C_EXECUTABLE} --version OUTPUT_VARIABLE _re2c_out
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  string(REGEX MATCH "[0-9]+(\\.[0-9]+)+" RE2C_VERSION "${_re2c_out}")
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Re2c
  REQUIRED_VARS RE2C_EXECUTABLE
  VERSION_VAR RE2C_VERSION
  REASON_FAILURE_MESSAGE "re2c not found: apt-get install re2c")
mark_as_advanced(RE2C_EXECUTABLE)
