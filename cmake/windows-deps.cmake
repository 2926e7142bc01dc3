# Windows build: imported targets for the dependencies cross-built by scripts/win-deps.sh into
# CSHIM_WIN_DEPS (include/ lib/), found without pkg-config. They keep the names pkg_check_modules gives
# on Linux (PkgConfig::UV, ...), so every module's CMakeLists.txt links the same names on both platforms.
if(NOT CSHIM_WIN_DEPS)
  message(FATAL_ERROR "CSHIM_WIN_DEPS is not set: configure with -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake")
endif()
if(NOT EXISTS ${CSHIM_WIN_DEPS}/include/uv.h)
  message(FATAL_ERROR "No cross-built dependencies in ${CSHIM_WIN_DEPS}: run scripts/win-deps.sh (or scripts/build-windows.sh)")
endif()

# Windows 10 / Server 2016 is the oldest system containerd 1.6's Windows runtime supports. printf follows C99
# (%zu, %lld) instead of msvcrt's.
add_compile_definitions(_WIN32_WINNT=0x0A00 __USE_MINGW_ANSI_STDIO=1)
# Static: libgcc and winpthreads (clock_gettime) are linked in, so programs and the test DLLs import only
# system DLLs and run from any directory.
add_link_options(-static)
set(CSHIM_STATIC ON)

function(cshim_win_import target lib)
  find_library(CSHIM_WIN_${target}_A NAMES ${lib} PATHS ${CSHIM_WIN_DEPS}/lib NO_DEFAULT_PATH REQUIRED)
  add_library(PkgConfig::${target} STATIC IMPORTED GLOBAL)
  set_target_properties(PkgConfig::${target} PROPERTIES
    IMPORTED_LOCATION ${CSHIM_WIN_${target}_A}
    INTERFACE_INCLUDE_DIRECTORIES ${CSHIM_WIN_DEPS}/include
    INTERFACE_LINK_LIBRARIES "${ARGN}")
endfunction()
# libuv's system libraries are those of its libuv-static.pc.
cshim_win_import(UV libuv_a.a psapi user32 advapi32 iphlpapi userenv ws2_32)
cshim_win_import(PROTOBUF_C libprotobuf-c.a)
cshim_win_import(JANSSON libjansson.a)
