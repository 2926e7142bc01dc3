/* cshimctl run: bundle + config.json → shim `start` → Create → Start → attached until exit (or -d).
 * Every step that can fail undoes the ones before it, so a failed run leaves nothing behind: no bundle,
 * no shim, no socket. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli_attach.h"
#include "cli_cmd.h"
#include "cli_container.h"
#include "cli_net.h"
#include "cli_os.h"
#include "cli_parse.h"
#include "cli_shim.h"
#include "cli_spec.h"
#include "containerd/runc/options.pb-c.h"
#include "google/protobuf/any.pb-c.h"

typedef struct run_opts {
  const char *id, *rootfs, *bundle, *cpus, *memory, *runtime, *shim, *cwd, *cni_conf, *cni_state, *isolation;
  bool tty, interactive, detach, rm, net;
  cli_strlist env;
} run_opts;

#define O(f) offsetof(run_opts, f)
static const cli_opt run_opts_table[] = {
  {"id", 0, CLI_OPT_STRING, O(id), "ID", "container id (default: random)"},
  {"rootfs", 0, CLI_OPT_STRING, O(rootfs), "DIR", "root filesystem directory (used in place, as ctr --rootfs; "
                                                  "Windows: the image's layer folder)"},
  {"bundle", 0, CLI_OPT_STRING, O(bundle), "DIR", "an OCI bundle whose config.json to run (CMD optional)"},
  {"tty", 't', CLI_OPT_FLAG, O(tty), NULL, "allocate a terminal (implies -i)"},
  {"interactive", 'i', CLI_OPT_FLAG, O(interactive), NULL, "attach stdin"},
  {"detach", 'd', CLI_OPT_FLAG, O(detach), NULL, "print the id and return; output goes to <state>/<id>/io/output"},
  {"rm", 0, CLI_OPT_FLAG, O(rm), NULL, "remove the container when it exits"},
  {"env", 'e', CLI_OPT_LIST, O(env), "K=V", "environment variable"},
  {"cwd", 'w', CLI_OPT_STRING, O(cwd), "DIR", "working directory inside the container (default /)"},
  {"cpus", 0, CLI_OPT_STRING, O(cpus), "N", "CPU limit, e.g. 0.5"},
  {"memory", 'm', CLI_OPT_STRING, O(memory), "SIZE", "memory limit, e.g. 256m"},
  {"isolation", 0, CLI_OPT_STRING, O(isolation), "KIND", "Windows containers: process (default) or hyperv"},
  {"net", 0, CLI_OPT_FLAG, O(net), NULL, "an interface on the CNI network (default: own netns with only lo)"},
  {"cni-config-dir", 0, CLI_OPT_STRING, O(cni_conf), "DIR", "with --net: where the conflist is (default /etc/cshim/net.d)"},
  {"cni-state-dir", 0, CLI_OPT_STRING, O(cni_state), "DIR", "with --net: CNI state (default /var/lib/cshim/cni)"},
  {"runtime-binary", 0, CLI_OPT_STRING, O(runtime), "NAME", "OCI runtime the shim drives: runc or crun"},
  {"shim", 0, CLI_OPT_STRING, O(shim), "PATH", "shim binary (default " CLI_SHIM_NAME " next to cshimctl or on PATH)"},
};
#undef O

static const cli_cmd_spec run_spec = {
  .name = "run",
  .usage = "[OPTIONS] (--rootfs DIR | --bundle DIR) [--] CMD [ARG...]",
  .summary = "Create and start a container through a shim, attached to it until it exits (its exit status is "
             "ours; cshimctl's own failures exit 125).",
  .opts = run_opts_table,
  .nopts = sizeof run_opts_table / sizeof run_opts_table[0],
  .min_pos = 0,
  .max_pos = 0,
  .trailing_cmd = true,
};

/* Everything one run creates, so a failure can take exactly that back. */
typedef struct run_state {
  cli_env *e;
  run_opts *o;
  char id[CLI_ID_MAX + 1];
  cli_meta meta;
  bool bundle_made, shim_started;
  cli_fifos fifos;
  cli_conn conn;
  cli_attach att;
  bool attached;
  uint8_t opts_buf[512];
  size_t opts_len;
  Google__Protobuf__Any opts_any;
  int64_t cpu_quota;
  uint64_t cpu_period, memory;
} run_state;

