#include "hcs_stats.h"

#include <jansson.h>

#include "hcs_time.h"

static uint64_t u64(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  if (json_is_integer(v)) return json_integer_value(v) < 0 ? 0 : (uint64_t)json_integer_value(v);
  if (json_is_real(v)) return json_real_value(v) < 0 ? 0 : (uint64_t)json_real_value(v);
  return 0;
}

static int64_t when(json_t *obj, const char *key) {
  int64_t ns = 0;
  json_t *v = json_object_get(obj, key);
  if (json_is_string(v) && hcs_time_parse(json_string_value(v), &ns, NULL) < 0) ns = 0;
  return ns;
}

int hcs_stats_parse(const char *json, rt_sample *out, cs_err *err) {
  json_error_t jerr;
  json_t *doc = json_loads(json ? json : "", 0, &jerr);
  if (!doc) return cs_err_set(err, CS_INTERNAL, "HCS statistics: %s", jerr.text);
  /* The properties document wraps Statistics; accept the bare object too. */
  json_t *st = json_object_get(doc, "Statistics");
  if (!json_is_object(st)) st = json_object_get(doc, "Processor") ? doc : NULL;
  if (!st) {
    json_decref(doc);
    return cs_err_set(err, CS_INTERNAL, "HCS properties carry no Statistics");
  }
  out->kind = RT_SAMPLE_WINDOWS;
  out->timestamp_ns = when(st, "Timestamp");
  if (!out->timestamp_ns) out->timestamp_ns = hcs_time_now_ns();
  out->windows.container_start_time_ns = when(st, "ContainerStartTime");
  out->windows.uptime_ns = u64(st, "Uptime100ns") * 100;

  json_t *p = json_object_get(st, "Processor");
  out->cpu.usage_ns = u64(p, "TotalRuntime100ns") * 100;
  /* User time from the user figure. (docker's Windows stats once filled it from RuntimeKernel100ns.) */
  out->cpu.user_ns = u64(p, "RuntimeUser100ns") * 100;
  out->cpu.kernel_ns = u64(p, "RuntimeKernel100ns") * 100;

  json_t *m = json_object_get(st, "Memory");
  out->windows.commit_bytes = u64(m, "MemoryUsageCommitBytes");
  out->windows.commit_peak_bytes = u64(m, "MemoryUsageCommitPeakBytes");
  out->windows.private_working_set_bytes = u64(m, "MemoryUsagePrivateWorkingSetBytes");
  /* The generic fields for consumers that know no Windows: usage is the private working set (what the
   * kubelet reports as working set on Windows), the maximum the commit peak. */
  out->memory.usage = out->windows.private_working_set_bytes;
  out->memory.max_usage = out->windows.commit_peak_bytes;

  json_t *s = json_object_get(st, "Storage");
  out->windows.read_count_normalized = u64(s, "ReadCountNormalized");
  out->windows.read_size_bytes = u64(s, "ReadSizeBytes");
  out->windows.write_count_normalized = u64(s, "WriteCountNormalized");
  out->windows.write_size_bytes = u64(s, "WriteSizeBytes");
  json_decref(doc);
  return 0;
}
