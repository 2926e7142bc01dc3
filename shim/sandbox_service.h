/* The Sandbox API (containerd.runtime.sandbox.v1.Sandbox) on the shim's TTRPC server: with
 * `sandboxer = "shim"` on a CRI runtime handler, containerd 2.x creates the pod through the shim (one shim
 * process per pod) and runs every container of the pod in it through the Task API. One pod per shim. The
 * pod itself (its process and namespaces) is sandbox_pod_*.c's. */
#ifndef SANDBOX_SERVICE_H
#define SANDBOX_SERVICE_H

#include <stdbool.h>
#include <uv.h>

#include "cs_err.h"
#include "task_service.h"
#include "ttrpc.h"

#define SANDBOX_SERVICE_NAME "containerd.runtime.sandbox.v1.Sandbox"

typedef struct sandbox_service_config {
  uv_loop_t *loop;
  const task_service *tasks; /* ShutdownSandbox exits the shim only once no task is left */
  void (*on_shutdown)(void *data);
  void *shutdown_data;
} sandbox_service_config;

typedef struct sandbox_service sandbox_service;

sandbox_service *sandbox_service_new(const sandbox_service_config *cfg, cs_err *err);
int sandbox_service_register(sandbox_service *sb, ttrpc_server *srv, cs_err *err);
/* A pod is created or running: the shim is not idle (shim_idle.c). */
bool sandbox_service_busy(const void *sb);
/* Kills the pod's process if it still runs; pending Wait/Stop calls end with Unavailable. */
void sandbox_service_free(sandbox_service *sb);

#endif
