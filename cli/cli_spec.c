#include "cli_spec.h"
#include "cli_spec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *const default_caps[] = {
  "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",       "CAP_MKNOD",
  "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",           "CAP_SETFCAP",      "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",           "CAP_SYS_CHROOT",       "CAP_KILL",         "CAP_AUDIT_WRITE",
};
static const char *const masked_paths[] = {
  "/proc/acpi",       "/proc/asound",     "/proc/kcore",       "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
};
static const char *const readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
static const char *const namespaces[] = {"pid", "ipc", "uts", "mount", "network"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static json_t *strarray(const char *const *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++) json_array_append_new(a, json_string(v[i]));
  return a;
}

static json_t *mount(const char *dst, const char *type, const char *src, const char *const *opts, size_t n) {
  json_t *m = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type, "source", src);
  if (m && n) json_object_set_new(m, "options", strarray(opts, n));
  return m;
}

static json_t *default_mounts(void) {
  static const char *const proc[] = {"nosuid", "noexec", "nodev"};
  static const char *const dev[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
  static const char *const pts[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"};
  static const char *const shm[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"};
  static const char *const mq[] = {"nosuid", "noexec", "nodev"};
  static const char *const sys[] = {"nosuid", "noexec", "nodev", "ro"};
  static const char *const run[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
  json_t *a = json_array();
  json_array_append_new(a, mount("/proc", "proc", "proc", proc, N(proc)));
  json_array_append_new(a, mount("/dev", "tmpfs", "tmpfs", dev, N(dev)));
  json_array_append_new(a, mount("/dev/pts", "devpts", "devpts", pts, N(pts)));
  json_array_append_new(a, mount("/dev/shm", "tmpfs", "shm", shm, N(shm)));
  json_array_append_new(a, mount("/dev/mqueue", "mqueue", "mqueue", mq, N(mq)));
  json_array_append_new(a, mount("/sys", "sysfs", "sysfs", sys, N(sys)));
  json_array_append_new(a, mount("/run", "tmpfs", "tmpfs", run, N(run)));
  return a;
}

/* The device cgroup: deny all, then what containerd's WithDefaultUnixDevices allows (null, zero, full,
 * tty, random, urandom, console, pts, ptmx, tun; mknod of anything). */
static json_t *default_devices(void) {
  json_t *a = json_array();
  json_array_append_new(a, json_pack("{s:b, s:s}", "allow", 0, "access", "rwm"));
  json_array_append_new(a, json_pack("{s:b, s:s, s:s}", "allow", 1, "type", "c", "access", "m"));
  json_array_append_new(a, json_pack("{s:b, s:s, s:s}", "allow", 1, "type", "b", "access", "m"));
  static const int cdev[][2] = {{1, 3}, {1, 8}, {1, 7}, {5, 0}, {1, 5}, {1, 9}, {5, 1}, {5, 2}, {10, 200}};
  for (size_t i = 0; i < N(cdev); i++)
    json_array_append_new(a, json_pack("{s:b, s:s, s:i, s:i, s:s}", "allow", 1, "type", "c", "major", cdev[i][0],
                                       "minor", cdev[i][1], "access", "rwm"));
  json_array_append_new(a, json_pack("{s:b, s:s, s:i, s:s}", "allow", 1, "type", "c", "major", 136, "access", "rwm"));
  return a;
}

/* Index of KEY=... in env whose key equals kv's key, or -1. */
static int env_find(const json_t *env, const char *kv) {
  size_t klen = strcspn(kv, "=");
  size_t i;
  json_t *v;
  json_array_foreach(env, i, v) {
    const char *s = json_string_value(v);
    if (s && strncmp(s, kv, klen) == 0 && s[klen] == '=') return (int)i;
  }
  return -1;
}

/* Set or replace by key, keeping the whole value (it may itself contain '='). */
static void env_set(json_t *env, const char *kv) {
  int i = env_find(env, kv);
  if (i >= 0) json_array_set_new(env, (size_t)i, json_string(kv));
  else json_array_append_new(env, json_string(kv));
}


void cli_spec_merge_env(json_t *process, const char *const *env, size_t nenv, bool terminal) {
  json_t *e = json_object_get(process, "env");
  if (!json_is_array(e)) {
    e = json_array();
    json_object_set_new(process, "env", e);
  }
  if (env_find(e, DEFAULT_PATH) < 0) env_set(e, DEFAULT_PATH);
  /* A shell in a terminal needs TERM to edit lines; ctr sets it the same way. */
  if (terminal && env_find(e, "TERM=") < 0) env_set(e, "TERM=xterm");
  for (size_t i = 0; i < nenv; i++) env_set(e, env[i]);
}

static void set_resources(json_t *linux, int64_t quota, uint64_t period, uint64_t memory) {
  json_t *r = json_object_get(linux, "resources");
  if (!json_is_object(r)) {
    r = json_object();
    json_object_set_new(linux, "resources", r);
  }
  if (quota > 0) json_object_set_new(r, "cpu", json_pack("{s:I, s:I}", "quota", (json_int_t)quota, "period", (json_int_t)period));
  if (memory > 0) json_object_set_new(r, "memory", json_pack("{s:I}", "limit", (json_int_t)memory));
}

static json_t *default_process(const cli_spec_opts *o) {
  json_t *caps = json_pack("{s:o, s:o, s:o}", "bounding", strarray(default_caps, N(default_caps)), "permitted",
                           strarray(default_caps, N(default_caps)), "effective", strarray(default_caps, N(default_caps)));
  return json_pack("{s:b, s:{s:i, s:i}, s:[], s:[], s:s, s:o, s:[{s:s, s:i, s:i}], s:b}", "terminal", o->terminal,
                   "user", "uid", 0, "gid", 0, "args", "env", "cwd", o->cwd ? o->cwd : "/", "capabilities", caps,
                   "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
}

json_t *cli_spec_new(const cli_spec_opts *o, cs_err *err) {
  if (!o->id || !o->ns || !o->rootfs) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "spec: id, namespace and rootfs are required");
    return NULL;
  }
  char cgpath[256];
  snprintf(cgpath, sizeof cgpath, "/%s/%s", o->ns, o->id);
  json_t *ns = json_array();
  for (size_t i = 0; i < N(namespaces); i++) json_array_append_new(ns, json_pack("{s:s}", "type", namespaces[i]));
  json_t *spec = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:{s:o, s:o, s:o, s:s, s:{s:o}}}",
                           "ociVersion", "1.0.2-dev",
                           "process", default_process(o),
                           "root", "path", o->rootfs, "readonly", 0,
                           "hostname", o->id,
                           "mounts", default_mounts(),
                           "linux", "namespaces", ns, "maskedPaths", strarray(masked_paths, N(masked_paths)),
                           "readonlyPaths", strarray(readonly_paths, N(readonly_paths)), "cgroupsPath", cgpath,
                           "resources", "devices", default_devices());
  if (!spec) {
    cs_err_set(err, CS_INTERNAL, "spec: cannot build config.json");
    return NULL;
  }
  if (cli_spec_apply(spec, o, NULL, err) < 0) {
    json_decref(spec);
    return NULL;
  }
  return spec;
}

int cli_spec_apply(json_t *spec, const cli_spec_opts *o, const char *bundle_dir, cs_err *err) {
  if (o->hyperv) return cs_err_set(err, CS_INVALID_ARGUMENT, "--isolation hyperv: Hyper-V isolation is for Windows containers");
  json_t *process = json_object_get(spec, "process");
  json_t *linux = json_object_get(spec, "linux");
  json_t *root = json_object_get(spec, "root");
  if (!json_is_object(process) || !json_is_object(root) || !json_is_string(json_object_get(root, "path")))
    return cs_err_set(err, CS_INVALID_ARGUMENT, "config.json has no process or root.path");
  if (!json_is_object(linux)) {
    linux = json_object();
    json_object_set_new(spec, "linux", linux);
  }
  if (cli_spec_set_args(process, o->args, o->nargs, err) < 0) return -1;
  if (json_array_size(json_object_get(process, "args")) == 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "no command: give one after -- or in config.json");
  json_object_set_new(process, "terminal", json_boolean(o->terminal));
  cli_spec_merge_env(process, o->env, o->nenv, o->terminal);
  if (o->cwd) json_object_set_new(process, "cwd", json_string(o->cwd));
  set_resources(linux, o->cpu_quota, o->cpu_period, o->memory_limit);
  if (bundle_dir) {
    /* The config moves into cshimctl's bundle: a relative root.path must keep pointing at the original. */
    const char *path = json_string_value(json_object_get(root, "path"));
    if (path[0] != '/') {
      char abs[8192];
      snprintf(abs, sizeof abs, "%s/%s", bundle_dir, path);
      json_object_set_new(root, "path", json_string(abs));
    }
    if (!json_object_get(linux, "cgroupsPath") && o->id && o->ns) {
      char cgpath[256];
      snprintf(cgpath, sizeof cgpath, "/%s/%s", o->ns, o->id);
      json_object_set_new(linux, "cgroupsPath", json_string(cgpath));
    }
  }
  return 0;
}


json_t *cli_spec_resources(int64_t cpu_quota, uint64_t cpu_period, uint64_t memory_limit, cs_err *err) {
  if (cpu_quota <= 0 && memory_limit == 0) {
    cs_err_set(err, CS_INVALID_ARGUMENT, "nothing to update: give --cpus and/or --memory");
    return NULL;
  }
  json_t *r = json_object();
  if (cpu_quota > 0)
    json_object_set_new(r, "cpu", json_pack("{s:I, s:I}", "quota", (json_int_t)cpu_quota, "period", (json_int_t)cpu_period));
  if (memory_limit > 0) json_object_set_new(r, "memory", json_pack("{s:I}", "limit", (json_int_t)memory_limit));
  return r;
}

int cli_spec_bundle_prepare(const json_t *spec, const char *bundle, cs_err *err) {
  (void)spec, (void)bundle, (void)err;
  return 0;
}
