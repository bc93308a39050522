# Install and packaging (issue 6): `cmake --install build --prefix P` gives
#   P/lib/libhachettp.a, P/include/ht/*.h (+ ht/config_build.h),
#   P/bin/htgen (and P/bin/ht, from examples/ht), their man pages in
#   P/share/man/man1, LICENSE, README.md and dsl/SPEC.md in P/share/doc/hachettp,
#   P/lib/cmake/hachettp/ (hachettpConfig.cmake, ...ConfigVersion.cmake,
#     the exported targets, HachettpRoutes.cmake + FindRe2c/FindGperf),
#   P/lib/pkgconfig/hachettp.pc.
# Included from the top CMakeLists.txt once the targets exist.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# One version: project() and <ht/types.h> must agree (htgen and the
# generated banners print the header's, the package reports project()'s).
file(STRINGS "${PROJECT_SOURCE_DIR}/runtime/include/ht/types.h" _ht_vline
     REGEX "^#define HT_VERSION_STRING \"[^\"]*\"")
string(REGEX REPLACE ".*\"([^\"]*)\".*" "\\1" _ht_hversion "${_ht_vline}")
if(NOT _ht_hversion STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "version mismatch: project() says ${PROJECT_VERSION}, "
                      "<ht/types.h> says '${_ht_hversion}'")
endif()

# <ht/config_build.h>: the backend, visible to consumers of the installed
# library. Generated into the build tree too, so in-tree code sees it the same way.
# The same choice as runtime/src/loop/CMakeLists.txt makes.
set(HT_CONFIG_BUILD_IOURING 0)
set(HT_CONFIG_BUILD_EPOLL 0)
set(HT_CONFIG_BUILD_IOCP 0)
set(HT_PC_LIBS_EXTRA "")
if(WIN32)
  set(HT_CONFIG_BUILD_IOCP 1)
  set(HT_CONFIG_BUILD_BACKEND_NAME iocp)
  set(HT_PC_LIBS_EXTRA " -lws2_32 -lmswsock -lntdll -luser32")
elseif(HT_IO_URING)
  set(HT_CONFIG_BUILD_IOURING 1)
  set(HT_CONFIG_BUILD_BACKEND_NAME io_uring)
else()
  set(HT_CONFIG_BUILD_EPOLL 1)
  set(HT_CONFIG_BUILD_BACKEND_NAME epoll)
endif()
set(_ht_gen_inc "${PROJECT_BINARY_DIR}/include-gen")
configure_file("${PROJECT_SOURCE_DIR}/cmake/config_build.h.in" "${_ht_gen_inc}/ht/config_build.h" @ONLY)
target_include_directories(hachettp PUBLIC $<BUILD_INTERFACE:${_ht_gen_inc}>)

# The library exports as hachettp::libhachettp (the in-tree alias's name).
set_target_properties(hachettp PROPERTIES EXPORT_NAME libhachettp)
install(TARGETS hachettp EXPORT hachettpTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# Every <ht/*.h>, <ht/route_rt.h> and <ht/route_dispatch.h> included: the
# fixed code that htgen's generated matchers and dispatch files include.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/runtime/include/ht"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES "${_ht_gen_inc}/ht/config_build.h" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ht)
install(TARGETS htgen EXPORT hachettpTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES "${PROJECT_SOURCE_DIR}/codegen/htgen.1" DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
# The license (MIT) with the docs: share/doc/hachettp/.
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" "${PROJECT_SOURCE_DIR}/README.md" "${PROJECT_SOURCE_DIR}/dsl/SPEC.md"
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(_ht_cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/hachettp)
install(EXPORT hachettpTargets NAMESPACE hachettp:: DESTINATION ${_ht_cmakedir})
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/hachettpConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/hachettpConfig.cmake" INSTALL_DESTINATION ${_ht_cmakedir})
# Pre-1.0: 0.1.x is compatible with a request for 0.1; 0.2 is not (minor
# bumps may break the API until 1.0). SameMinorVersion is that rule.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/hachettpConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/hachettpConfig.cmake"
              "${PROJECT_BINARY_DIR}/hachettpConfigVersion.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/HachettpRoutes.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/FindRe2c.cmake"
              "${PROJECT_SOURCE_DIR}/cmake/FindGperf.cmake"
        DESTINATION ${_ht_cmakedir})

# hachettp.pc, relocatable through ${pcfiledir}.
set(_ht_pcdir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
file(RELATIVE_PATH HT_PC_PREFIX_REL "/x/${_ht_pcdir}" "/x")
string(REGEX REPLACE "/$" "" HT_PC_PREFIX_REL "${HT_PC_PREFIX_REL}")
if(HT_PC_PREFIX_REL STREQUAL "")
  set(HT_PC_PREFIX_REL ".")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/hachettp.pc.in" "${PROJECT_BINARY_DIR}/hachettp.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/hachettp.pc" DESTINATION ${_ht_pcdir})
