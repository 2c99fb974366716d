# What `cmake --install build --prefix P` puts under P (GNUInstallDirs), in two components
# that the Debian packages follow (debian/*.install):
#
#   tools  bin/mkimage, bin/bakefs; share/man/man1/mkimage.1, bakefs.1
#   dev    include/bakefs/ (the format, the C ABI, the C++ wrapper, the posix platform)
#          lib/libbakefs_driver.a, lib/libbakefs_posix.a
#          lib/cmake/bakefs/ (find_package(bakefs): bakefs::driver, bakefs::posix,
#                             bakefs_embed_image())
#          lib/pkgconfig/bakefs.pc
#          share/bakefs/ (the rumprun make fragment platform/rump/bakefs.mk with what it
#                         builds the rump component from: driver/, include/, platform/rump/)
#
# Every installed file that names a location names it relative to itself, so the tree can be
# installed under any prefix and moved (DESTDIR, --prefix at install time).
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(BAKEFS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/bakefs)
set(BAKEFS_DATA_DIR ${CMAKE_INSTALL_DATADIR}/bakefs)

# ---- tools --------------------------------------------------------------------------------------
install(TARGETS mkimage bakefs RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)

# Man pages: docs/man/*.scd through scdoc (Debian's scdoc package).
option(BAKEFS_MAN "Build and install the man pages (needs scdoc)" ON)
if(BAKEFS_MAN)
  find_program(BAKEFS_SCDOC scdoc)
  if(NOT BAKEFS_SCDOC)
    message(FATAL_ERROR "scdoc not found: install Debian's scdoc package (scripts/bootstrap "
                        "does), or configure with -DBAKEFS_MAN=OFF to build without man pages")
  endif()
  set(man_pages "")
  foreach(page mkimage.1 bakefs.1)
    set(source ${PROJECT_SOURCE_DIR}/docs/man/${page}.scd)
    set(output ${PROJECT_BINARY_DIR}/man/${page})
    add_custom_command(OUTPUT ${output}
                       COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
                       COMMAND ${BAKEFS_SCDOC} < ${source} > ${output}
                       DEPENDS ${source}
                       COMMENT "scdoc ${page}")
    list(APPEND man_pages ${output})
  endforeach()
  add_custom_target(man ALL DEPENDS ${man_pages})
  install(FILES ${man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
endif()

# ---- libraries and headers ------------------------------------------------------------------
set_target_properties(bakefs_format PROPERTIES EXPORT_NAME format)
set_target_properties(bakefs_driver PROPERTIES EXPORT_NAME driver)
set_target_properties(bakefs_platform_posix PROPERTIES EXPORT_NAME posix OUTPUT_NAME bakefs_posix)
install(TARGETS bakefs_format bakefs_driver bakefs_platform_posix EXPORT bakefsTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES
  ${PROJECT_SOURCE_DIR}/include/bakefs/format.h
  ${PROJECT_SOURCE_DIR}/include/bakefs/bakefs.h
  ${PROJECT_SOURCE_DIR}/include/bakefs/bakefs.hpp
  ${PROJECT_SOURCE_DIR}/include/bakefs/embed.h
  ${PROJECT_SOURCE_DIR}/include/bakefs/errno.h
  ${PROJECT_SOURCE_DIR}/platform/posix/include/bakefs/posix.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/bakefs COMPONENT dev)

# ---- find_package(bakefs) -------------------------------------------------------------------
install(EXPORT bakefsTargets NAMESPACE bakefs:: DESTINATION ${BAKEFS_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/bakefsConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/cmake/bakefsConfig.cmake
                              INSTALL_DESTINATION ${BAKEFS_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/bakefsConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/bakefsConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/bakefsConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/BakefsEmbed.cmake
        DESTINATION ${BAKEFS_CMAKE_DIR} COMPONENT dev)

# ---- pkg-config -----------------------------------------------------------------------------
# prefix is found from the .pc file's own place (${pcfiledir}), so --prefix at install time and
# DESTDIR need no reconfigure.
file(RELATIVE_PATH BAKEFS_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
string(REGEX REPLACE "/$" "" BAKEFS_PC_TO_PREFIX "${BAKEFS_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/bakefs.pc.in ${PROJECT_BINARY_DIR}/bakefs.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/bakefs.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT dev)

# ---- the rumprun make fragment and the rump component's sources ------------------------------
# bakefs.mk builds librumpfs_bakefs with rumprun's rumpmake from these files (BAKEFS_SRC
# defaults to the tree holding bakefs.mk, two levels up: share/bakefs).
install(FILES ${PROJECT_SOURCE_DIR}/platform/rump/Makefile
        DESTINATION ${BAKEFS_DATA_DIR}/platform/rump COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/platform/rump/
        DESTINATION ${BAKEFS_DATA_DIR}/platform/rump COMPONENT dev
        FILES_MATCHING PATTERN "*.c" PATTERN "*.h" PATTERN "*.mk")
install(PROGRAMS ${PROJECT_SOURCE_DIR}/platform/rump/zstd/get-zstd-source.sh
        DESTINATION ${BAKEFS_DATA_DIR}/platform/rump/zstd COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/driver/ DESTINATION ${BAKEFS_DATA_DIR}/driver
        COMPONENT dev FILES_MATCHING PATTERN "*.cpp" PATTERN "*.h" PATTERN "flags.mk")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/bakefs DESTINATION ${BAKEFS_DATA_DIR}/include
        COMPONENT dev)
