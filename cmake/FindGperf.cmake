# FindGperf: the gperf perfect-hash generator (build-time only).
# Sets GPERF_EXECUTABLE and Gperf_FOUND; stops with the Debian package name.
find_program(GPERF_EXECUTABLE NAMES gperf)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Gperf
  REQUIRED_VARS GPERF_EXECUTABLE
  REASON_FAILURE_MESSAGE "gperf not found: apt-get install gperf")
mark_as_advanced(GPERF_EXECUTABLE)
