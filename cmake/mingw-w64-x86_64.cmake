# CMake toolchain: cshim (and its dependencies, scripts/win-deps.sh) for 64-bit Windows with Debian's
# mingw-w64 gcc. Libraries and headers are searched only in the mingw root and the cross-built
# dependency prefix; programs (protoc-c, nanopb_generator.py) are the host's. Test executables run
# under Wine through cmake/wine-run.sh.
#
#   cmake -S . -B build-windows -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake
#
# CSHIM_WIN_DEPS (cache or environment) overrides the dependency prefix (default build-windows/deps).
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CSHIM_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${CSHIM_MINGW_TRIPLE}-gcc)
set(CMAKE_RC_COMPILER ${CSHIM_MINGW_TRIPLE}-windres)
set(CMAKE_AR ${CSHIM_MINGW_TRIPLE}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${CSHIM_MINGW_TRIPLE}-ranlib CACHE FILEPATH "")

get_filename_component(_cshim_src "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(NOT CSHIM_WIN_DEPS)
  if(DEFINED ENV{CSHIM_WIN_DEPS})
    set(CSHIM_WIN_DEPS "$ENV{CSHIM_WIN_DEPS}")
  else()
    set(CSHIM_WIN_DEPS "${_cshim_src}/build-windows/deps")
  endif()
endif()
set(CSHIM_WIN_DEPS "${CSHIM_WIN_DEPS}" CACHE PATH "Prefix of the cross-built dependencies (scripts/win-deps.sh)")

set(CMAKE_FIND_ROOT_PATH /usr/${CSHIM_MINGW_TRIPLE} ${CSHIM_WIN_DEPS})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# The host's generators: a cross find could pick a nanopb_generator.py installed into the prefix, which
# needs Python protobuf modules of its own.
set(PROTOC_C /usr/bin/protoc-c CACHE FILEPATH "protoc-c (host)")
set(NANOPB_GENERATOR /usr/bin/nanopb_generator.py CACHE FILEPATH "nanopb generator (host)")

set(CMAKE_CROSSCOMPILING_EMULATOR ${_cshim_src}/cmake/wine-run.sh)
