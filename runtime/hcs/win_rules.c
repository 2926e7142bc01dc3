#include "win_rules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIN_MIN_CPU_SHARES 1
#define WIN_MAX_CPU_SHARES 10000
#define WIN_MIN_CPU_PERCENT 1
#define WIN_MAX_CPU_PERCENT 100
/* Hyper-V containers on builds before this take only whole CPUs above one (docker's osv.Build < 16175). */
#define WIN_BUILD_FRACTIONAL_HV_CPUS 16175
/* Windows 10 1809: the first client build that runs process-isolated containers. */
#define WIN_BUILD_RS5 17763

void win_resources_init(win_resources *r) {
  memset(r, 0, sizeof *r);
  r->memory_swappiness = -1;
}

static void warn(win_warnings *w, const char *msg) {
  if (!w || w->n >= WIN_WARN_MAX) return;
  snprintf(w->msg[w->n++], WIN_WARN_LEN, "%s", msg);
}

void win_cpu_precedence(int64_t *count, int64_t *shares, int64_t *percent, bool hyperv, win_warnings *w) {
  if (hyperv) return;
  if (*count > 0) {
    if (*shares > 0) {
      warn(w, "Conflicting options: CPU count takes priority over CPU shares on Windows Server Containers. "
              "CPU shares discarded");
      *shares = 0;
    }
    if (*percent > 0) {
      warn(w, "Conflicting options: CPU count takes priority over CPU percent on Windows Server Containers. "
              "CPU percent discarded");
      *percent = 0;
    }
  } else if (*shares > 0 && *percent > 0) {
    warn(w, "Conflicting options: CPU shares takes priority over CPU percent on Windows Server Containers. "
            "CPU percent discarded");
    *percent = 0;
  }
}

static bool set(const char *s) { return s && *s; }

int win_verify_resources(win_resources *r, bool hyperv, const win_host *host, win_warnings *w, cs_err *err) {
  win_cpu_precedence(&r->cpu_count, &r->cpu_shares, &r->cpu_percent, hyperv, w);

  if (r->cpu_shares < 0 || r->cpu_shares > WIN_MAX_CPU_SHARES)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "range of CPUShares is from %d to %d", WIN_MIN_CPU_SHARES,
                      WIN_MAX_CPU_SHARES);
  if (r->cpu_percent < 0 || r->cpu_percent > WIN_MAX_CPU_PERCENT)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "range of CPUPercent is from %d to %d", WIN_MIN_CPU_PERCENT,
                      WIN_MAX_CPU_PERCENT);
  if (r->cpu_count < 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid CPUCount: CPUCount cannot be negative");
  if (r->nano_cpus > 0 && r->cpu_percent > 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "conflicting options: Nano CPUs and CPU Percent cannot both be set");
  if (r->nano_cpus > 0 && r->cpu_shares > 0)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "conflicting options: Nano CPUs and CPU Shares cannot both be set");
  /* The precision is 0.01 CPU because Windows takes a percentage; the lower bound is left to HCS. */
  int64_t ncpu = host ? host->ncpu : 1;
  if (r->nano_cpus < 0 || r->nano_cpus > ncpu * 1000000000LL)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "range of CPUs is from 0.01 to %lld.00, as there are only %lld CPUs available",
                      (long long)ncpu, (long long)ncpu);

  if (hyperv && r->nano_cpus > 1000000000LL && host && host->build < WIN_BUILD_FRACTIONAL_HV_CPUS &&
      r->nano_cpus % 1000000000LL != 0) {
    r->nano_cpus = ((r->nano_cpus + 1000000000LL / 2) / 1000000000LL) * 1000000000LL;
    char msg[WIN_WARN_LEN];
    snprintf(msg, sizeof msg,
             "Your current OS version does not support Hyper-V containers with NanoCPUs greater than 1000000000 "
             "but not divisible by 1000000000. NanoCPUs rounded to %lld",
             (long long)r->nano_cpus);
    warn(w, msg);
  }

  const char *unsupported = NULL;
  if (r->n_blkio_device_read_bps) unsupported = "BlkioDeviceReadBps";
  else if (r->n_blkio_device_read_iops) unsupported = "BlkioDeviceReadIOps";
  else if (r->n_blkio_device_write_bps) unsupported = "BlkioDeviceWriteBps";
  else if (r->n_blkio_device_write_iops) unsupported = "BlkioDeviceWriteIOps";
  else if (r->blkio_weight > 0) unsupported = "BlkioWeight";
  else if (r->n_blkio_weight_device) unsupported = "BlkioWeightDevice";
  else if (set(r->cgroup_parent)) unsupported = "CgroupParent";
  else if (r->cpu_period != 0) unsupported = "CPUPeriod";
  else if (set(r->cpuset_cpus)) unsupported = "CpusetCpus";
  else if (set(r->cpuset_mems)) unsupported = "CpusetMems";
  else if (r->kernel_memory != 0) unsupported = "KernelMemory";
  else if (r->memory_reservation != 0) unsupported = "MemoryReservation";
  else if (r->memory_swap != 0) unsupported = "MemorySwap";
  else if (r->memory_swappiness != -1) unsupported = "MemorySwappiness";
  else if (r->oom_kill_disable) unsupported = "OomKillDisable";
  else if (r->pids_limit != 0) unsupported = "PidsLimit";
  else if (r->n_ulimits) unsupported = "Ulimits";
  if (unsupported)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "invalid option: Windows does not support %s", unsupported);
  return 0;
}

