#include "task_events.h"

#include <stdlib.h>
#include <string.h>

#include "containerd/services/events/ttrpc_events.pb-c.h"
#include "cs_log.h"
#include "task_os.h"
#include "ttrpc.h"

#define EV_SERVICE "containerd.services.events.ttrpc.v1.Events"
#define EV_TIMEOUT_NS (5LL * 1000 * 1000 * 1000)
#define EV_BACKOFF_MIN_MS 50
#define EV_BACKOFF_MAX_MS 2000
/* A Forward that containerd answers with an error other than Unavailable will not succeed by retrying
 * forever; after this many attempts it is logged and dropped so the queue keeps moving. */
#define EV_MAX_REJECTS 10

typedef struct ev_item {
  struct ev_item *next;
  char topic[64];
  int rejects;
  size_t len;
  uint8_t data[];
} ev_item;

struct task_events {
  uv_loop_t *loop;
  char *address;
  char *ns;
  ttrpc_client *client;
  bool connecting, in_flight, closing;
  ev_item *head, *tail;
  size_t pending;
  uv_timer_t retry;
  uint64_t backoff_ms;
  uv_timer_t drain_timer;
  int closing_handles; /* freed when both timers have closed, in whatever order libuv finishes them */
  void (*drain_cb)(void *);
  void *drain_data;
};

static void ev_kick(task_events *ev);
static void ev_on_retry(uv_timer_t *t);

static void ev_schedule_retry(task_events *ev) {
  if (ev->closing) return;
  ev->backoff_ms = ev->backoff_ms ? ev->backoff_ms * 2 : EV_BACKOFF_MIN_MS;
  if (ev->backoff_ms > EV_BACKOFF_MAX_MS) ev->backoff_ms = EV_BACKOFF_MAX_MS;
  uv_timer_start(&ev->retry, ev_on_retry, ev->backoff_ms, 0);
}

static void ev_drain_check(task_events *ev) {
  if (ev->drain_cb && !ev->head) {
    void (*cb)(void *) = ev->drain_cb;
    ev->drain_cb = NULL;
    uv_timer_stop(&ev->drain_timer);
    cb(ev->drain_data);
  }
}

static void ev_on_reply(void *data, int code, const char *msg, const uint8_t *payload, size_t len) {
  task_events *ev = data;
  ev->in_flight = false;
  ev_item *it = ev->head;
  if (!it) return;
  if (code == CS_OK) {
    ev->head = it->next;
    if (!ev->head) ev->tail = NULL;
    ev->pending--;
    free(it);
    ev->backoff_ms = 0;
    ev_drain_check(ev);
    ev_kick(ev);
    return;
  }
  if (code != CS_UNAVAILABLE && code != CS_DEADLINE_EXCEEDED && code != CS_CANCELLED &&
      ++it->rejects >= EV_MAX_REJECTS) {
    CS_ERROR("event %s rejected by containerd %d times (%s: %s), dropping it", it->topic, it->rejects,
             cs_code_name(code), msg ? msg : "");
    ev->head = it->next;
    if (!ev->head) ev->tail = NULL;
    ev->pending--;
    free(it);
    ev_drain_check(ev);
  } else {
    CS_WARN("forward event %s: %s: %s (will retry)", it->topic, cs_code_name(code), msg ? msg : "");
  }
  /* A dropped connection is replaced in ev_kick, not here: this runs inside the client's own callback. */
  ev_schedule_retry(ev);
}

static void ev_send_head(task_events *ev) {
  ev_item *it = ev->head;
  if (!it || ev->in_flight || !ev->client) return;
  ttrpc_kv md[1] = {{"containerd-namespace-ttrpc", ev->ns}};
  cs_err err;
  ev->in_flight = true;
  if (ttrpc_client_call(ev->client, EV_SERVICE, "Forward", it->data, it->len, md, 1, EV_TIMEOUT_NS,
                        ev_on_reply, ev, &err) < 0) {
    ev->in_flight = false;
    CS_WARN("forward event %s: %s", it->topic, err.msg);
    ev_schedule_retry(ev);
  }
}

static void ev_on_connect(void *data, int status) {
  task_events *ev = data;
  ev->connecting = false;
  if (status < 0) {
    CS_DEBUG("connect to containerd events at %s: %s", ev->address, uv_strerror(status));
    ev_schedule_retry(ev);
    return;
  }
  ev_send_head(ev);
}