static int random_id(char *out, size_t len, cs_err *err) {
  uint8_t b[8];
  if (cli_os_random(b, sizeof b, err) < 0) return -1;
  snprintf(out, len, "%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
  return 0;
}

static int check_options(run_state *r, cli_parsed *p, cs_err *err) {
  run_opts *o = r->o;
  if ((o->cni_conf || o->cni_state) && !o->net)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "--cni-config-dir and --cni-state-dir go with --net");
  if ((o->cni_conf && !cli_os_path_is_abs(o->cni_conf)) || (o->cni_state && !cli_os_path_is_abs(o->cni_state)))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "--cni-config-dir and --cni-state-dir must be absolute");
  if (!o->rootfs == !o->bundle) return cs_err_set(err, CS_INVALID_ARGUMENT, "give exactly one of --rootfs or --bundle");
  if (o->rootfs && p->ncmd == 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "missing command after --rootfs DIR");
  if (o->id) {
    if (cli_validate_id("container id", o->id, err) < 0) return -1;
    snprintf(r->id, sizeof r->id, "%s", o->id);
  } else if (random_id(r->id, sizeof r->id, err) < 0) {
    return -1;
  }
  for (size_t i = 0; i < o->env.n; i++)
    if (cli_validate_env(o->env.v[i], err) < 0) return -1;
  if (o->cpus && cli_parse_cpus(o->cpus, &r->cpu_quota, &r->cpu_period, err) < 0) return -1;
  if (o->memory && cli_parse_size(o->memory, &r->memory, err) < 0) return cs_err_wrap(err, "--memory");
  if (o->memory && r->memory < 6 * 1024 * 1024)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "--memory %s: at least 6MiB (runc's minimum)", o->memory);
  if (o->runtime && strcmp(o->runtime, "runc") != 0 && strcmp(o->runtime, "crun") != 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "--runtime-binary %s: want runc or crun", o->runtime);
  if (o->isolation && strcmp(o->isolation, "process") != 0 && strcmp(o->isolation, "hyperv") != 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "--isolation %s: want process or hyperv", o->isolation);
  if (o->cwd && !cli_os_path_is_abs(o->cwd)) return cs_err_set(err, CS_INVALID_ARGUMENT, "--cwd %s: must be absolute", o->cwd);
  if (o->tty) o->interactive = true;
  if (o->detach && o->rm) return cs_err_set(err, CS_INVALID_ARGUMENT, "--rm and -d cannot be combined");
  if (o->detach) o->interactive = false; /* nobody would be there to type */
  if (!cli_os_path_is_abs(r->e->g.state_dir)) return cs_err_set(err, CS_INVALID_ARGUMENT, "--state-dir must be absolute");
  return 0;
}

static int is_dir(const char *path, const char *what, cs_err *err) {
  struct stat st;
  if (stat(path, &st) < 0) return cs_err_sys(err, errno, "%s %s", what, path);
  if (!S_ISDIR(st.st_mode)) return cs_err_set(err, CS_INVALID_ARGUMENT, "%s %s is not a directory", what, path);
  return 0;
}