static bool eq_nocase(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
  return *a == *b;
}

int win_isolation_parse(const char *s, int *out, cs_err *err) {
  if (!s || !*s || eq_nocase(s, "default")) *out = WIN_ISOLATION_DEFAULT;
  else if (eq_nocase(s, "process")) *out = WIN_ISOLATION_PROCESS;
  else if (eq_nocase(s, "hyperv")) *out = WIN_ISOLATION_HYPERV;
  else {
    /* -1 spelled out (not cs_err_set's return): callers rely on *out being set whenever 0 comes back, and
     * the compiler can only see that if the failure value is visible here. */
    cs_err_set(err, CS_INVALID_ARGUMENT, "invalid isolation: \"%s\" (want process, hyperv or default)", s);
    return -1;
  }
  return 0;
}

const char *win_isolation_name(int isolation) {
  switch (isolation) {
  case WIN_ISOLATION_PROCESS: return "process";
  case WIN_ISOLATION_HYPERV: return "hyperv";
  default: return "default";
  }
}

int win_isolation_resolve(int isolation, const win_host *host) {
  if (isolation != WIN_ISOLATION_DEFAULT) return isolation;
  return host && host->client ? WIN_ISOLATION_HYPERV : WIN_ISOLATION_PROCESS;
}

int win_verify_platform(win_resources *r, int isolation, const win_host *host, win_warnings *w, cs_err *err) {
  bool hyperv = win_isolation_resolve(isolation, host) == WIN_ISOLATION_HYPERV;
  /* docker: "This block should not be removed. It partially enforces licensing restrictions on Windows." */
  if (!hyperv && host && host->client && !host->iot_core)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "Windows client operating systems only support Hyper-V containers");
  return win_verify_resources(r, hyperv, host, w, err);
}

/* Copy [b, e) trimmed of spaces into out (size n). */
static void trimmed(const char *b, const char *e, char *out, size_t n) {
  while (b < e && isspace((unsigned char)*b)) b++;
  while (e > b && isspace((unsigned char)e[-1])) e--;
  size_t len = (size_t)(e - b);
  if (len >= n) len = n - 1;
  memcpy(out, b, len);
  out[len] = '\0';
}

int win_exec_opts_parse(const char *const *opts, size_t n, const win_host *host, int *isolation, cs_err *err) {
  *isolation = win_isolation_resolve(WIN_ISOLATION_DEFAULT, host);
  for (size_t i = 0; i < n; i++) {
    const char *opt = opts[i] ? opts[i] : "";
    const char *eq = strchr(opt, '=');
    if (!eq) return cs_err_set(err, CS_INVALID_ARGUMENT, "Unable to parse key/value option: %s", opt);
    char key[64], val[64];
    trimmed(opt, eq, key, sizeof key);
    trimmed(eq + 1, eq + strlen(eq), val, sizeof val);
    for (char *k = key; *k; k++) *k = (char)tolower((unsigned char)*k);
    if (strcmp(key, "isolation") != 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "Unrecognised exec-opt '%s'", key);
    int iso;
    if (win_isolation_parse(val, &iso, NULL) < 0)
      return cs_err_set(err, CS_INVALID_ARGUMENT, "Invalid exec-opt value for 'isolation':'%s'", val);
    if (iso == WIN_ISOLATION_HYPERV) *isolation = WIN_ISOLATION_HYPERV;
    if (iso == WIN_ISOLATION_PROCESS) {
      if (host && host->client && host->build < WIN_BUILD_RS5)
        return cs_err_set(err, CS_INVALID_ARGUMENT,
                          "Windows client operating systems earlier than version 1809 can only run Hyper-V containers");
      *isolation = WIN_ISOLATION_PROCESS;
    }
    /* "default" leaves the host default in place, as docker does. */
  }
  return 0;
}

int win_env_split(const char *entry, win_env_kv *kv) {
  if (!entry || !*entry) return -1;
  /* Skip a leading '=' so "=C:=C:\dir" names "=C:". */
  const char *eq = strchr(entry + 1, '=');
  if (!eq) return -1;
  kv->key = entry;
  kv->key_len = (size_t)(eq - entry);
  kv->value = eq + 1;
  return 0;
}

char *win_cmdline_join(const char *const *argv, size_t argc) {
  /* Worst case per argument: every character a quote (2 bytes) plus 2 quotes and a space. */
  size_t cap = 1;
  for (size_t i = 0; i < argc; i++) cap += 2 * strlen(argv[i] ? argv[i] : "") + 4;
  char *out = malloc(cap);
  if (!out) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < argc; i++) {
    const char *a = argv[i] ? argv[i] : "";
    if (i) out[o++] = ' ';
    if (!*a) { out[o++] = '"'; out[o++] = '"'; continue; }
    bool quote = strpbrk(a, " \t") != NULL;
    if (quote) out[o++] = '"';
    size_t slashes = 0;
    for (const char *p = a; *p; p++) {
      if (*p == '\\') {
        slashes++;
      } else if (*p == '"') {
        /* Backslashes before a quote are doubled, and the quote itself escaped. */
        for (; slashes; slashes--) out[o++] = '\\';
        out[o++] = '\\';
      } else {
        slashes = 0;
      }
      out[o++] = *p;
    }
    if (quote) {
      /* Trailing backslashes would escape the closing quote: double them. */
      for (; slashes; slashes--) out[o++] = '\\';
      out[o++] = '"';
    }
  }
  out[o] = '\0';
  return out;
}
