# The driver core is compiled by CMake (the host library, the kernel build that the
# driver_kernel_* tests check) and by rumpmake (platform/rump/Makefile, what a rump kernel
# ships). Both take their flags from driver/flags.mk; this check fails when the compile lines
# drift apart anyway. It compares the code-generation and preprocessor options (-f, -D, -U):
# CMake's from compile_commands.json (what was compiled), rumpmake's by expanding the Makefile's
# BAKEFS_DRIVER_CXXFLAGS and its .pico rule (what a rump kernel component is built from).
# Left out as the kernel's own: the -m flags (rumpmake takes the kernel's CFLAGS:M-m*), -O/-g
# and the build type's -DNDEBUG, -std, warnings and include paths.
#
#   cmake -DSOURCE_DIR=<repo> -DCOMPILE_COMMANDS=<build>/compile_commands.json -P this file
cmake_minimum_required(VERSION 3.20)
include(${SOURCE_DIR}/cmake/BakefsCoreFlags.cmake)
set(makefile ${SOURCE_DIR}/platform/rump/Makefile)

# The options that matter, from a list of compile-line words.
function(semantic_flags out)
  set(result "")
  foreach(word IN LISTS ARGN)
    if(word MATCHES "^-[fDU]")
      list(APPEND result "${word}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES result)
  list(SORT result)
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

# ---- rumpmake's line: BAKEFS_DRIVER_CXXFLAGS (with continuation lines) and the .pico rule ----
file(READ ${makefile} text)
string(REPLACE "\\\n" " " text "${text}")
string(REPLACE ";" "\\;" text "${text}")
string(REPLACE "\n" ";" lines "${text}")
set(mk_line "")
set(pico_extra "")
set(includes_flags_mk OFF)
foreach(line IN LISTS lines)
  if(line MATCHES "^BAKEFS_DRIVER_CXXFLAGS=(.*)$")
    set(mk_line "${CMAKE_MATCH_1}")
  elseif(line MATCHES "[$]{CXX} [$]{BAKEFS_DRIVER_CXXFLAGS} (.*) -c [$]{BAKEFS_TOP}/driver/.* -o")
    set(pico_extra "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^[.]include \"[$]{BAKEFS_TOP}/driver/flags.mk\"")
    set(includes_flags_mk ON)
  endif()
endforeach()
if(NOT includes_flags_mk)
  message(FATAL_ERROR "${makefile} does not include driver/flags.mk")
endif()
if(mk_line STREQUAL "" OR pico_extra STREQUAL "")
  message(FATAL_ERROR "${makefile}: no BAKEFS_DRIVER_CXXFLAGS or no .pico rule for the core")
endif()
# Expand the make variables: flags.mk's by value; the kernel's own (DBG, CFLAGS:M-m*) and the
# include paths are left out; anything else is a flag this check does not know.
string(REGEX MATCHALL "[$]{[^}]*}" references "${mk_line}")
foreach(reference IN LISTS references)
  string(REGEX REPLACE "^[$]{(.*)}$" "\\1" name "${reference}")
  if(DEFINED ${name})
    list(JOIN ${name} " " value)
  elseif(name MATCHES "^(DBG|CFLAGS:M-m[*]|BAKEFS_DRIVER_INCLUDES)$")
    set(value "")
  else()
    message(FATAL_ERROR "${makefile}: BAKEFS_DRIVER_CXXFLAGS uses \${${name}}, which neither "
                        "driver/flags.mk nor this check (tests/check_core_flags.cmake) knows")
  endif()
  string(REPLACE "${reference}" "${value}" mk_line "${mk_line}")
endforeach()
separate_arguments(mk_words UNIX_COMMAND "${mk_line} ${pico_extra}")
semantic_flags(rumpmake_flags ${mk_words})

# ---- CMake's lines, as compiled ----
file(READ ${COMPILE_COMMANDS} commands)
string(JSON count LENGTH "${commands}")
math(EXPR last "${count} - 1")
set(kernel_words "")
set(host_words "")
foreach(i RANGE ${last})
  string(JSON file GET "${commands}" ${i} file)
  if(NOT file MATCHES "/driver/mount[.]cpp$")
    continue()
  endif()
  string(JSON command GET "${commands}" ${i} command)
  separate_arguments(words UNIX_COMMAND "${command}")
  list(FIND words -o at)
  math(EXPR at "${at} + 1")
  list(GET words ${at} output)
  if(output MATCHES "bakefs_driver_kernel[.]dir")
    set(kernel_words "${words}")
  elseif(output MATCHES "bakefs_driver[.]dir")
    set(host_words "${words}")
  endif()
endforeach()
if(NOT kernel_words OR NOT host_words)
  message(FATAL_ERROR "${COMPILE_COMMANDS}: no compile line of driver/mount.cpp for "
                      "bakefs_driver and bakefs_driver_kernel")
endif()
semantic_flags(cmake_kernel_flags ${kernel_words})
semantic_flags(host_flags ${host_words})

set(failed OFF)
function(report what list)
  if(list)
    list(JOIN list " " words)
    message(SEND_ERROR "${what}: ${words}")
    set(failed ON PARENT_SCOPE)
  endif()
endfunction()
# -DPIC is rumpmake's convention for .pico objects, -DNDEBUG CMake's for an optimised build
# type (with ${DBG}'s -O2 on the other side): the core tests neither (no assert()).
list(REMOVE_ITEM rumpmake_flags -DPIC)
list(REMOVE_ITEM cmake_kernel_flags -DNDEBUG)
set(only_rumpmake ${rumpmake_flags})
list(REMOVE_ITEM only_rumpmake ${cmake_kernel_flags})
set(only_cmake ${cmake_kernel_flags})
list(REMOVE_ITEM only_cmake ${rumpmake_flags})
report("the core's kernel build: only rumpmake (platform/rump/Makefile) compiles with"
       "${only_rumpmake}")
report("the core's kernel build: only CMake (platform/rump/CMakeLists.txt) compiles with"
       "${only_cmake}")
semantic_flags(core_flags ${BAKEFS_CORE_CXXFLAGS})
set(missing_host ${core_flags})
list(REMOVE_ITEM missing_host ${host_flags})
report("the host's driver library (driver/CMakeLists.txt) lacks driver/flags.mk's"
       "${missing_host}")
if(failed)
  message(FATAL_ERROR "the builds of the driver core drift apart (driver/flags.mk is the list)")
endif()
list(JOIN cmake_kernel_flags " " words)
message(STATUS "CMake and rumpmake compile the core for a kernel alike: ${words}")
