#include "cli_os.h"

#include <fcntl.h>
#include <io.h>
#include <stdio.h>

/* No SIGPIPE on Windows (a write to a closed pipe fails with an error). Output is binary so that what a
 * container printed is passed on byte for byte. */
void cli_os_init(void) {
  _setmode(_fileno(stdout), _O_BINARY);
  _setmode(_fileno(stderr), _O_BINARY);
}
