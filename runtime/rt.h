/* The compute backend interface: one vtable, implemented by runtime/linux (OCI runtime binary: runc/crun)
 * and runtime/hcs (Windows Host Compute Service). The task service (shim/) calls down through it; nothing
 * here knows about TTRPC or protobuf.
 *
 * Every operation that may take long (a runtime binary, an HCS operation) is asynchronous: it returns 0 after
 * starting the work and calls its rt_done_cb exactly once from the loop, or returns -1 with err and never
 * calls the callback. Process exits and OOM events reach the service through rt_events.
 *
 * Who owns which rule (each is solved in one layer only):
 *
 * - Ids. Every id and exec id passed down has passed cs_id_check (common/cs_id.h: containerd's identifier
 *   rule, at most CS_ID_MAX characters), checked by the service where it enters. Backends do not check ids
 *   again: such an id names nothing outside a bundle and is a valid compute system name.
 *
 * - An exit that arrives before Start returns belongs to the service (shim/task_service.c: on_rt_exit,
 *   task_starting_done). A backend reports each exit once through rt_events.exit as soon as it can name
 *   the pid, even when that is before the rt_done_cb of the start/exec that reveals the pid (a process
 *   that exits at once; runc's exec --detach; HCS's start on a worker thread); it never holds an exit back
 *   for ordering. The service parks the exit of a process whose start is in flight, and keeps exits of
 *   pids it does not know while any start is in flight, then applies them after Start's reply and
 *   TaskStart / TaskExecStarted, so containerd sees start before exit, once.
 *
 * - Deferred completion and teardown: a result known at once is still delivered from the loop, later
 *   (never from inside the call), and after destroy no callback runs. Both backends do it through
 *   runtime/rt_defer.h (rt_linux_op_defer; rt_hcs jobs with nothing to run), which drops what is queued
 *   when the backend is destroyed.
 */
#ifndef RT_H
#define RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cs_err.h"

#define RT_MAX_CPUS 256
#define RT_MAX_BLKIO 32
#define RT_MAX_IFACES 16

typedef struct rt_backend rt_backend;

/* Upward notifications; set once when the backend is created. */
typedef struct rt_events {
  /* A process the backend started (a container's init or an exec) or a process reparented to us
   * exited. status: exit code, or 128+signal. Delivered once per pid, after the status is final, as soon
   * as the pid is known: possibly before the rt_done_cb that gives the service that pid (see above). */
  void (*exit)(void *data, int pid, int status, int64_t exited_at_ns);
  /* The container's memory cgroup recorded an OOM kill. */
  void (*oom)(void *data, const char *id);
  void *data;
} rt_events;

typedef struct rt_stdio {
  bool terminal;
  /* Linux: the fds the process gets as 0/1/2 (-1 for /dev/null); unused with terminal. The backend dups
   * them for the child; the caller keeps ownership. */
  int fd[3];
  /* Windows: named pipe paths for the process stdio (NULL for none). */
  const char *path[3];
} rt_stdio;

/* A rootfs mount of CreateTaskRequest as the backend sees it. Linux: the service has mounted them at
 * <bundle>/rootfs already (shim/task_mount_posix.c), the backend ignores them. Windows: the backend takes the
 * "windows-layer" mount as the container's layer folders (runtime/hcs/hcs_layers.h). */
typedef struct rt_mount {
  const char *type;
  const char *source;
  const char *const *options;
  size_t n_options;
} rt_mount;

typedef struct rt_create_req {
  const char *id;
  const char *bundle;      /* holds config.json and rootfs/ */
  rt_stdio io;
  const char *checkpoint;  /* restore from this image dir, or NULL */
  /* This container's runtime, where it differs from the backend's (containerd passes runtime options with
   * every Create, and the tasks of a pod's shim may name different ones). NULL: the backend's. */
  const char *runtime;       /* binary name or path ("crun") */
  const char *runtime_root;  /* its state root */
  const rt_mount *rootfs;    /* CreateTaskRequest.rootfs, borrowed for the call; n_rootfs 0: none */
  size_t n_rootfs;
} rt_create_req;

typedef struct rt_exec_req {
  const char *id;
  const char *exec_id;
  const char *process_json; /* the OCI Process spec, JSON */
  size_t process_json_len;
  rt_stdio io;
} rt_exec_req;

