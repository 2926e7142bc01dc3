/* OOM notifications for one container, as containerd's pkg/oom does:
 *  v1: an eventfd registered through cgroup.event_control on memory.oom_control, polled on the loop; the
 *      eventfd also fires when the cgroup is removed, which is told apart by the cgroup being gone.
 *  v2: inotify (uv_fs_event) on memory.events; an OOM is an increase of its oom_kill counter. */
#ifndef RT_LINUX_OOM_H
#define RT_LINUX_OOM_H

#include <uv.h>

#include "cs_err.h"

typedef struct rt_linux_oom rt_linux_oom;
typedef void (*rt_linux_oom_cb)(void *data);

/* version 1: dir is the memory controller's cgroup dir; version 2: the cgroup's dir. */
rt_linux_oom *rt_linux_oom_start(uv_loop_t *loop, int version, const char *dir, rt_linux_oom_cb cb, void *data,
                                 cs_err *err);

/* No callbacks after this; memory goes once the loop ran the close callback. */
void rt_linux_oom_stop(rt_linux_oom *o);

#endif
