#include "stats_windows.h"

#include <stdlib.h>

#include "runhcs/stats.pb-c.h"

static void ts_set(Google__Protobuf__Timestamp *ts, int64_t ns) {
  /* Floor division, so times before 1970 keep nanos in [0, 1e9) as the Timestamp contract requires. */
  int64_t sec = ns / 1000000000, nsec = ns % 1000000000;
  if (nsec < 0) {
    nsec += 1000000000;
    sec--;
  }
  ts->seconds = sec;
  ts->nanos = (int32_t)nsec;
}

int task_stats_encode_windows(const rt_sample *s, uint8_t **out, size_t *len, cs_err *err) {
  *out = NULL;
  *len = 0;
  if (!s || s->kind != RT_SAMPLE_WINDOWS)
    return cs_err_set(err, CS_INTERNAL, "stats: not a Windows sample (kind %d)", s ? s->kind : -1);

  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT, start = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  Containerd__Runhcs__Stats__V1__WindowsContainerProcessorStatistics cpu =
      CONTAINERD__RUNHCS__STATS__V1__WINDOWS_CONTAINER_PROCESSOR_STATISTICS__INIT;
  Containerd__Runhcs__Stats__V1__WindowsContainerMemoryStatistics mem =
      CONTAINERD__RUNHCS__STATS__V1__WINDOWS_CONTAINER_MEMORY_STATISTICS__INIT;
  Containerd__Runhcs__Stats__V1__WindowsContainerStorageStatistics sto =
      CONTAINERD__RUNHCS__STATS__V1__WINDOWS_CONTAINER_STORAGE_STATISTICS__INIT;
  Containerd__Runhcs__Stats__V1__WindowsContainerStatistics win =
      CONTAINERD__RUNHCS__STATS__V1__WINDOWS_CONTAINER_STATISTICS__INIT;
  Containerd__Runhcs__Stats__V1__Statistics st = CONTAINERD__RUNHCS__STATS__V1__STATISTICS__INIT;

  ts_set(&ts, s->timestamp_ns);
  win.timestamp = &ts;
  if (s->windows.container_start_time_ns) {
    ts_set(&start, s->windows.container_start_time_ns);
    win.container_start_time = &start;
  }
  win.uptime_ns = s->windows.uptime_ns;
  cpu.total_runtime_ns = s->cpu.usage_ns;
  cpu.runtime_user_ns = s->cpu.user_ns; /* the user figure, not the kernel one */
  cpu.runtime_kernel_ns = s->cpu.kernel_ns;
  win.processor = &cpu;
  mem.memory_usage_commit_bytes = s->windows.commit_bytes;
  mem.memory_usage_commit_peak_bytes = s->windows.commit_peak_bytes;
  mem.memory_usage_private_working_set_bytes = s->windows.private_working_set_bytes;
  win.memory = &mem;
  sto.read_count_normalized = s->windows.read_count_normalized;
  sto.read_size_bytes = s->windows.read_size_bytes;
  sto.write_count_normalized = s->windows.write_count_normalized;
  sto.write_size_bytes = s->windows.write_size_bytes;
  win.storage = &sto;
  st.container_case = CONTAINERD__RUNHCS__STATS__V1__STATISTICS__CONTAINER_WINDOWS;
  st.windows = &win;
  /* s->net[] (HNS endpoint counters) has no field in this message — hcsshim never added one; cshim's
   * metrics stream carries them. st.vm stays unset: the sample has no utility VM figures. */

  size_t n = containerd__runhcs__stats__v1__statistics__get_packed_size(&st);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "stats: out of memory");
  *len = containerd__runhcs__stats__v1__statistics__pack(&st, buf);
  *out = buf;
  return 0;
}
