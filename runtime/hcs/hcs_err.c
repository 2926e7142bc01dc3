#include "hcs_err.h"

#include <stddef.h>

uint32_t hcs_hr_normalize(hcs_hresult hr) {
  uint32_t u = (uint32_t)hr;
  if (u != 0 && u <= 0xFFFF) return 0x80070000u | u; /* HRESULT_FROM_WIN32 */
  if (((u >> 16) & 0x1FFF) == 0x037) u &= ~0x40000000u; /* facility 0x37 (HCS): 0xC037 -> 0x8037 */
  return u;
}

bool hcs_hr_is(hcs_hresult hr, hcs_hresult want) { return hcs_hr_normalize(hr) == hcs_hr_normalize(want); }

static const struct {
  uint32_t hr;
  int code;
  const char *text;
} hcs_hr_table[] = {
  {0x8037010E, CS_NOT_FOUND, "system not found"},
  {0x8037010F, CS_ALREADY_EXISTS, "system already exists"},
  {0x80370110, CS_FAILED_PRECONDITION, "system already stopped"},
  {0x8037011F, CS_FAILED_PRECONDITION, "process already stopped"},
  {0x80370105, CS_FAILED_PRECONDITION, "operation not valid in the system's state"},
  /* Pending only reaches us from a bounded wait that expired: the deadline, not the service, failed. */
  {0x80370103, CS_DEADLINE_EXCEEDED, "operation pending"},
  {0x80370106, CS_ABORTED, "system exited unexpectedly"},
  {0x8037010D, CS_INVALID_ARGUMENT, "invalid JSON document"},
  {0x8037010B, CS_UNIMPLEMENTED, "message not supported by the compute system"},
  {0x80070005, CS_PERMISSION_DENIED, "access denied"},
  {0x80070002, CS_NOT_FOUND, "file not found"},
  {0x80070003, CS_NOT_FOUND, "path not found"},
  {0x80070490, CS_NOT_FOUND, "element not found"},
  {0x803B0002, CS_NOT_FOUND, "HNS endpoint not found"}, /* HCN_E_ENDPOINT_NOT_FOUND (computenetwork.h) */
  {0x80070006, CS_FAILED_PRECONDITION, "invalid handle"},
  {0x8007000D, CS_INVALID_ARGUMENT, "invalid data"},
  {0x80070057, CS_INVALID_ARGUMENT, "invalid argument"},
  {0x80070032, CS_UNIMPLEMENTED, "not supported"},
  {0x80004001, CS_UNIMPLEMENTED, "not implemented"},
  {0x8007007F, CS_UNIMPLEMENTED, "procedure not found"},
  {0x8007007E, CS_UNIMPLEMENTED, "module not found"},
  {0x800700B7, CS_ALREADY_EXISTS, "already exists"},
  {0x8007000E, CS_RESOURCE_EXHAUSTED, "out of memory"},
  {0x800705B4, CS_DEADLINE_EXCEEDED, "timeout"},
  {0x80004004, CS_CANCELLED, "operation aborted"},
  {0x800706BA, CS_UNAVAILABLE, "RPC server unavailable"},
  {0x80004005, CS_UNKNOWN, "unspecified failure"},
};

static int find(hcs_hresult hr) {
  uint32_t n = hcs_hr_normalize(hr);
  for (size_t i = 0; i < sizeof hcs_hr_table / sizeof hcs_hr_table[0]; i++)
    if (hcs_hr_table[i].hr == n) return (int)i;
  return -1;
}

int hcs_hr_code(hcs_hresult hr) {
  if (!HCS_FAILED(hr)) return CS_OK;
  int i = find(hr);
  return i < 0 ? CS_UNKNOWN : hcs_hr_table[i].code;
}

const char *hcs_hr_text(hcs_hresult hr) {
  int i = find(hr);
  return i < 0 ? "unknown error" : hcs_hr_table[i].text;
}

int hcs_err_set(cs_err *err, const char *call, hcs_hresult hr, const char *detail) {
  /* Looked up without the sign test: callers also pass bare Win32 errors (GetLastError after LoadLibrary). */
  int i = find(hr);
  int code = i < 0 ? CS_UNKNOWN : hcs_hr_table[i].code;
  unsigned long shown = (unsigned long)hcs_hr_normalize(hr);
  if (detail && *detail)
    return cs_err_set(err, code, "%s: 0x%08lX: %s: %s", call, shown, hcs_hr_text(hr), detail);
  return cs_err_set(err, code, "%s: 0x%08lX: %s", call, shown, hcs_hr_text(hr));
}