static void ev_kick(task_events *ev) {
  if (ev->closing || !ev->head || ev->in_flight || ev->connecting || uv_is_active((uv_handle_t *)&ev->retry))
    return;
  if (!ev->address || !*ev->address) {
    /* Nobody to deliver to (cshimctl without containerd): the events only go to the log. */
    while (ev->head) {
      ev_item *it = ev->head;
      ev->head = it->next;
      CS_DEBUG("event %s (no containerd to forward to)", it->topic);
      free(it);
      ev->pending--;
    }
    ev->tail = NULL;
    ev_drain_check(ev);
    return;
  }
  if (ev->client && ttrpc_client_connected(ev->client)) {
    ev_send_head(ev);
    return;
  }
  if (ev->client) { /* dropped or never connected: start over with a fresh connection */
    ttrpc_client_close(ev->client);
    ev->client = NULL;
  }
  ev->client = ttrpc_client_new(ev->loop);
  if (!ev->client) {
    ev_schedule_retry(ev);
    return;
  }
  cs_err err;
  ev->connecting = true;
  if (ttrpc_client_connect(ev->client, ev->address, ev_on_connect, ev, &err) < 0) {
    ev->connecting = false;
    CS_DEBUG("connect to containerd events: %s", err.msg);
    ev_schedule_retry(ev);
  }
}

static void ev_on_retry(uv_timer_t *t) {
  task_events *ev = t->data;
  ev_kick(ev);
}

task_events *task_events_new(uv_loop_t *loop, const char *address, const char *ns) {
  task_events *ev = calloc(1, sizeof *ev);
  if (!ev) return NULL;
  ev->loop = loop;
  ev->address = address ? strdup(address) : NULL;
  ev->ns = strdup(ns ? ns : "default");
  uv_timer_init(loop, &ev->retry);
  ev->retry.data = ev;
  uv_timer_init(loop, &ev->drain_timer);
  ev->drain_timer.data = ev;
  return ev;
}

void task_events_publish(task_events *ev, const char *topic, const char *type_url, const ProtobufCMessage *msg) {
  int64_t now = task_os_now_ns();
  size_t vlen = protobuf_c_message_get_packed_size(msg);
  uint8_t *value = malloc(vlen ? vlen : 1);
  if (!value) {
    CS_ERROR("event %s: out of memory", topic);
    return;
  }
  protobuf_c_message_pack(msg, value);

  Google__Protobuf__Timestamp stamp = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  stamp.seconds = now / 1000000000LL;
  stamp.nanos = (int32_t)(now % 1000000000LL);
  Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
  any.type_url = (char *)type_url;
  any.value.data = value;
  any.value.len = vlen;
  Containerd__Services__Events__Ttrpc__V1__Envelope env = CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
  env.timestamp = &stamp;
  env.namespace_ = ev->ns;
  env.topic = (char *)topic;
  env.event = &any;
  Containerd__Services__Events__Ttrpc__V1__ForwardRequest req =
      CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
  req.envelope = &env;

  size_t len = containerd__services__events__ttrpc__v1__forward_request__get_packed_size(&req);
  ev_item *it = malloc(sizeof *it + len);
  if (!it) {
    free(value);
    CS_ERROR("event %s: out of memory", topic);
    return;
  }
  it->next = NULL;
  it->rejects = 0;
  snprintf(it->topic, sizeof it->topic, "%s", topic);
  it->len = containerd__services__events__ttrpc__v1__forward_request__pack(&req, it->data);
  free(value);
  if (ev->tail) ev->tail->next = it;
  else ev->head = it;
  ev->tail = it;
  ev->pending++;
  CS_DEBUG("publish %s", topic);
  ev_kick(ev);
}

size_t task_events_pending(const task_events *ev) { return ev->pending; }

static void ev_on_drain_timeout(uv_timer_t *t) {
  task_events *ev = t->data;
  if (!ev->drain_cb) return;
  CS_WARN("exiting with %zu events not delivered to containerd", ev->pending);
  void (*cb)(void *) = ev->drain_cb;
  ev->drain_cb = NULL;
  cb(ev->drain_data);
}

void task_events_drain(task_events *ev, uint64_t timeout_ms, void (*cb)(void *data), void *data) {
  ev->drain_cb = cb;
  ev->drain_data = data;
  if (!ev->head) {
    ev_drain_check(ev);
    return;
  }
  uv_timer_start(&ev->drain_timer, ev_on_drain_timeout, timeout_ms, 0);
  ev_kick(ev);
}

static void ev_free_cb(uv_handle_t *h) {
  task_events *ev = h->data;
  if (--ev->closing_handles == 0) free(ev);
}

void task_events_free(task_events *ev) {
  if (!ev) return;
  ev->closing = true;
  while (ev->head) {
    ev_item *it = ev->head;
    ev->head = it->next;
    free(it);
  }
  if (ev->client) ttrpc_client_close(ev->client);
  free(ev->address);
  free(ev->ns);
  ev->closing_handles = 2;
  uv_close((uv_handle_t *)&ev->retry, ev_free_cb);
  uv_close((uv_handle_t *)&ev->drain_timer, ev_free_cb);
}