/* config.json for this run, and the rootfs it names (checked to exist before anything is created). */
static json_t *build_spec(run_state *r, cli_parsed *p, cs_err *err) {
  run_opts *o = r->o;
  cli_spec_opts so = {
    .id = r->id,
    .ns = r->e->g.ns,
    .args = p->ncmd ? p->cmd : NULL,
    .nargs = p->ncmd,
    .env = o->env.v,
    .nenv = o->env.n,
    .cwd = o->cwd,
    .terminal = o->tty,
    .cpu_quota = r->cpu_quota,
    .cpu_period = r->cpu_period,
    .memory_limit = r->memory,
    .hyperv = o->isolation && strcmp(o->isolation, "hyperv") == 0,
    .bundle = r->meta.bundle,
  };
  char path[CLI_PATH_MAX];
  if (o->rootfs) {
    if (is_dir(o->rootfs, "rootfs", err) < 0 || cli_os_realpath(o->rootfs, path, sizeof path) < 0) {
      if (err->code == CS_OK) cs_err_sys(err, errno, "rootfs %s", o->rootfs);
      return NULL;
    }
    snprintf(r->meta.rootfs, sizeof r->meta.rootfs, "%s", path);
    so.rootfs = r->meta.rootfs;
    return cli_spec_new(&so, err);
  }
  if (is_dir(o->bundle, "bundle", err) < 0 || cli_os_realpath(o->bundle, path, sizeof path) < 0) {
    if (err->code == CS_OK) cs_err_sys(err, errno, "bundle %s", o->bundle);
    return NULL;
  }
  char cfg[CLI_PATH_MAX + 16];
  snprintf(cfg, sizeof cfg, "%s/config.json", path);
  json_error_t jerr;
  json_t *spec = json_load_file(cfg, 0, &jerr);
  if (!spec) {
    struct stat st;
    if (stat(cfg, &st) < 0) cs_err_sys(err, errno, "bundle %s: config.json", o->bundle);
    else cs_err_set(err, CS_INVALID_ARGUMENT, "%s: %s (line %d)", cfg, jerr.text, jerr.line);
    return NULL;
  }
  if (cli_spec_apply(spec, &so, path, err) < 0) {
    json_decref(spec);
    return NULL;
  }
  /* runc refuses a root that is a symlink: give it the directory the path resolves to. */
  const char *root = json_string_value(json_object_get(json_object_get(spec, "root"), "path"));
  char real[CLI_PATH_MAX];
  if (is_dir(root, "rootfs", err) < 0 || cli_os_realpath(root, real, sizeof real) < 0) {
    if (err->code == CS_OK) cs_err_sys(err, errno, "rootfs %s", root);
    json_decref(spec);
    return NULL;
  }
  snprintf(r->meta.rootfs, sizeof r->meta.rootfs, "%s", real);
  json_object_set_new(json_object_get(spec, "root"), "path", json_string(real));
  return spec;
}

