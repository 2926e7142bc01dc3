/* computecore.dll, fake: HcsGetComputeSystemProperties. Statistics are computed from the system's own processes,
 * not from the job object: Wine 8's job accounting returns zeros. CPU times and I/O add up over every process the
 * system ran, including those that ended (as a job's accounting does); memory over the live ones.
 *
 * CPU times come from NtQuerySystemInformation(SystemProcessInformation), the per-process figures Task Manager
 * shows, not from GetProcessTimes: Wine 8 answers GetProcessTimes on another process's handle with the CALLER's
 * times (measured: the same figures for the child's handle and GetCurrentProcess()), while it fills
 * SystemProcessInformation from each process's /proc/<pid>/stat. On Windows both agree. Memory comes from
 * GetProcessMemoryInfo (PagefileUsage is the commit charge; Wine's PrivateUsage is the virtual size),
 * I/O from GetProcessIoCounters (zeros under Wine 8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hcs_int.h"
/* After windows.h (fake_hcs_int.h). */
#include <psapi.h>
#include <winternl.h>

static ULONGLONG ft64(const FILETIME *f) { return ((ULONGLONG)f->dwHighDateTime << 32) | f->dwLowDateTime; }

static const char *const state_names[] = {"Created", "Running", "Paused", "Stopped"};

static void keep_max(ULONGLONG *have, ULONGLONG now) {
  if (now > *have) *have = now;
}

/* Every process's SystemProcessInformation entry; malloc'd, NULL on failure. */
static SYSTEM_PROCESS_INFORMATION *snapshot(void) {
  ULONG len = 256 * 1024;
  for (int tries = 0; tries < 6; tries++, len *= 2) {
    void *buf = malloc(len);
    if (!buf) return NULL;
    ULONG got = 0;
    NTSTATUS st = NtQuerySystemInformation(SystemProcessInformation, buf, len, &got);
    if (st == 0) return buf;
    free(buf);
    if (st != (NTSTATUS)0xC0000004L) return NULL; /* STATUS_INFO_LENGTH_MISMATCH: grow and retry */
  }
  return NULL;
}

static const SYSTEM_PROCESS_INFORMATION *snapshot_find(const SYSTEM_PROCESS_INFORMATION *snap, DWORD pid) {
  for (const char *at = (const char *)snap; at;) {
    const SYSTEM_PROCESS_INFORMATION *e = (const SYSTEM_PROCESS_INFORMATION *)at;
    if ((DWORD)(ULONG_PTR)e->UniqueProcessId == pid) return e;
    at = e->NextEntryOffset ? at + e->NextEntryOffset : NULL;
  }
  return NULL;
}

void fake_proc_sample(fake_proc *p, const void *snap) {
  const SYSTEM_PROCESS_INFORMATION *e = snap && !p->exited ? snapshot_find(snap, p->pid) : NULL;
  if (e) {
    keep_max(&p->user, (ULONGLONG)e->UserTime.QuadPart);
    keep_max(&p->kernel, (ULONGLONG)e->KernelTime.QuadPart);
  }
  IO_COUNTERS io;
  if (GetProcessIoCounters(p->h, &io)) {
    keep_max(&p->rd_n, io.ReadOperationCount);
    keep_max(&p->rd_b, io.ReadTransferCount);
    keep_max(&p->wr_n, io.WriteOperationCount);
    keep_max(&p->wr_b, io.WriteTransferCount);
  }
}

static json_t *statistics(fake_sys *s) {
  SYSTEM_PROCESS_INFORMATION *snap = snapshot();
  ULONGLONG user = 0, kernel = 0;
  ULONGLONG commit = 0, commit_peak = 0, ws_private = 0;
  ULONGLONG rd_n = 0, rd_b = 0, wr_n = 0, wr_b = 0;
  for (fake_proc *p = s->procs; p; p = p->next) {
    fake_proc_sample(p, snap);
    user += p->user;
    kernel += p->kernel;
    rd_n += p->rd_n;
    rd_b += p->rd_b;
    wr_n += p->wr_n;
    wr_b += p->wr_b;
    PROCESS_MEMORY_COUNTERS_EX m;
    if (!p->exited && GetProcessMemoryInfo(p->h, (PROCESS_MEMORY_COUNTERS *)&m, sizeof m)) {
      commit += m.PagefileUsage;
      commit_peak += m.PeakPagefileUsage;
      /* The private part of the working set is not in PROCESS_MEMORY_COUNTERS; the whole working set stands in. */
      ws_private += m.WorkingSetSize;
    }
  }
  free(snap);
  FILETIME now;
  GetSystemTimeAsFileTime(&now);
  char ts[40], start[40];
  fake_format_time(&now, ts);
  const FILETIME *since = s->started.dwHighDateTime || s->started.dwLowDateTime ? &s->started : &s->created;
  fake_format_time(since, start);
  ULONGLONG up = ft64(&now) > ft64(since) ? ft64(&now) - ft64(since) : 0;
  return json_pack("{s:s,s:s,s:I,s:{s:I,s:I,s:I},s:{s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I}}", "Timestamp", ts,
                   "ContainerStartTime", start, "Uptime100ns", (json_int_t)up, "Processor", "TotalRuntime100ns",
                   (json_int_t)(user + kernel), "RuntimeUser100ns", (json_int_t)user, "RuntimeKernel100ns",
                   (json_int_t)kernel, "Memory", "MemoryUsageCommitBytes", (json_int_t)commit,
                   "MemoryUsageCommitPeakBytes", (json_int_t)commit_peak, "MemoryUsagePrivateWorkingSetBytes",
                   (json_int_t)ws_private, "Storage", "ReadCountNormalized", (json_int_t)rd_n, "ReadSizeBytes",
                   (json_int_t)rd_b, "WriteCountNormalized", (json_int_t)wr_n, "WriteSizeBytes", (json_int_t)wr_b);
}