typedef struct rt_checkpoint_req {
  const char *id;
  const char *image_path;
  const char *work_path;   /* NULL: backend default */
  bool exit;               /* stop the container after the checkpoint */
  bool open_tcp, external_unix_sockets, terminal, file_locks;
} rt_checkpoint_req;

typedef struct rt_result {
  int pid;         /* create/exec/start: the process pid (0 where not applicable) */
  int console_fd;  /* terminal create/exec on Linux: the pty master, owned by the receiver; else -1 */
  /* start on Windows: the std handles (HANDLE) HCS created for the process's stdin/stdout/stderr, owned by
   * the receiver, which moves them to and from the client's pipes (shim/task_io_windows.c); NULL: none.
   * Handed up like console_fd, so the service owns stdio (CloseIO) and the backend never knows the client. */
  void *stdio_handle[3];
} rt_result;

/* err is NULL on success. */
typedef void (*rt_done_cb)(void *data, const rt_result *res, const cs_err *err);
typedef void (*rt_pids_cb)(void *data, const int *pids, size_t n, const cs_err *err);

/* ---------------------------------------------------------------- counters, one sample */
enum rt_sample_kind { RT_SAMPLE_NONE = 0, RT_SAMPLE_CGROUP_V1 = 1, RT_SAMPLE_CGROUP_V2 = 2, RT_SAMPLE_WINDOWS = 3 };

typedef struct rt_blkio_entry {
  uint64_t major, minor;
  uint64_t read, write, sync, async, total; /* v1 ops; v2 fills read/write only */
} rt_blkio_entry;

typedef struct rt_net_iface {
  char name[32];
  /* Windows: the HNS endpoint GUID the counters belong to (36 chars: longer than name, which holds as
   * much of it as fits). Empty on Linux. */
  char endpoint_id[40];
  uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped;
  uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped;
} rt_net_iface;

typedef struct rt_sample {
  int kind;                 /* enum rt_sample_kind */
  int64_t timestamp_ns;     /* CLOCK_REALTIME */
  struct {
    uint64_t usage_ns, user_ns, kernel_ns;
    uint32_t ncpu;
    uint64_t per_cpu_ns[RT_MAX_CPUS];
    uint64_t periods, throttled_periods, throttled_ns;
  } cpu;
  struct {
    uint64_t usage, limit, max_usage, failcnt;
    uint64_t cache, rss, rss_huge, mapped_file, dirty, writeback;
    uint64_t pgpgin, pgpgout, pgfault, pgmajfault;
    uint64_t inactive_anon, active_anon, inactive_file, active_file, unevictable;
    uint64_t hierarchical_limit, hierarchical_swap_limit;
    uint64_t swap_usage, swap_limit, swap_max_usage, swap_failcnt;
    uint64_t kernel_usage, kernel_limit, kernel_max_usage, kernel_failcnt;
    uint64_t oom_kill_disable, under_oom, oom_kill;  /* v1 memory.oom_control */
    uint64_t ev_low, ev_high, ev_max, ev_oom, ev_oom_kill; /* v2 memory.events */
    /* v2 memory.stat names */
    uint64_t anon, file, kernel_stack, slab, sock, shmem, file_mapped, file_dirty, file_writeback;
    /* v1 memory.stat total_* (the cgroup and its descendants); added after the fields above */
    uint64_t total_cache, total_rss, total_rss_huge, total_mapped_file, total_dirty, total_writeback;
    uint64_t total_pgpgin, total_pgpgout, total_pgfault, total_pgmajfault;
    uint64_t total_inactive_anon, total_active_anon, total_inactive_file, total_active_file, total_unevictable;
  } memory;
  struct {
    uint32_t n;
    rt_blkio_entry bytes[RT_MAX_BLKIO];  /* io_service_bytes (v1) / rbytes,wbytes (v2) */
    rt_blkio_entry ops[RT_MAX_BLKIO];    /* io_serviced (v1) / rios,wios (v2), same device order */
  } blkio;
  struct {
    uint64_t current, limit; /* limit 0 = max */
  } pids;
  uint32_t n_net;
  rt_net_iface net[RT_MAX_IFACES];
  struct { /* RT_SAMPLE_WINDOWS only */
    int64_t container_start_time_ns;
    uint64_t uptime_ns;
    uint64_t commit_bytes, commit_peak_bytes, private_working_set_bytes;
    uint64_t read_count_normalized, read_size_bytes, write_count_normalized, write_size_bytes;
  } windows;
} rt_sample;

