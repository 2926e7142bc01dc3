/* The Task API service (containerd.task.v2.Task): one handler per RPC over the process state machine
 * (task_proc.h), calling down into a compute backend (runtime/rt.h). Above it only the transport. */
#ifndef TASK_SERVICE_H
#define TASK_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cs_err.h"
#include "rt.h"
#include "task_events.h"
#include "ttrpc.h"

#define TASK_SERVICE_NAME "containerd.task.v2.Task"
#define TASK_SERVICE_NAME_V3 "containerd.task.v3.Task"

/* Runtime options from containerd (any of the types task_opts.h decodes), handed to the backend factory. */
typedef struct task_runtime_opts {
  const char *ns;
  const char *bundle;
  const char *binary_name;  /* "" → runc */
  const char *root;         /* "" → backend default */
  const char *criu_path;
  bool systemd_cgroup;
  bool no_pivot_root;
  bool no_new_keyring;
  const char *shim_cgroup;  /* the shim joins it at start (shim_cgroup.c) */
  uint32_t io_uid, io_gid;  /* owner of the process's stdio FIFOs/pipe */
  const char *criu_image_path, *criu_work_path;
  uint32_t bootstrap_version; /* BootstrapVersion: what start answers (shim_bootstrap.h); 0: not set */
} task_runtime_opts;

typedef rt_backend *(*task_backend_factory)(void *data, uv_loop_t *loop, const task_runtime_opts *opts,
                                            const rt_events *ev, cs_err *err);
/* Encode a counters sample as the Stats Any (type URL + bytes, malloc'd). */
typedef int (*task_stats_encoder)(const rt_sample *s, uint8_t **out, size_t *len, const char **type_url,
                                  cs_err *err);

typedef struct task_service_config {
  uv_loop_t *loop;
  const char *ns;
  task_events *events;             /* where task events go (not owned) */
  task_backend_factory backend_new;
  void *backend_data;
  task_stats_encoder encode_stats;
  /* Shutdown RPC accepted with no task left: the serving process should exit. */
  void (*on_shutdown)(void *data);
  void *shutdown_data;
  /* Optional: keep each task's runtime options in its bundle, for the `delete` cleanup of a dead shim. */
  int (*save_opts)(const char *bundle, const task_runtime_opts *opts, cs_err *err);
} task_service_config;

typedef struct task_service task_service;

task_service *task_service_new(const task_service_config *cfg, cs_err *err);
int task_service_register(task_service *svc, ttrpc_server *srv, cs_err *err);
size_t task_service_count(const task_service *svc);
/* Frees containers' in-memory state (not the containers themselves); the backend is destroyed. */
void task_service_free(task_service *svc);

#endif
