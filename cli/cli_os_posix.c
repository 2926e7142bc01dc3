#include "cli_os.h"

#include <signal.h>

void cli_os_init(void) { signal(SIGPIPE, SIG_IGN); }
