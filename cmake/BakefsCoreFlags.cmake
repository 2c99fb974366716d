# The driver core's compile flags, read from driver/flags.mk, the file platform/rump/Makefile
# includes, so that CMake and rumpmake compile the core alike.
#
#   BAKEFS_CORE_CXXFLAGS          every build of the core (the host library too)
#   BAKEFS_CORE_KERNEL_CXXFLAGS   what a kernel build adds
#   bakefs_core_flags_from_mk(<file> <prefix>)   sets <prefix><NAME> for each NAME=<tab>flags
#                                                line of a make file (tests use it too).
# No include guard: each directory that includes this file gets the variables.

function(bakefs_core_flags_from_mk file prefix)
  file(STRINGS ${file} lines REGEX "^[A-Z_]+=")
  foreach(line IN LISTS lines)
    string(REGEX MATCH "^([A-Z_]+)=[ \t]*(.*)$" _ "${line}")
    set(name ${CMAKE_MATCH_1})
    set(value "${CMAKE_MATCH_2}")
    if(value MATCHES "[$]")
      message(FATAL_ERROR "${file}: ${name} holds a make expression, which CMake cannot read")
    endif()
    separate_arguments(value UNIX_COMMAND "${value}")
    set(${prefix}${name} "${value}" PARENT_SCOPE)
  endforeach()
endfunction()

set(BAKEFS_CORE_FLAGS_FILE ${CMAKE_CURRENT_LIST_DIR}/../driver/flags.mk)
bakefs_core_flags_from_mk(${BAKEFS_CORE_FLAGS_FILE} "")
foreach(name BAKEFS_CORE_CXXFLAGS BAKEFS_CORE_KERNEL_CXXFLAGS)
  if(NOT ${name})
    message(FATAL_ERROR "${BAKEFS_CORE_FLAGS_FILE} does not set ${name}")
  endif()
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${BAKEFS_CORE_FLAGS_FILE})