/* The counters that move between two ticks of a stream: read every tick, while a stream refreshes the
 * full sample (memory.stat, block I/O, network, throttling) at a lower rate. */
typedef struct rt_quick {
  int64_t timestamp_ns;
  uint64_t cpu_usage_ns, memory_usage;
} rt_quick;

/* An asynchronous Stats read, libuv style: the caller owns the request (and *out) until its callback, which
 * gets the request back (data is the caller's). err is NULL on success, and *out then holds the sample. */
typedef struct rt_stats_req rt_stats_req;
typedef void (*rt_stats_cb)(rt_stats_req *req, const cs_err *err);
struct rt_stats_req {
  void *data;       /* the caller's */
  rt_sample *out;   /* the caller's, filled before a successful callback */
  bool lean;        /* the stream's read: what stats_lean leaves out may be left out */
  rt_stats_cb cb;   /* set by stats_async */
};

/* ---------------------------------------------------------------- the vtable */
typedef struct rt_ops {
  const char *name;
  int (*create)(rt_backend *be, const rt_create_req *req, rt_done_cb cb, void *data, cs_err *err);
  /* Start the container's init (exec_id NULL) or a created exec. */
  int (*start)(rt_backend *be, const char *id, const char *exec_id, rt_done_cb cb, void *data, cs_err *err);
  /* Create an exec process (runc exec --detach). res.pid is its pid. */
  int (*exec)(rt_backend *be, const rt_exec_req *req, rt_done_cb cb, void *data, cs_err *err);
  /* pid 0: the container (runtime kill, `all` to every process); else signal that process. */
  int (*kill)(rt_backend *be, const char *id, int pid, int sig, bool all, rt_done_cb cb, void *data,
              cs_err *err);
  int (*delete)(rt_backend *be, const char *id, bool force, rt_done_cb cb, void *data, cs_err *err);
  int (*pause)(rt_backend *be, const char *id, rt_done_cb cb, void *data, cs_err *err);
  int (*resume)(rt_backend *be, const char *id, rt_done_cb cb, void *data, cs_err *err);
  /* resources: OCI LinuxResources (or WindowsResources) JSON. */
  int (*update)(rt_backend *be, const char *id, const char *resources_json, size_t len, rt_done_cb cb,
                void *data, cs_err *err);
  /* May answer before it returns (Linux reads cgroup.procs directly). */
  int (*pids)(rt_backend *be, const char *id, rt_pids_cb cb, void *data, cs_err *err);
  int (*checkpoint)(rt_backend *be, const rt_checkpoint_req *req, rt_done_cb cb, void *data, cs_err *err);
  /* Windows consoles are resized through the backend; on Linux the service resizes the pty master. */
  int (*resize)(rt_backend *be, const char *id, int pid, uint32_t width, uint32_t height, cs_err *err);
  /* Cheap, synchronous: cgroup files are kept open per container; no path resolution per sample. NULL where
   * a read may block (HCS): stats_async only. */
  int (*stats)(rt_backend *be, const char *id, rt_sample *out, cs_err *err);
  /* Optional (NULL: the stream reads the full sample every tick). Linux: two preads, one if the task has
   * not run since the last read (its memory usage is then the last read). */
  int (*stats_quick)(rt_backend *be, const char *id, rt_quick *out, cs_err *err);
  /* Optional (NULL: stats). The stream's full read: the sample without what its Sample does not carry
   * (per-CPU usage; swap and kernel-memory peaks and fail counts), a third fewer reads on cgroup v1. */
  int (*stats_lean)(rt_backend *be, const char *id, rt_sample *out, cs_err *err);
  /* Optional (NULL: the service calls stats, synchronously). The sample without blocking the loop: 0 and
   * req->cb exactly once, on the loop, or -1 with err and no callback. A backend whose read is a few cheap
   * reads (Linux: cgroup files) may call back before it returns; one that asks another service (HCS) calls
   * back on a later turn, with DeadlineExceeded naming the container when the answer does not come in time.
   * destroy answers every request still in flight with Cancelled before it returns. */
  int (*stats_async)(rt_backend *be, const char *id, rt_stats_req *req, rt_stats_cb cb, cs_err *err);
  /* Free everything; no callbacks after this. */
  void (*destroy)(rt_backend *be);
} rt_ops;

struct rt_backend {
  const rt_ops *ops;
  uv_loop_t *loop;
  rt_events events;
};

#endif
