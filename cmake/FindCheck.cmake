# FindCheck: the Check unit-test framework (tests only).
# Defines the imported target Check::check; stops with the Debian package name.
find_path(CHECK_INCLUDE_DIR NAMES check.h)
find_library(CHECK_LIBRARY NAMES check_pic check)
find_library(SUBUNIT_LIBRARY NAMES subunit) # Debian's check is built against libsubunit
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Check
  REQUIRED_VARS CHECK_LIBRARY CHECK_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "Check not found: apt-get install check")
if(Check_FOUND AND NOT TARGET Check::check)
  find_package(Threads REQUIRED)
  add_library(Check::check UNKNOWN IMPORTED)
  set_target_properties(Check::check PROPERTIES
    IMPORTED_LOCATION "${CHECK_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CHECK_INCLUDE_DIR}")
  set(_check_deps Threads::Threads m)
  if(SUBUNIT_LIBRARY)
    list(APPEND _check_deps ${SUBUNIT_LIBRARY})
  endif()
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    list(APPEND _check_deps rt)
  endif()
  set_target_properties(Check::check PROPERTIES INTERFACE_LINK_LIBRARIES "${_check_deps}")
endif()
mark_as_advanced(CHECK_INCLUDE_DIR CHECK_LIBRARY SUBUNIT_LIBRARY)
