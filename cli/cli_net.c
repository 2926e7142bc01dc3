#include "cli_net.h"

#include <stdio.h>
#include <string.h>

#ifdef CLI_HAVE_CNI
#include "net_cni.h"

static void opts_of(const cli_meta *m, net_cni_opts *o) {
  memset(o, 0, sizeof *o);
  o->config_dir = m->net_config_dir[0] ? m->net_config_dir : NULL;
  o->state_dir = m->net_state_dir[0] ? m->net_state_dir : NULL;
}

int cli_net_attach(cli_meta *m, json_t *spec, cs_err *err) {
  /* Ids of different cshimctl namespaces may collide on the host; the pair does not. */
  int n = snprintf(m->net_id, sizeof m->net_id, "%s.%s", m->ns, m->id);
  if (n < 0 || (size_t)n >= sizeof m->net_id || net_cni_id_valid(m->net_id, err) < 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "--net: namespace.id \"%s.%s\" is too long for a network id", m->ns,
                      m->id);
  net_cni_opts o;
  opts_of(m, &o);
  net_cni_result res;
  bool attached = false;
  if (net_cni_spec_prepare(spec, m->net_id, &o, &res, &attached, err) < 0) return cs_err_wrap(err, "--net");
  m->net_attached = attached;
  if (res.nips > 0) snprintf(m->ip, sizeof m->ip, "%s", res.ips[0].address);
  return 0;
}

int cli_net_detach(const cli_meta *m, cs_err *err) {
  if (!m->net_attached) return 0;
  net_cni_opts o;
  opts_of(m, &o);
  if (net_cni_detach(m->net_id, &o, err) < 0) return cs_err_wrap(err, "network detach %s", m->net_id);
  return 0;
}

#else

int cli_net_attach(cli_meta *m, json_t *spec, cs_err *err) {
  (void)m, (void)spec;
  return cs_err_set(err, CS_UNIMPLEMENTED, "--net is not supported in this build (no network/cni)");
}

int cli_net_detach(const cli_meta *m, cs_err *err) {
  if (!m->net_attached) return 0;
  return cs_err_set(err, CS_UNIMPLEMENTED, "container %s has a network but this build has no network/cni", m->id);
}

#endif
