/* The only code that touches computecore.dll / vmcompute.dll: fills an hcs_api with the real entry points.
 * Loaded at run time (LoadLibraryExW + GetProcAddress), so cshim needs no import library and a host without
 * the Containers feature gets a clear error instead of a loader failure. */
#ifndef HCS_DLL_H
#define HCS_DLL_H

#include "cs_err.h"
#include "hcs_api.h"

/* Off Windows: Unimplemented. */
int hcs_dll_load(hcs_api *api, cs_err *err);
void hcs_dll_unload(hcs_api *api);

#endif
