/* HRESULT -> cs_err. Messages name the HCS call and the code in hex, then what it means, then HCS's own
 * detail if any: "HcsStartComputeSystem: 0x8037010E: system not found: <ErrorMessage>". */
#ifndef HCS_ERR_H
#define HCS_ERR_H

#include <stdbool.h>
#include <stdint.h>

#include "cs_err.h"
#include "hcs_api.h"

/* HCS_E_* (winerror.h; hcsshim internal/hcs/errors.go uses the 0xC037xxxx spelling of the same codes,
 * which hcs_hr_is treats as equal). */
#define HCS_E_OPERATION_PENDING ((hcs_hresult)0xC0370103)
#define HCS_E_INVALID_STATE ((hcs_hresult)0x80370105)
#define HCS_E_UNEXPECTED_EXIT ((hcs_hresult)0x80370106)
#define HCS_E_UNKNOWN_MESSAGE ((hcs_hresult)0x8037010B)
#define HCS_E_INVALID_JSON ((hcs_hresult)0x8037010D)
#define HCS_E_SYSTEM_NOT_FOUND ((hcs_hresult)0x8037010E)
#define HCS_E_SYSTEM_ALREADY_EXISTS ((hcs_hresult)0x8037010F)
#define HCS_E_SYSTEM_ALREADY_STOPPED ((hcs_hresult)0x80370110)
#define HCS_E_PROCESS_ALREADY_STOPPED ((hcs_hresult)0x8037011F)
/* Win32 errors as HRESULTs (HRESULT_FROM_WIN32). */
#define HCS_E_ACCESS_DENIED ((hcs_hresult)0x80070005)
#define HCS_E_ELEMENT_NOT_FOUND ((hcs_hresult)0x80070490)
#define HCS_E_INVALID_HANDLE ((hcs_hresult)0x80070006)
#define HCS_E_TIMEOUT ((hcs_hresult)0x800705B4)
#define HCS_E_FAIL ((hcs_hresult)0x80004005)

#define HCS_FAILED(hr) ((hcs_hresult)(hr) < 0)

/* Canonical form used for comparison: the NTSTATUS-style 0xC037 spelling folded onto 0x8037, and a bare
 * Win32 error (as hcsshim's syscall.Errno values carry them) lifted to HRESULT_FROM_WIN32. */
uint32_t hcs_hr_normalize(hcs_hresult hr);
bool hcs_hr_is(hcs_hresult hr, hcs_hresult want);
int hcs_hr_code(hcs_hresult hr);             /* enum cs_code */
const char *hcs_hr_text(hcs_hresult hr);     /* "system not found"; "unknown error" if unlisted */
/* Fill err; detail (HCS's ErrorMessage) may be NULL. Returns -1. */
int hcs_err_set(cs_err *err, const char *call, hcs_hresult hr, const char *detail);

#endif
