/* HCS has no OCI features document: -info reports none. */
#include <stddef.h>

#include "shim_info.h"

char *shim_os_runtime_features(const char *binary) {
  (void)binary;
  return NULL;
}
