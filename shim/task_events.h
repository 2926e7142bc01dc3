/* The events publisher: task events forwarded in order to containerd's ttrpc Events service
 * (containerd.services.events.ttrpc.v1.Events/Forward on TTRPC_ADDRESS).
 *
 * containerd's own publisher gives up on an event after 5 retries; an exit lost that way is a container
 * that never stops in containerd's view. Ours keeps every event in a FIFO queue and retries the head with
 * backoff until containerd takes it, so events arrive after an outage, in the order they happened.
 * The queue is bounded by memory only; events are small (~100 bytes). */
#ifndef TASK_EVENTS_H
#define TASK_EVENTS_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct task_events task_events;

/* address: containerd's ttrpc socket (may be NULL or empty: events are then only logged). */
task_events *task_events_new(uv_loop_t *loop, const char *address, const char *ns);
/* Encode now (with the current time), send in order. type_url is the bare full name,
 * e.g. "containerd.events.TaskExit". */
void task_events_publish(task_events *ev, const char *topic, const char *type_url, const ProtobufCMessage *msg);
size_t task_events_pending(const task_events *ev);
/* Call cb once the queue is empty or timeout_ms passed; used before the shim exits. */
void task_events_drain(task_events *ev, uint64_t timeout_ms, void (*cb)(void *data), void *data);
void task_events_free(task_events *ev);

#endif