static json_t *process_list(fake_sys *s) {
  SYSTEM_PROCESS_INFORMATION *snap = snapshot();
  json_t *list = json_array();
  for (fake_proc *p = s->procs; p; p = p->next) {
    if (p->exited) continue;
    fake_proc_sample(p, snap);
    ULONGLONG user = p->user, kernel = p->kernel;
    PROCESS_MEMORY_COUNTERS_EX m;
    memset(&m, 0, sizeof m);
    GetProcessMemoryInfo(p->h, (PROCESS_MEMORY_COUNTERS *)&m, sizeof m);
    char created[40];
    fake_format_time(&p->created, created);
    /* ProcessDetails (hcsshim process_details.go). ImageName: the command line's first word, as HCS shows the
     * image's file name. */
    char image[260];
    const char *cmd = p->image ? p->image : "";
    size_t i = 0;
    bool quoted = *cmd == '"';
    for (const char *c2 = cmd + quoted; *c2 && i < sizeof image - 1; c2++) {
      if (quoted ? *c2 == '"' : *c2 == ' ') break;
      image[i++] = *c2;
    }
    image[i] = '\0';
    const char *base = image;
    for (const char *c2 = image; *c2; c2++)
      if (*c2 == '\\' || *c2 == '/') base = c2 + 1;
    json_array_append_new(list, json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "ProcessId", (json_int_t)p->pid,
                                          "ImageName", base, "CreateTimestamp", created, "UserTime100ns",
                                          (json_int_t)user, "KernelTime100ns", (json_int_t)kernel,
                                          "MemoryCommitBytes", (json_int_t)m.PagefileUsage,
                                          "MemoryWorkingSetPrivateBytes", (json_int_t)m.WorkingSetSize,
                                          "MemoryWorkingSetSharedBytes", (json_int_t)0));
  }
  free(snap);
  return list;
}

char *fake_sys_properties(fake_sys *s, json_t *query, HRESULT *hr, char *err, size_t n) {
  /* Properties (hcsshim properties.go): the basic fields always, then what the query asks for. */
  json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "Id", s->id, "SystemType", s->hyperv ? "VirtualMachine" : "Container",
                        "RuntimeOsType", "Windows", "Owner", s->owner, "State", state_names[s->state], "Stopped",
                        s->state == SYS_STOPPED);
  json_t *types = json_object_get(query, "PropertyTypes");
  for (size_t i = 0; json_is_array(types) && i < json_array_size(types); i++) {
    const char *t = json_string_value(json_array_get(types, i));
    if (strcmp(t, "Statistics") == 0) {
      if (s->state == SYS_STOPPED) {
        snprintf(err, n, "Statistics: the system is stopped");
        *hr = FAKE_HCS_E_SYSTEM_ALREADY_STOPPED;
        json_decref(d);
        return NULL;
      }
      json_object_set_new(d, "Statistics", statistics(s));
    } else if (strcmp(t, "ProcessList") == 0) {
      json_object_set_new(d, "ProcessList", process_list(s));
    } else if (strcmp(t, "TerminateOnLastHandleClosed") == 0) {
      json_object_set_new(d, "TerminateOnLastHandleClosed", json_boolean(s->terminate_on_close));
    } else if (strcmp(t, "Basic") != 0) {
      snprintf(err, n, "PropertyTypes: %s is a real property type the fake does not serve", t);
      *hr = FAKE_E_NOT_SUPPORTED;
      json_decref(d);
      return NULL;
    }
  }
  char *out = json_dumps(d, JSON_COMPACT);
  json_decref(d);
  if (!out) *hr = E_OUTOFMEMORY;
  return out;
}
