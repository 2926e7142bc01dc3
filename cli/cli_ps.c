/* cshimctl ps: every container in the state dir with its task and its shim's footprint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_client.h"
#include "cli_cmd.h"
#include "cli_os.h"
#include "cli_parse.h"

/* Ask each shim briefly: one hung shim must not stall the listing. */
#define PS_RPC_TIMEOUT_NS (2LL * 1000000000LL)

typedef struct ps_opts {
  bool quiet;
} ps_opts;

static const cli_opt ps_opts_table[] = {
  {"quiet", 'q', CLI_OPT_FLAG, offsetof(ps_opts, quiet), NULL, "print ids only"},
};
static const cli_cmd_spec ps_spec = {
  .name = "ps",
  .usage = "[-q]",
  .summary = "List containers: id, pid, status, shim pid and RSS, IP (with --net), rootfs.",
  .opts = ps_opts_table, .nopts = 1, .min_pos = 0, .max_pos = 0,
};

typedef struct ps_row {
  char pid[16], status[16], shim_pid[16], rss[32];
} ps_row;

static void query(cli_env *e, const cli_meta *m, ps_row *row) {
  snprintf(row->pid, sizeof row->pid, "-");
  snprintf(row->status, sizeof row->status, "UNKNOWN");
  snprintf(row->shim_pid, sizeof row->shim_pid, "-");
  snprintf(row->rss, sizeof row->rss, "-");
  cli_conn c;
  cs_err err;
  if (!m->address[0]) {
    snprintf(row->status, sizeof row->status, "CREATING");
    return;
  }
  if (cli_conn_open(&c, e->loop, m->address, m->ns, &err) < 0) {
    snprintf(row->status, sizeof row->status, "SHIM-GONE");
    return;
  }
  Containerd__Task__V2__ConnectRequest creq = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
  creq.id = (char *)m->id;
  Containerd__Task__V2__ConnectResponse *cr = NULL;
  if (cli_task_call(&c, "Connect", &creq.base, &containerd__task__v2__connect_response__descriptor,
                    (ProtobufCMessage **)&cr, PS_RPC_TIMEOUT_NS, &err) == 0) {
    snprintf(row->shim_pid, sizeof row->shim_pid, "%u", cr->shim_pid);
    uint64_t rss = cli_os_rss(cr->shim_pid);
    if (rss) cli_format_bytes(rss, row->rss, sizeof row->rss);
    containerd__task__v2__connect_response__free_unpacked(cr, NULL);
  }
  Containerd__Task__V2__StateRequest sreq = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
  sreq.id = (char *)m->id;
  Containerd__Task__V2__StateResponse *sr = NULL;
  if (cli_task_call(&c, "State", &sreq.base, &containerd__task__v2__state_response__descriptor,
                    (ProtobufCMessage **)&sr, PS_RPC_TIMEOUT_NS, &err) == 0) {
    snprintf(row->pid, sizeof row->pid, "%u", sr->pid);
    snprintf(row->status, sizeof row->status, "%s", cli_status_name(sr->status));
    containerd__task__v2__state_response__free_unpacked(sr, NULL);
  } else if (err.code == CS_NOT_FOUND) {
    snprintf(row->status, sizeof row->status, "NO-TASK");
  }
  cli_conn_close(&c);
}

static int ps_cmd(cli_env *e, int argc, char **argv) {
  ps_opts o = {0};
  cli_parsed p;
  int status;
  if (cli_parse_or_exit(&ps_spec, &o, e, argc, argv, &p, CLI_EXIT_USAGE, &status)) return status;
  cli_args_free(&ps_spec, &o, &p);
  char **ids;
  size_t n;
  cs_err err;
  if (cli_state_list(e->g.state_dir, &ids, &n, &err) < 0) {
    cli_report("ps", &err);
    return CLI_EXIT_FAIL;
  }
  if (!o.quiet)
    printf("%-20s %-8s %-10s %-9s %-9s %-18s %s\n", "ID", "PID", "STATUS", "SHIM-PID", "SHIM-RSS", "IP", "ROOTFS");
  for (size_t i = 0; i < n; i++) {
    cli_meta m;
    if (cli_meta_read(e->g.state_dir, ids[i], &m, &err) < 0) continue;
    if (o.quiet) {
      printf("%s\n", m.id);
      continue;
    }
    ps_row row;
    query(e, &m, &row);
    printf("%-20s %-8s %-10s %-9s %-9s %-18s %s\n", m.id, row.pid, row.status, row.shim_pid, row.rss,
           m.ip[0] ? m.ip : "-", m.rootfs);
  }
  cli_state_list_free(ids, n);
  return 0;
}

const cli_command cli_cmd_ps = {&ps_spec, ps_cmd};
