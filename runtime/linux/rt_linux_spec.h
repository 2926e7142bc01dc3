/* The two places the backend reads or edits an OCI spec itself, as runc-v2 does. */
#ifndef RT_LINUX_SPEC_H
#define RT_LINUX_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "cs_err.h"

/* An exec's Process JSON with "terminal" set to what the request asks: runc refuses --console-socket for a
 * spec that says terminal:false, and containerd's clients send the request's flag and the container's own
 * process spec separately. On success *out is malloc'd (NUL-terminated, *out_len bytes). */
int rt_linux_spec_set_terminal(const char *json, size_t len, bool terminal, char **out, size_t *out_len,
                               cs_err *err);

/* runc-v2's shouldKillAllOnExit: true unless the bundle's config.json gives the container a pid namespace of
 * its own (a "pid" entry without a path). Sharing the host's (no entry) or another's (a path) means init's
 * exit does not take the rest of the container with it. An unreadable spec counts as shared, as in runc-v2. */
bool rt_linux_spec_kill_all_on_exit(const char *bundle);

#endif
