/* Calls waiting for their answer, keyed by stream id, each completed exactly once: by its reply, its
 * local deadline, a cancel, or the loss or close of the connection. */
#include "ttrpc_client_int.h"

#include <stdlib.h>

#define TAB_MIN 64

static size_t slot(const ttrpc_client *c, uint32_t id) { return (id >> 1) & (c->tab_size - 1); }

static int grow(ttrpc_client *c) {
  size_t n = c->tab_size ? c->tab_size * 2 : TAB_MIN;
  ttrpc_pending **t = calloc(n, sizeof *t);
  if (!t) return -1;
  ttrpc_pending **old = c->tab;
  size_t old_n = c->tab_size;
  c->tab = t;
  c->tab_size = n;
  for (size_t i = 0; i < old_n; i++) {
    for (ttrpc_pending *p = old[i], *next; p; p = next) {
      next = p->next;
      size_t s = slot(c, p->id);
      p->next = t[s];
      t[s] = p;
    }
  }
  free(old);
  return 0;
}

int ttrpc_pending_add(ttrpc_client *c, ttrpc_pending *p) {
  if (c->npending >= c->tab_size && grow(c) < 0 && !c->tab) return -1;
  size_t s = slot(c, p->id);
  p->next = c->tab[s];
  c->tab[s] = p;
  c->npending++;
  return 0;
}

ttrpc_pending *ttrpc_pending_find(const ttrpc_client *c, uint32_t id) {
  if (!c->tab) return NULL;
  for (ttrpc_pending *p = c->tab[slot(c, id)]; p; p = p->next)
    if (p->id == id) return p;
  return NULL;
}

static void unlink_pending(ttrpc_pending *p) {
  ttrpc_client *c = p->cl;
  for (ttrpc_pending **pp = &c->tab[slot(c, p->id)]; *pp; pp = &(*pp)->next) {
    if (*pp == p) {
      *pp = p->next;
      c->npending--;
      return;
    }
  }
}

static void free_after_timer(uv_handle_t *h) { free(h->data); }

void ttrpc_pending_complete(ttrpc_pending *p, int code, const char *msg, const uint8_t *payload, size_t len) {
  /* Out of the table before the callback runs: it may start calls or close the client. */
  unlink_pending(p);
  if (p->stream) p->on_msg(p->data, true, code, msg, payload, len);
  else p->reply(p->data, code, msg, payload, len);
  if (p->has_timer) {
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, free_after_timer);
  } else {
    free(p);
  }
}

void ttrpc_pending_fail_all(ttrpc_client *c, int code, const char *msg) {
  /* Callers have already made new calls impossible, so one pass empties the table. */
  for (size_t i = 0; i < c->tab_size; i++)
    while (c->tab[i]) ttrpc_pending_complete(c->tab[i], code, msg, NULL, 0);
}

void ttrpc_pending_free_table(ttrpc_client *c) {
  free(c->tab);
  c->tab = NULL;
  c->tab_size = 0;
}
