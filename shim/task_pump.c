#include "task_pump.h"

#include <stddef.h>
#include <stdlib.h>

#include "cs_log.h"

#define PUMP_BUF 32768
/* Stop reading while this much is queued towards a slow reader: bounded memory per stream. */
#define PUMP_HIGH_WATER (256 * 1024)

typedef struct pump_write {
  uv_write_t req;
  task_pump *pump;
  size_t len;
  char data[];
} pump_write;

static void pump_handle_closed(uv_handle_t *h) {
  task_pump *p = h->data;
  if (--p->handles == 0 && p->released) free(p);
}

static void pump_close_src(task_pump *p) {
  if (!p->src_open) return;
  p->src_open = false;
  p->reading = false;
  uv_close((uv_handle_t *)&p->src, pump_handle_closed);
}

static void pump_close_dst(task_pump *p) {
  if (!p->dst_open) return;
  p->dst_open = false;
  uv_close((uv_handle_t *)&p->dst, pump_handle_closed);
}

static void pump_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h;
  (void)hint;
  pump_write *w = malloc(sizeof *w + PUMP_BUF);
  buf->base = w ? w->data : NULL;
  buf->len = w ? PUMP_BUF : 0;
}

static void pump_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void pump_resume(task_pump *p) {
  if (p->src_open && !p->reading && p->queued < PUMP_HIGH_WATER / 2 &&
      uv_read_start((uv_stream_t *)&p->src, pump_alloc, pump_read) == 0)
    p->reading = true;
}

static void pump_written(uv_write_t *req, int status) {
  pump_write *w = (pump_write *)req;
  task_pump *p = w->pump;
  p->queued -= w->len;
  free(w);
  if (status < 0) {
    /* The reader went away (EPIPE): keep draining the source so the process never blocks on us. */
    CS_DEBUG("stdio pump write: %s", uv_strerror(status));
    pump_close_dst(p);
  }
  /* The source ended while writes were queued: the last one done, the process may see EOF. */
  if (!p->src_open && p->close_dst_on_eof && p->queued == 0) pump_close_dst(p);
  if (!p->released) pump_resume(p);
}

void task_pump_finish(task_pump *p) {
  if (!p) return;
  pump_close_src(p);
  /* Closing dst now would cancel the writes still queued (up to PUMP_HIGH_WATER of stdin, lost): the
   * process gets EOF once the last of them is done (pump_written). */
  if (p->close_dst_on_eof && p->queued == 0) pump_close_dst(p);
}

static void pump_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  task_pump *p = s->data;
  pump_write *w = buf->base ? (pump_write *)(buf->base - offsetof(pump_write, data)) : NULL;
  if (n <= 0) {
    free(w);
    /* UV_EOF on a FIFO or pipe, UV_EIO on a pty master whose slave closed: both mean the stream ended. */
    if (n < 0) task_pump_finish(p);
    return;
  }
  if (!p->dst_open) {
    free(w);
    return;
  }
  w->pump = p;
  w->len = (size_t)n;
  uv_buf_t out = uv_buf_init(w->data, (unsigned)n);
  if (uv_write(&w->req, (uv_stream_t *)&p->dst, &out, 1, pump_written) < 0) {
    free(w);
    pump_close_dst(p);
    return;
  }
  p->queued += (size_t)n;
  if (p->queued >= PUMP_HIGH_WATER) {
    uv_read_stop(s);
    p->reading = false;
  }
}

task_pump *task_pump_new(uv_loop_t *loop, bool close_dst_on_eof) {
  task_pump *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->close_dst_on_eof = close_dst_on_eof;
  uv_pipe_init(loop, &p->src, 0);
  uv_pipe_init(loop, &p->dst, 0);
  p->src.data = p->dst.data = p;
  p->src_open = p->dst_open = true;
  p->handles = 2;
  return p;
}

int task_pump_start(task_pump *p) {
  if (!p->src_open || p->reading) return 0;
  int rc = uv_read_start((uv_stream_t *)&p->src, pump_alloc, pump_read);
  if (rc == 0) p->reading = true;
  return rc;
}

void task_pump_drop_dst(task_pump *p) {
  if (!p) return;
  pump_close_dst(p);
  if (!p->reading) task_pump_start(p);
}

void task_pump_stop(task_pump *p) {
  if (!p) return;
  p->released = true;
  if (p->handles == 0) {
    free(p);
    return;
  }
  pump_close_src(p);
  pump_close_dst(p);
}
