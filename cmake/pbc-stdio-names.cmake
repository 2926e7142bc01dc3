# cmake -P cmake/pbc-stdio-names.cmake FILE...
# Run on protoc-c's output right after generation: the C members named stdin/stdout/stderr (fields of the
# Task API's Create/Exec/State messages and others) become stdin_/stdout_/stderr_. mingw's stdio.h makes
# those three names expression macros ((__acrt_iob_func(0)) ...), so `r->stdin` cannot compile on Windows
# wherever <stdio.h> is visible; renaming once here gives every platform the same member names and no
# use site has to care. The wire names (the "stdin" strings in the descriptors) are kept: only identifiers
# change, never a quoted string.
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 3 ${last})
  set(f "${CMAKE_ARGV${i}}")
  file(READ "${f}" text)
  string(REGEX REPLACE "([^\"_A-Za-z0-9])(stdin|stdout|stderr)([^\"_A-Za-z0-9])" "\\1\\2_\\3" new "${text}")
  if(NOT new STREQUAL text)
    file(WRITE "${f}" "${new}")
  endif()
endforeach()
