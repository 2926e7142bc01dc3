/* The backend of each platform, chosen by CMake: which backend the task service gets and how its counters
 * are encoded for Stats (shim_backend_linux.c: runc/crun, cgroup Metrics; shim_backend_windows.c: HCS,
 * runhcs Statistics). */
#ifndef SHIM_BACKEND_H
#define SHIM_BACKEND_H

#include "task_service.h"

/* What every backend of this process shares, with an explicit lifetime (Windows: the HCS/HNS DLL tables,
 * loaded at the first backend); freed after the backend. */
typedef struct shim_platform shim_platform;
shim_platform *shim_platform_new(cs_err *err);
void shim_platform_free(shim_platform *pl);

/* data: the shim_platform. */
rt_backend *shim_backend_new(void *data, uv_loop_t *loop, const task_runtime_opts *opts, const rt_events *ev,
                             cs_err *err);
/* Deal with a container this backend did not create (the `delete` cleanup of a dead shim): Linux makes the
 * backend know it (its delete follows); Windows terminates the compute system by id. */
int shim_backend_adopt(shim_platform *pl, rt_backend *be, const char *id, const char *bundle, int pid, cs_err *err);
int shim_encode_stats(const rt_sample *s, uint8_t **out, size_t *len, const char **type_url, cs_err *err);
/* The exit status `delete` reports for a shim that died: 137 after runc's SIGKILL (runc-v2), 255 on
 * Windows where the real one is unknown (runhcs). */
int shim_backend_dead_exit_status(void);

/* What Create chose (runtime binary, root), saved in the bundle so `delete` after a crash drives the same
 * runtime the same way. */
int shim_backend_save_opts(const char *bundle, const task_runtime_opts *opts, cs_err *err);
int shim_backend_load_opts(const char *bundle, char *binary, size_t blen, char *root, size_t rlen);

#endif