static int write_bundle(run_state *r, json_t *spec, cs_err *err) {
  char *text = json_dumps(spec, JSON_INDENT(2));
  if (!text) return cs_err_set(err, CS_INTERNAL, "cannot encode config.json");
  char path[CLI_PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/config.json", r->meta.bundle);
  int rc = cli_write_file(path, text, strlen(text), 0644, err);
  free(text);
  if (rc < 0) return -1;
  /* The shim logs to <bundle>/log, which containerd makes a FIFO and drains. Nobody drains one here, so it
   * is a plain file: both runc-v2 and our shim just open it for writing. */
  snprintf(path, sizeof path, "%s/log", r->meta.bundle);
  return cli_write_file(path, "", 0, 0600, err);
}

static void pack_runtime_options(run_state *r) {
  if (!r->o->runtime) return;
  Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
  ro.binary_name = (char *)r->o->runtime;
  r->opts_len = containerd__runc__v1__options__pack(&ro, r->opts_buf);
  google__protobuf__any__init(&r->opts_any);
  r->opts_any.type_url = "containerd.runc.v1.Options";
  r->opts_any.value.data = r->opts_buf;
  r->opts_any.value.len = r->opts_len;
}

static int start_shim(run_state *r, cs_err *err) {
  cli_meta *m = &r->meta;
  snprintf(m->ctd_address, sizeof m->ctd_address, "%s/%s", r->e->g.state_dir, CLI_ADDRESS_NAME);
  uint8_t any_buf[600];
  size_t any_len = 0;
  if (r->opts_len) any_len = google__protobuf__any__pack(&r->opts_any, any_buf);
  cli_shim_cmd cmd = {
    .shim = m->shim,
    .ns = m->ns,
    .address = m->ctd_address,
    .publish_binary = r->e->self_exe,
    .id = m->id,
    .bundle = m->bundle,
    .stdin_data = any_len ? any_buf : NULL,
    .stdin_len = any_len,
    .debug = r->e->g.debug,
  };
  if (cli_shim_start(&cmd, m->address, sizeof m->address, err) < 0) return -1;
  r->shim_started = true;
  return 0;
}

static int create_task(run_state *r, cs_err *err) {
  Containerd__Task__V2__CreateTaskRequest req = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
  char output[CLI_PATH_MAX + 32];
  req.id = r->meta.id;
  req.bundle = r->meta.bundle;
  req.terminal = r->o->tty;
  if (r->o->detach) {
    /* Detached: output to a file in the bundle (a FIFO nobody reads would stall the container). */
    cli_stdio_detached_output(r->meta.bundle, output, sizeof output);
    req.stdout_ = output;
    req.stderr_ = r->o->tty ? "" : output;
  } else {
    req.stdin_ = r->fifos.in;
    req.stdout_ = r->fifos.out;
    req.stderr_ = r->fifos.err;
  }
  if (r->opts_len) req.options = &r->opts_any;
  Containerd__Task__V2__CreateTaskResponse *resp = NULL;
  if (cli_task_call(&r->conn, "Create", &req.base, &containerd__task__v2__create_task_response__descriptor,
                    (ProtobufCMessage **)&resp, CLI_RPC_SLOW_NS, err) < 0)
    return cs_err_wrap(err, "create");
  containerd__task__v2__create_task_response__free_unpacked(resp, NULL);
  return 0;
}

/* Undo whatever this run created. */
static void run_undo(run_state *r) {
  if (r->attached) {
    cli_attach_close(&r->att);
    r->attached = false;
  }
  cs_err err;
  if (r->bundle_made) {
    cli_teardown td = {.force = true, .publish = r->e->self_exe, .debug = r->e->g.debug};
    if (!r->shim_started) r->meta.address[0] = '\0';
    if (cli_container_remove(r->e->loop, &r->meta, r->conn.client ? &r->conn : NULL, &td, &err) < 0)
      fprintf(stderr, "cshimctl: run: cleanup: %s\n", err.msg);
  }
  cli_conn_close(&r->conn);
}

static int run_container(run_state *r, cli_parsed *p, cs_err *err) {
  run_opts *o = r->o;
  cli_meta *m = &r->meta;
  if (check_options(r, p, err) < 0) return -1;
  snprintf(m->id, sizeof m->id, "%s", r->id);
  snprintf(m->ns, sizeof m->ns, "%s", r->e->g.ns);
  if (cli_validate_id("namespace", m->ns, err) < 0) return -1;
  snprintf(m->runtime, sizeof m->runtime, "%s", o->runtime ? o->runtime : "");
  m->terminal = o->tty;
  m->detached = o->detach;
  m->created = (int64_t)time(NULL);
  if (cli_shim_find(r->e->self_exe, o->shim, m->shim, sizeof m->shim, err) < 0) return -1;
  /* The spec may name files of the bundle (Windows: its scratch layer). */
  if (cli_state_bundle(r->e->g.state_dir, m->id, m->bundle, sizeof m->bundle, err) < 0) return -1;
  json_t *spec = build_spec(r, p, err);
  if (!spec) return -1;

  /* From here on every failure must undo (run_undo). The bundle is the id's lock: nothing of another
   * container with this id (its network included) is touched before we own it. */
  int rc = cli_state_create(r->e->g.state_dir, m->id, m->bundle, sizeof m->bundle, err);
  if (rc == 0) {
    r->bundle_made = true;
    if (o->net) {
      snprintf(m->net_config_dir, sizeof m->net_config_dir, "%s", o->cni_conf ? o->cni_conf : "");
      snprintf(m->net_state_dir, sizeof m->net_state_dir, "%s", o->cni_state ? o->cni_state : "");
      rc = cli_net_attach(m, spec, err);
    }
  }
  /* Recorded at once (without a shim address yet) so that rm can undo a run that died half-way. */
  if (rc == 0) rc = cli_meta_write(m, err);
  if (rc == 0) rc = write_bundle(r, spec, err);
  if (rc == 0) rc = cli_spec_bundle_prepare(spec, m->bundle, err);
  json_decref(spec);
  if (rc < 0) return -1;
  char io[CLI_PATH_MAX + 8];
  snprintf(io, sizeof io, "%s/io", m->bundle);
  if (!o->detach && cli_fifos_create(&r->fifos, io, "", o->interactive, o->tty, err) < 0) return -1;
  pack_runtime_options(r);
  if (start_shim(r, err) < 0) return -1;
  if (cli_meta_write(m, err) < 0) return -1;
  if (cli_conn_open(&r->conn, r->e->loop, m->address, m->ns, err) < 0) return cs_err_wrap(err, "connect to shim");
  if (!o->detach) {
    if (cli_attach_open(&r->att, r->e->loop, &r->conn, m->id, NULL, &r->fifos, o->tty, err) < 0) return -1;
    r->attached = true;
  }
  if (create_task(r, err) < 0) return -1;
  if (cli_task_start(&r->conn, m->id, NULL, NULL, err) < 0) return cs_err_wrap(err, "start");
  if (r->attached && cli_attach_begin(&r->att, err) < 0) return -1;
  return 0;
}

static int run_cmd(cli_env *e, int argc, char **argv) {
  run_opts o = {0};
  cli_parsed p;
  int status;
  if (cli_parse_or_exit(&run_spec, &o, e, argc, argv, &p, CLI_EXIT_RUN_FAIL, &status)) return status;
  run_state r;
  memset(&r, 0, sizeof r);
  r.e = e;
  r.o = &o;
  cs_err err;
  cs_err_clear(&err);
  cli_signals_hold();
  if (run_container(&r, &p, &err) < 0) {
    cli_report("run", &err);
    run_undo(&r);
    cli_args_free(&run_spec, &o, &p);
    cli_signals_release();
    return CLI_EXIT_RUN_FAIL;
  }
  if (o.detach) {
    printf("%s\n", r.meta.id);
    fflush(stdout);
    cli_conn_close(&r.conn);
    cli_args_free(&run_spec, &o, &p);
    cli_signals_release();
    return 0;
  }
  uint32_t exit_status = 0;
  status = 0;
  if (cli_attach_wait(&r.att, &exit_status, &err) < 0) {
    cli_report("run", &err);
    status = CLI_EXIT_RUN_FAIL;
  } else {
    status = exit_status > 255 ? 255 : (int)exit_status;
  }
  cli_attach_close(&r.att);
  r.attached = false;
  /* No signal may cut the removal short either. */
  cli_signals_hold();
  if (o.rm) {
    cli_teardown td = {.force = true, .publish = e->self_exe, .debug = e->g.debug};
    if (cli_container_remove(e->loop, &r.meta, &r.conn, &td, &err) < 0) {
      cli_report("run: --rm", &err);
      if (status == 0) status = CLI_EXIT_RUN_FAIL;
    }
  }
  cli_conn_close(&r.conn);
  cli_args_free(&run_spec, &o, &p);
  cli_signals_release();
  return status;
}

const cli_command cli_cmd_run = {&run_spec, run_cmd};
