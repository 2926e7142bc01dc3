/* `run --net`: the container's network through network/cni (a named netns with the CNI plugins' interface),
 * attached before the container is created and detached when it is removed. Without --net the container
 * keeps the fresh network namespace of its spec (only lo), as `ctr run` without --net-host. */
#ifndef CLI_NET_H
#define CLI_NET_H

#include <jansson.h>

#include "cli_state.h"
#include "cs_err.h"

/* Attach <ns>.<id> and point the spec's network namespace at it; fills m->net_* (net_config_dir and
 * net_state_dir as given, "" = the library's defaults). Unimplemented in a build without network/cni. */
int cli_net_attach(cli_meta *m, json_t *spec, cs_err *err);
/* Undo cli_net_attach with the directories recorded in m; nothing to do if m->net_attached is false. */
int cli_net_detach(const cli_meta *m, cs_err *err);

#endif
