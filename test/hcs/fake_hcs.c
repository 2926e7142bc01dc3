#include "fake_hcs.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

enum { OBJ_SYSTEM = 1, OBJ_PROCESS = 2, OBJ_ENDPOINT = 3 };

typedef struct fake_obj {
  struct fake_obj *next;
  int kind;
  char id[128];
  struct fake_obj *system;
  int pid;
  bool closed, stopped, exited;
  int exit_code;
  hcs_event_callback cb;
  void *ctx;
} fake_obj;

typedef struct fake_op {
  struct fake_op *next;
  bool closed;
  hcs_operation_completion cb; /* HcsCreateOperation's: called from a thread of the fake's when the call is done */
  void *ctx;
  bool hung;                   /* a Statistics query held back (fake_hcs_hang_stats) */
  hcs_hresult hr;
  char *result;
  hcs_process_information pi;
} fake_op;

typedef struct fake_doc {
  struct fake_doc *next;
  char call[64];
  char *doc;
} fake_doc;

typedef struct fake_fail_t {
  struct fake_fail_t *next;
  char call[64];
  hcs_hresult hr;
  char msg[256];
  int skip;         /* calls of `call` that still succeed before this failure */
} fake_fail_t;

#define FAKE_MAX_THREADS 64

static struct {
  uv_mutex_t lock;
  bool ready;
  fake_obj *objs;
  fake_op *ops;
  fake_doc *docs;
  fake_fail_t *fails;
  char *log;
  size_t log_len;
  char *stats;
  int next_pid;
  bool exit_on_create;
  int exit_on_create_code;
  bool no_code;
  char hang_id[128];
  uv_thread_t threads[FAKE_MAX_THREADS];
  int n_threads;
} fk;

static void fk_log(const char *call, const char *arg) {
  size_t add = strlen(call) + (arg ? strlen(arg) : 0) + 3;
  fk.log = realloc(fk.log, fk.log_len + add);
  fk.log_len += (size_t)snprintf(fk.log + fk.log_len, add, "%s%s%s\n", call, arg ? " " : "", arg ? arg : "");
}

/* UTF-16 <-> UTF-8 with glibc's iconv, not the product's hcs_wstr.c: the fake must compute what it checks
 * independently, or a conversion bug in the product would cancel out here. hcs_wchar units are in host
 * byte order. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FK_UTF16 "UTF-16LE"
#else
#define FK_UTF16 "UTF-16BE"
#endif

static char *fk_iconv(const char *to, const char *from, const char *in, size_t in_len, size_t unit) {
  iconv_t cd = iconv_open(to, from);
  if (cd == (iconv_t)-1) abort();
  size_t cap = in_len * 2 + 8, left_in = in_len;
  char *out = malloc(cap), *inp = (char *)in;
  size_t done = 0;
  for (;;) {
    char *outp = out + done;
    size_t left_out = cap - done - unit; /* room for the terminator */
    size_t r = iconv(cd, &inp, &left_in, &outp, &left_out);
    done = (size_t)(outp - out);
    if (r != (size_t)-1) break;
    if (errno != E2BIG) { /* invalid input: the fake reports it loudly rather than guess */
      free(out);
      out = NULL;
      break;
    }
    cap *= 2;
    out = realloc(out, cap);
  }
  iconv_close(cd);
  if (out) memset(out + done, 0, unit);
  return out;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower case: the fake's own, like the conversions above. */
#define FK_GUID_LEN 37
static void fk_guid_format(const hcs_guid *g, char out[FK_GUID_LEN]) {
  snprintf(out, FK_GUID_LEN, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", (unsigned)g->Data1,
           (unsigned)g->Data2, (unsigned)g->Data3, g->Data4[0], g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4],
           g->Data4[5], g->Data4[6], g->Data4[7]);
}

static char *narrow(hcs_pcwstr w) {
  if (!w) return NULL;
  size_t n = 0;
  while (w[n]) n++;
  char *s = fk_iconv("UTF-8", FK_UTF16, (const char *)w, n * sizeof *w, 1);
  if (!s) {
    fprintf(stderr, "fake_hcs: a document from the product is not valid UTF-16\n");
    abort();
  }
  return s;
}

static bool fk_take_fail(const char *call, fake_fail_t *out);

/* Record a call and its document; returns the injected failure for it, if any (consumed). */
static bool fk_record(const char *call, const char *arg, hcs_pcwstr doc, fake_fail_t *out) {
  fk_log(call, arg);
  fake_doc *d = calloc(1, sizeof *d);
  snprintf(d->call, sizeof d->call, "%s", call);
  d->doc = narrow(doc);
  fake_doc **pp = &fk.docs;
  while (*pp) pp = &(*pp)->next;
  *pp = d;
  return fk_take_fail(call, out);
}

/* The failure injected for the next call of `call`, if any (consumed). */
static bool fk_take_fail(const char *call, fake_fail_t *out) {
  for (fake_fail_t **fp = &fk.fails; *fp; fp = &(*fp)->next)
    if (strcmp((*fp)->call, call) == 0) {
      if ((*fp)->skip > 0) {
        (*fp)->skip--;
        return false;
      }
      fake_fail_t *f = *fp;
      *fp = f->next;
      *out = *f;
      free(f);
      return true;
    }
  return false;
}

static void op_fail(fake_op *op, const fake_fail_t *f) {
  op->hr = f->hr;
  char buf[512];
  snprintf(buf, sizeof buf, "{\"Error\":%d,\"ErrorMessage\":\"%s\"}", (int)f->hr, f->msg);
  free(op->result);
  op->result = strdup(buf);
}

static fake_obj *obj_new(int kind, const char *id) {
  fake_obj *o = calloc(1, sizeof *o);
  o->kind = kind;
  snprintf(o->id, sizeof o->id, "%s", id ? id : "");
  o->next = fk.objs;
  fk.objs = o;
  return o;
}

/* ---------------------------------------------------------------- HCS */

static hcs_operation f_create_operation(const void *context, hcs_operation_completion cb) {
  uv_mutex_lock(&fk.lock);
  fake_op *op = calloc(1, sizeof *op);
  op->cb = cb;
  op->ctx = (void *)context;
  op->next = fk.ops;
  fk.ops = op;
  uv_mutex_unlock(&fk.lock);
  return (hcs_operation)op;
}

static void f_close_operation(hcs_operation o) {
  uv_mutex_lock(&fk.lock);
  ((fake_op *)o)->closed = true;
  uv_mutex_unlock(&fk.lock);
}

static hcs_pwstr widen(const char *s) {
  if (!s) return NULL;
  hcs_pwstr w = (hcs_pwstr)fk_iconv(FK_UTF16, "UTF-8", s, strlen(s), sizeof(hcs_wchar));
  if (!w) {
    fprintf(stderr, "fake_hcs: a document for the product is not valid UTF-8\n");
    abort();
  }
  return w;
}

static hcs_hresult f_wait(hcs_operation o, hcs_dword timeout, hcs_pwstr *doc) {
  uv_mutex_lock(&fk.lock);
  fake_op *op = (fake_op *)o;
  *doc = widen(op->result);
  hcs_hresult hr = op->hr;
  uv_mutex_unlock(&fk.lock);
  return hr;
}

static hcs_hresult f_get_result(hcs_operation o, hcs_pwstr *doc) { return f_wait(o, 0, doc); }

static hcs_hresult f_wait_pi(hcs_operation o, hcs_dword timeout, hcs_process_information *pi, hcs_pwstr *doc) {
  uv_mutex_lock(&fk.lock);
  *pi = ((fake_op *)o)->pi;
  uv_mutex_unlock(&fk.lock);
  return f_wait(o, timeout, doc);
}

static hcs_hresult f_create_system(hcs_pcwstr id, hcs_pcwstr cfg, hcs_operation o, const hcs_security_descriptor *sd,
                                   hcs_system *out) {
  uv_mutex_lock(&fk.lock);
  char *sid = narrow(id);
  fake_fail_t f;
  bool fail = fk_record("HcsCreateComputeSystem", sid, cfg, &f);
  for (fake_obj *x = fk.objs; x && !fail; x = x->next)
    if (x->kind == OBJ_SYSTEM && !x->closed && strcmp(x->id, sid) == 0) {
      fail = true;
      f.hr = (hcs_hresult)0x8037010F;
      snprintf(f.msg, sizeof f.msg, "A compute system with the same id already exists");
    }
  *out = (hcs_system)obj_new(OBJ_SYSTEM, sid);
  if (fail) op_fail((fake_op *)o, &f);
  free(sid);
  uv_mutex_unlock(&fk.lock);
  return 0;
}

static void f_close_system(hcs_system s) {
  uv_mutex_lock(&fk.lock);
  fk_log("HcsCloseComputeSystem", ((fake_obj *)s)->id);
  ((fake_obj *)s)->closed = true;
  uv_mutex_unlock(&fk.lock);
}

typedef struct fire_arg {
  fake_obj *obj;
  int type;
  char data[128];
} fire_arg;

static void fire_thread(void *arg) {
  fire_arg *a = arg;
  uv_mutex_lock(&fk.lock);
  /* Held across the callback: Close waits for it, as HCS guarantees no callback after Close returns. */
  if (!a->obj->closed && a->obj->cb) {
    hcs_pwstr w = a->data[0] ? widen(a->data) : NULL;
    hcs_event ev = {.Type = a->type, .EventData = w, .Operation = NULL};
    a->obj->cb(&ev, a->obj->ctx);
    free(w);
  }
  uv_mutex_unlock(&fk.lock);
  free(a);
}

/* Caller holds the lock. */
static void fire_locked(fake_obj *o, int type, const char *data) {
  fire_arg *a = calloc(1, sizeof *a);
  a->obj = o;
  a->type = type;
  snprintf(a->data, sizeof a->data, "%s", data ? data : "");
  if (fk.n_threads < FAKE_MAX_THREADS) uv_thread_create(&fk.threads[fk.n_threads++], fire_thread, a);
  else free(a);
}

static void process_exit_locked(fake_obj *p, int code) {
  if (p->exited) return;
  p->exited = true;
  p->exit_code = code;
  char data[96] = "";
  if (!fk.no_code) snprintf(data, sizeof data, "{\"ProcessId\":%d,\"Exited\":true,\"ExitCode\":%d}", p->pid, code);
  fire_locked(p, HCS_EVENT_PROCESS_EXITED, data);
}

static hcs_hresult system_op(const char *call, hcs_system s, hcs_operation o, hcs_pcwstr options) {
  uv_mutex_lock(&fk.lock);
  fake_obj *sys = (fake_obj *)s;
  fake_fail_t f;
  if (fk_record(call, sys->id, options, &f)) {
    op_fail((fake_op *)o, &f);
  } else if (strcmp(call, "HcsTerminateComputeSystem") == 0) {
    if (sys->stopped) {
      fake_fail_t st = {.hr = (hcs_hresult)0xC0370110};
      snprintf(st.msg, sizeof st.msg, "already stopped");
      op_fail((fake_op *)o, &st);
    } else {
      sys->stopped = true;
      /* Its processes die silently; the system exit tells the backend to ask each of them. */
      for (fake_obj *p = fk.objs; p; p = p->next)
        if (p->kind == OBJ_PROCESS && p->system == sys && !p->exited) {
          p->exited = true;
          p->exit_code = 1;
        }
      fire_locked(sys, HCS_EVENT_SYSTEM_EXITED, NULL);
    }
  }
  uv_mutex_unlock(&fk.lock);
  return 0;
}

static hcs_hresult f_start(hcs_system s, hcs_operation o, hcs_pcwstr opt) { return system_op("HcsStartComputeSystem", s, o, opt); }
static hcs_hresult f_shutdown(hcs_system s, hcs_operation o, hcs_pcwstr opt) { return system_op("HcsShutDownComputeSystem", s, o, opt); }
static hcs_hresult f_terminate(hcs_system s, hcs_operation o, hcs_pcwstr opt) { return system_op("HcsTerminateComputeSystem", s, o, opt); }
static hcs_hresult f_pause(hcs_system s, hcs_operation o, hcs_pcwstr opt) { return system_op("HcsPauseComputeSystem", s, o, opt); }
static hcs_hresult f_resume(hcs_system s, hcs_operation o, hcs_pcwstr opt) { return system_op("HcsResumeComputeSystem", s, o, opt); }

/* HCS calls a completion on its own thread, never inside the call that started the operation; the lock is not
 * held (the callback may close the operation). */
static void complete_thread(void *arg) {
  fake_op *op = arg;
  op->cb((hcs_operation)op, op->ctx);
}

static void complete_locked(fake_op *op) {
  if (op->cb && fk.n_threads < FAKE_MAX_THREADS) uv_thread_create(&fk.threads[fk.n_threads++], complete_thread, op);
}

static hcs_hresult f_properties(hcs_system s, hcs_operation o, hcs_pcwstr query) {
  uv_mutex_lock(&fk.lock);
  fake_fail_t f;
  char *q = narrow(query);
  if (fk_record("HcsGetComputeSystemProperties", ((fake_obj *)s)->id, query, &f)) {
    op_fail((fake_op *)o, &f);
  } else if (q && strstr(q, "ProcessList")) {
    /* HCS's ProcessList (schema2 ProcessDetails): the system's processes that have not exited. */
    char buf[2048];
    size_t n = (size_t)snprintf(buf, sizeof buf, "{\"ProcessList\":[");
    bool first = true;
    for (fake_obj *p = fk.objs; p && n < sizeof buf - 64; p = p->next)
      if (p->kind == OBJ_PROCESS && p->system == (fake_obj *)s && !p->exited) {
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s{\"ProcessId\":%d,\"ImageName\":\"cmd.exe\"}",
                              first ? "" : ",", p->pid);
        first = false;
      }
    snprintf(buf + n, sizeof buf - n, "]}");
    ((fake_op *)o)->result = strdup(buf);
  } else {
    ((fake_op *)o)->result = fk.stats ? strdup(fk.stats) : NULL;
  }
  if (q && strstr(q, "Statistics") && fk.hang_id[0] && strcmp(fk.hang_id, ((fake_obj *)s)->id) == 0)
    ((fake_op *)o)->hung = true; /* completed by fake_hcs_release_hung, or never */
  else
    complete_locked((fake_op *)o);
  free(q);
  uv_mutex_unlock(&fk.lock);
  return 0;
}

void fake_hcs_hang_stats(const char *id) {
  uv_mutex_lock(&fk.lock);
  snprintf(fk.hang_id, sizeof fk.hang_id, "%s", id ? id : "");
  uv_mutex_unlock(&fk.lock);
}

int fake_hcs_release_hung(void) {
  int n = 0;
  uv_mutex_lock(&fk.lock);
  fk.hang_id[0] = '\0';
  for (fake_op *op = fk.ops; op; op = op->next)
    if (op->hung && !op->closed) {
      op->hung = false;
      complete_locked(op);
      n++;
    }
  uv_mutex_unlock(&fk.lock);
  return n;
}

static hcs_hresult f_modify(hcs_system s, hcs_operation o, hcs_pcwstr cfg, hcs_handle identity) {
  uv_mutex_lock(&fk.lock);
  fake_fail_t f;
  if (fk_record("HcsModifyComputeSystem", ((fake_obj *)s)->id, cfg, &f)) op_fail((fake_op *)o, &f);
  uv_mutex_unlock(&fk.lock);
  return 0;
}

static hcs_hresult f_set_system_cb(hcs_system s, hcs_event_options opt, const void *ctx, hcs_event_callback cb) {
  uv_mutex_lock(&fk.lock);
  fake_obj *o = (fake_obj *)s;
  fk_log("HcsSetComputeSystemCallback", o->id);
  fake_fail_t f;
  if (fk_take_fail("HcsSetComputeSystemCallback", &f)) {
    uv_mutex_unlock(&fk.lock);
    return f.hr;
  }
  o->cb = cb;
  o->ctx = (void *)ctx;
  uv_mutex_unlock(&fk.lock);
  return 0;
}

static hcs_hresult f_create_process(hcs_system s, hcs_pcwstr params, hcs_operation o, const hcs_security_descriptor *sd,
                                    hcs_process *out) {
  uv_mutex_lock(&fk.lock);
  fake_obj *sys = (fake_obj *)s;
  fake_fail_t f;
  bool fail = fk_record("HcsCreateProcess", sys->id, params, &f);
  fake_obj *p = obj_new(OBJ_PROCESS, sys->id);
  p->system = sys;
  p->pid = fk.next_pid++;
  *out = (hcs_process)p;
  fake_op *op = (fake_op *)o;
  if (fail) {
    op_fail(op, &f);
  } else {
    op->pi.ProcessId = (uint32_t)p->pid;
    op->pi.StdInput = (hcs_handle)(uintptr_t)0x10;
    op->pi.StdOutput = (hcs_handle)(uintptr_t)0x11;
    op->pi.StdError = NULL;
    if (fk.exit_on_create) {
      fk.exit_on_create = false;
      p->exited = true; /* before any callback exists: no event will ever say so */
      p->exit_code = fk.exit_on_create_code;
    }
  }
  uv_mutex_unlock(&fk.lock);
  return 0;
}

static void f_close_process(hcs_process p) {
  uv_mutex_lock(&fk.lock);
  ((fake_obj *)p)->closed = true;
  fk_log("HcsCloseProcess", NULL);
  uv_mutex_unlock(&fk.lock);
}

static hcs_hresult process_op(const char *call, hcs_process h, hcs_operation o, hcs_pcwstr doc) {
  uv_mutex_lock(&fk.lock);
  fake_obj *p = (fake_obj *)h;
  char pid[16];
  snprintf(pid, sizeof pid, "%d", p->pid);
  fake_fail_t f;
  fake_op *op = (fake_op *)o;
  if (fk_record(call, pid, doc, &f)) {
    op_fail(op, &f);
  } else if (strcmp(call, "HcsGetProcessProperties") == 0) {
    char buf[128];
    snprintf(buf, sizeof buf, "{\"ProcessId\":%d,\"Exited\":%s,\"ExitCode\":%d}", p->pid, p->exited ? "true" : "false",
             p->exited ? p->exit_code : 0);
    op->result = strdup(buf);
  } else if (strcmp(call, "HcsTerminateProcess") == 0 || strcmp(call, "HcsSignalProcess") == 0) {
    if (p->exited) {
      fake_fail_t st = {.hr = (hcs_hresult)0x8037011F};
      snprintf(st.msg, sizeof st.msg, "The process has already exited");
      op_fail(op, &st);
    } else {
      process_exit_locked(p, strcmp(call, "HcsTerminateProcess") == 0 ? 1 : 0xC000013A);
    }
  }
  uv_mutex_unlock(&fk.lock);
  return 0;
}

static hcs_hresult f_terminate_process(hcs_process p, hcs_operation o, hcs_pcwstr d) { return process_op("HcsTerminateProcess", p, o, d); }
static hcs_hresult f_signal_process(hcs_process p, hcs_operation o, hcs_pcwstr d) { return process_op("HcsSignalProcess", p, o, d); }
static hcs_hresult f_process_props(hcs_process p, hcs_operation o, hcs_pcwstr d) { return process_op("HcsGetProcessProperties", p, o, d); }
static hcs_hresult f_modify_process(hcs_process p, hcs_operation o, hcs_pcwstr d) { return process_op("HcsModifyProcess", p, o, d); }
static hcs_hresult f_process_info(hcs_process p, hcs_operation o) { return process_op("HcsGetProcessInfo", p, o, NULL); }

static hcs_hresult f_set_process_cb(hcs_process h, hcs_event_options opt, void *ctx, hcs_event_callback cb) {
  uv_mutex_lock(&fk.lock);
  fake_obj *p = (fake_obj *)h;
  fk_log("HcsSetProcessCallback", NULL);
  fake_fail_t f;
  if (fk_take_fail("HcsSetProcessCallback", &f)) {
    uv_mutex_unlock(&fk.lock);
    return f.hr;
  }
  p->cb = cb;
  p->ctx = ctx;
  uv_mutex_unlock(&fk.lock);
  return 0;
}

/* A stand-in for vmcompute's NameToGuid: deterministic, distinct per name. */
static hcs_hresult f_name_to_guid(hcs_pcwstr name, hcs_guid *g) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; name[i]; i++) h = (h ^ (uint16_t)name[i]) * 16777619u;
  memset(g, 0, sizeof *g);
  g->Data1 = h;
  g->Data2 = 0x1234;
  g->Data3 = 0x5678;
  g->Data4[7] = 0x9a;
  return 0;
}

static void f_free_document(hcs_pwstr d) { free(d); }

/* ---------------------------------------------------------------- vmcompute layers */

/* Layers are keyed "HomeDir\\id"; a layer is activated, then prepared (the volume exists). Arguments are
 * checked as Windows does: the filter driver flavour, a home folder, an id, and the order of the steps. */
typedef struct fake_layer {
  struct fake_layer *next;
  char key[512];
  bool prepared;
  unsigned n_parents;
} fake_layer;
static fake_layer *fk_layers;

#define FK_E_INVALIDARG ((hcs_hresult)0x80070057)
#define FK_E_NOT_FOUND ((hcs_hresult)0x80070490)

static hcs_hresult layer_call(const char *call, const hcs_driver_info *info, hcs_pcwstr id, fake_layer **out) {
  char *home = info ? narrow(info->HomeDir) : NULL, *name = narrow(id);
  char key[512];
  snprintf(key, sizeof key, "%s\\%s", home ? home : "", name ? name : "");
  uv_mutex_lock(&fk.lock);
  fake_fail_t f;
  bool failed = fk_record(call, key, NULL, &f);
  uv_mutex_unlock(&fk.lock);
  hcs_hresult hr = 0;
  if (!info || info->Flavour != HCS_DRIVER_FLAVOUR_FILTER || !home || !*home || !name || !*name) hr = FK_E_INVALIDARG;
  else if (failed) hr = f.hr;
  free(home);
  free(name);
  *out = NULL;
  for (fake_layer *l = fk_layers; l && !hr; l = l->next)
    if (strcmp(l->key, key) == 0) *out = l;
  if (!hr && !*out && strcmp(call, "ActivateLayer") == 0) {
    *out = calloc(1, sizeof **out);
    snprintf((*out)->key, sizeof (*out)->key, "%s", key);
    (*out)->next = fk_layers;
    fk_layers = *out;
  } else if (!hr && !*out) {
    hr = FK_E_NOT_FOUND; /* never activated */
  }
  return hr;
}

static hcs_hresult f_activate_layer(const hcs_driver_info *info, hcs_pcwstr id) {
  fake_layer *l;
  return layer_call("ActivateLayer", info, id, &l);
}

static hcs_hresult f_prepare_layer(const hcs_driver_info *info, hcs_pcwstr id, const hcs_layer_descriptor *d,
                                   hcs_dword n) {
  fake_layer *l;
  hcs_hresult hr = layer_call("PrepareLayer", info, id, &l);
  for (hcs_dword i = 0; !hr && i < n; i++)
    if (!d || !d[i].Pathp || !d[i].Pathp[0] || d[i].Flags != 0) hr = FK_E_INVALIDARG;
  if (!hr) {
    l->prepared = true;
    l->n_parents = n;
  }
  return hr;
}

static hcs_hresult f_layer_mount_path(const hcs_driver_info *info, hcs_pcwstr id, size_t *len, hcs_wchar *buf) {
  fake_layer *l;
  hcs_hresult hr = layer_call("GetLayerMountPath", info, id, &l);
  if (!hr && !l->prepared) hr = FK_E_NOT_FOUND;
  if (hr) return hr;
  if (!len) return FK_E_INVALIDARG;
  uint32_t h = 2166136261u;
  for (const char *p = l->key; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
  char path[64];
  /* Without the trailing backslash, as Windows answers (containerd's mount_windows.go adds it). */
  snprintf(path, sizeof path, "\\\\?\\Volume{%08x-0000-0000-0000-000000000001}", (unsigned)h);
  size_t need = strlen(path) + 1;
  if (!buf) {
    *len = need;
    return 0;
  }
  if (*len < need) return (hcs_hresult)0x8007007A; /* ERROR_INSUFFICIENT_BUFFER */
  for (size_t i = 0; i < need; i++) buf[i] = (hcs_wchar)(unsigned char)path[i];
  return 0;
}

static hcs_hresult f_unprepare_layer(const hcs_driver_info *info, hcs_pcwstr id) {
  fake_layer *l;
  hcs_hresult hr = layer_call("UnprepareLayer", info, id, &l);
  if (!hr && !l->prepared) hr = FK_E_NOT_FOUND;
  if (!hr) l->prepared = false;
  return hr;
}

static hcs_hresult f_deactivate_layer(const hcs_driver_info *info, hcs_pcwstr id) {
  fake_layer *l;
  hcs_hresult hr = layer_call("DeactivateLayer", info, id, &l);
  if (hr) return hr;
  for (fake_layer **pp = &fk_layers; *pp; pp = &(*pp)->next)
    if (*pp == l) {
      *pp = l->next;
      free(l);
      break;
    }
  return 0;
}

int fake_hcs_active_layers(void) {
  int n = 0;
  for (fake_layer *l = fk_layers; l; l = l->next) n++;
  return n;
}

/* ---------------------------------------------------------------- HNS */

static hcs_hresult n_open(const hcs_guid *id, net_hcn_endpoint *ep, hcs_pwstr *rec) {
  uv_mutex_lock(&fk.lock);
  char s[FK_GUID_LEN];
  fk_guid_format(id, s);
  fake_fail_t f;
  *rec = NULL;
  *ep = NULL;
  if (fk_record("HcnOpenEndpoint", s, NULL, &f)) {
    uv_mutex_unlock(&fk.lock);
    return f.hr;
  }
  *ep = (net_hcn_endpoint)obj_new(OBJ_ENDPOINT, s);
  uv_mutex_unlock(&fk.lock);
  return 0;
}

static hcs_hresult n_query(net_hcn_endpoint ep, hcs_pcwstr q, hcs_pwstr *props, hcs_pwstr *rec) {
  uv_mutex_lock(&fk.lock);
  fake_obj *o = (fake_obj *)ep;
  fk_log("HcnQueryEndpointProperties", o->id);
  char buf[256];
  snprintf(buf, sizeof buf, "{\"ID\":\"%s\",\"Name\":\"ep-%.8s\",\"MacAddress\":\"00-15-5D-%.2s-%.2s-01\"}", o->id, o->id,
           o->id, o->id + 2);
  *props = widen(buf);
  *rec = NULL;
  uv_mutex_unlock(&fk.lock);
  return 0;
}

static hcs_hresult n_close(net_hcn_endpoint ep) {
  uv_mutex_lock(&fk.lock);
  ((fake_obj *)ep)->closed = true;
  uv_mutex_unlock(&fk.lock);
  return 0;
}

/* HNS v1 namespaces: how many exist and how many endpoints are in them, so a test sees nothing is left.
 * Failures are injected as "HNSNamespace POST", "HNSNamespace addresource", "HNSNamespace removeresource",
 * "HNSNamespace DELETE": they answer {"Success":false} as HNS does. */
static int fk_ns, fk_ns_eps, fk_ns_next;

static char *ns_call(const char *m, const char *p, const char *req) {
  char call[64], buf[400];
  const char *verb = strstr(p, "/addresource") ? "addresource" : strstr(p, "/removeresource") ? "removeresource" : m;
  snprintf(call, sizeof call, "HNSNamespace %s", verb);
  char arg[512];
  snprintf(arg, sizeof arg, "%s %s %s", m, p, req ? req : "");
  fake_fail_t f;
  if (fk_record(call, arg, NULL, &f)) {
    snprintf(buf, sizeof buf, "{\"Success\":false,\"Error\":\"%s\"}", f.msg);
    return strdup(buf);
  }
  if (strcmp(verb, "POST") == 0) {
    fk_ns++;
    snprintf(buf, sizeof buf, "{\"Success\":true,\"Output\":{\"ID\":\"00000000-0000-4000-8000-%012d\"}}", ++fk_ns_next);
  } else {
    if (strcmp(verb, "addresource") == 0) fk_ns_eps++;
    else if (strcmp(verb, "removeresource") == 0) fk_ns_eps--;
    else if (strcmp(verb, "DELETE") == 0) fk_ns--;
    snprintf(buf, sizeof buf, "{\"Success\":true,\"Output\":{}}");
  }
  return strdup(buf);
}

int fake_hcs_namespaces(void) { return fk_ns; }
int fake_hcs_namespace_endpoints(void) { return fk_ns_eps; }

/* Counters derived from the first hex digit of the id, so each endpoint's figures are recognisable. */
static hcs_hresult n_hns_call(hcs_pcwstr method, hcs_pcwstr path, hcs_pcwstr req, hcs_pwstr *resp) {
  uv_mutex_lock(&fk.lock);
  char *m = narrow(method), *p = narrow(path);
  if (strncmp(p, "/namespaces", 11) == 0) {
    char *r = narrow(req), *out = ns_call(m, p, r);
    *resp = widen(out);
    free(out);
    free(r);
    free(m);
    free(p);
    uv_mutex_unlock(&fk.lock);
    return 0;
  }
  fk_log("HNSCall", p);
  fake_fail_t f;
  if (fk_take_fail("HNSCall", &f)) {
    free(m);
    free(p);
    *resp = NULL;
    uv_mutex_unlock(&fk.lock);
    return f.hr;
  }
  const char *id = strrchr(p, '/') ? strrchr(p, '/') + 1 : "";
  unsigned k = (unsigned)strtoul((char[]){id[0], 0}, NULL, 16) + 1;
  char buf[512];
  snprintf(buf, sizeof buf,
           "{\"Success\":true,\"Output\":{\"BytesReceived\":%u,\"BytesSent\":%u,\"PacketsReceived\":%u,"
           "\"PacketsSent\":%u,\"DroppedPacketsIncoming\":%u,\"DroppedPacketsOutgoing\":%u,\"EndpointId\":\"%s\"}}",
           k * 1000, k * 2000, k * 10, k * 20, k, k * 2, id);
  *resp = widen(buf);
  free(m);
  free(p);
  uv_mutex_unlock(&fk.lock);
  return 0;
}

/* ---------------------------------------------------------------- control */

void fake_hcs_init(hcs_api *api, net_hns_api *hns) {
  if (!fk.ready) {
    uv_mutex_init(&fk.lock);
    fk.ready = true;
  }
  fk.next_pid = 1000;
  memset(api, 0, sizeof *api);
  api->HcsCreateOperation = f_create_operation;
  api->HcsCloseOperation = f_close_operation;
  api->HcsWaitForOperationResult = f_wait;
  api->HcsWaitForOperationResultAndProcessInfo = f_wait_pi;
  api->HcsGetOperationResult = f_get_result;
  api->HcsCreateComputeSystem = f_create_system;
  api->HcsCloseComputeSystem = f_close_system;
  api->HcsStartComputeSystem = f_start;
  api->HcsShutDownComputeSystem = f_shutdown;
  api->HcsTerminateComputeSystem = f_terminate;
  api->HcsPauseComputeSystem = f_pause;
  api->HcsResumeComputeSystem = f_resume;
  api->HcsGetComputeSystemProperties = f_properties;
  api->HcsModifyComputeSystem = f_modify;
  api->HcsSetComputeSystemCallback = f_set_system_cb;
  api->HcsCreateProcess = f_create_process;
  api->HcsCloseProcess = f_close_process;
  api->HcsTerminateProcess = f_terminate_process;
  api->HcsSignalProcess = f_signal_process;
  api->HcsGetProcessInfo = f_process_info;
  api->HcsGetProcessProperties = f_process_props;
  api->HcsModifyProcess = f_modify_process;
  api->HcsSetProcessCallback = f_set_process_cb;
  api->NameToGuid = f_name_to_guid;
  api->ActivateLayer = f_activate_layer;
  api->PrepareLayer = f_prepare_layer;
  api->GetLayerMountPath = f_layer_mount_path;
  api->UnprepareLayer = f_unprepare_layer;
  api->DeactivateLayer = f_deactivate_layer;
  api->free_document = f_free_document;
  if (hns) {
    memset(hns, 0, sizeof *hns);
    hns->HcnOpenEndpoint = n_open;
    hns->HcnQueryEndpointProperties = n_query;
    hns->HcnCloseEndpoint = n_close;
    hns->HNSCall = n_hns_call;
    hns->free_string = f_free_document;
  }
}

void fake_hcs_join(void) {
  /* Pop and join from the end; threads started meanwhile are appended and joined in turn. */
  for (;;) {
    uv_mutex_lock(&fk.lock);
    if (fk.n_threads == 0) {
      uv_mutex_unlock(&fk.lock);
      return;
    }
    uv_thread_t t = fk.threads[--fk.n_threads];
    uv_mutex_unlock(&fk.lock);
    uv_thread_join(&t);
  }
}

void fake_hcs_reset(void) {
  fake_hcs_join();
  while (fk.objs) { fake_obj *n = fk.objs->next; free(fk.objs); fk.objs = n; }
  while (fk.ops) { fake_op *n = fk.ops->next; free(fk.ops->result); free(fk.ops); fk.ops = n; }
  while (fk.docs) { fake_doc *n = fk.docs->next; free(fk.docs->doc); free(fk.docs); fk.docs = n; }
  while (fk.fails) { fake_fail_t *n = fk.fails->next; free(fk.fails); fk.fails = n; }
  while (fk_layers) { fake_layer *n = fk_layers->next; free(fk_layers); fk_layers = n; }
  free(fk.log);
  free(fk.stats);
  fk.log = NULL;
  fk.log_len = 0;
  fk.stats = NULL;
  fk.exit_on_create = false;
  fk.no_code = false;
  fk_ns = fk_ns_eps = fk_ns_next = 0;
  fk.hang_id[0] = '\0';
}

void fake_hcs_fail(const char *call, hcs_hresult hr, const char *msg) { fake_hcs_fail_after(call, 0, hr, msg); }

void fake_hcs_fail_after(const char *call, int skip, hcs_hresult hr, const char *msg) {
  fake_fail_t *f = calloc(1, sizeof *f);
  f->skip = skip;
  snprintf(f->call, sizeof f->call, "%s", call);
  f->hr = hr;
  snprintf(f->msg, sizeof f->msg, "%s", msg ? msg : "");
  uv_mutex_lock(&fk.lock);
  f->next = fk.fails;
  fk.fails = f;
  uv_mutex_unlock(&fk.lock);
}

void fake_hcs_exit_on_create(int code) {
  fk.exit_on_create = true;
  fk.exit_on_create_code = code;
}

void fake_hcs_events_without_code(bool on) { fk.no_code = on; }

void fake_hcs_set_stats(const char *json) {
  free(fk.stats);
  fk.stats = strdup(json);
}

int fake_hcs_count(const char *call) {
  int n = 0;
  uv_mutex_lock(&fk.lock);
  for (fake_doc *d = fk.docs; d; d = d->next) n += strcmp(d->call, call) == 0;
  uv_mutex_unlock(&fk.lock);
  return n;
}

const char *fake_hcs_doc(const char *call, int nth) {
  const char *r = NULL;
  uv_mutex_lock(&fk.lock);
  for (fake_doc *d = fk.docs; d; d = d->next)
    if (strcmp(d->call, call) == 0 && nth-- == 0) {
      r = d->doc;
      break;
    }
  uv_mutex_unlock(&fk.lock);
  return r;
}

const char *fake_hcs_log(void) { return fk.log ? fk.log : ""; }

int fake_hcs_open_handles(void) {
  int n = 0;
  uv_mutex_lock(&fk.lock);
  for (fake_obj *o = fk.objs; o; o = o->next) n += !o->closed;
  for (fake_op *o = fk.ops; o; o = o->next) n += !o->closed;
  uv_mutex_unlock(&fk.lock);
  return n;
}


void fake_hcs_fire_process_exit(int pid, int code) {
  uv_mutex_lock(&fk.lock);
  for (fake_obj *o = fk.objs; o; o = o->next)
    if (o->kind == OBJ_PROCESS && o->pid == pid) process_exit_locked(o, code);
  uv_mutex_unlock(&fk.lock);
}

void fake_hcs_fire_system_exit(const char *id) {
  uv_mutex_lock(&fk.lock);
  for (fake_obj *o = fk.objs; o; o = o->next)
    if (o->kind == OBJ_SYSTEM && strcmp(o->id, id) == 0 && !o->closed) {
      o->stopped = true;
      for (fake_obj *p = fk.objs; p; p = p->next)
        if (p->kind == OBJ_PROCESS && p->system == o && !p->exited) {
          p->exited = true;
          p->exit_code = 3;
        }
      fire_locked(o, HCS_EVENT_SYSTEM_EXITED, NULL);
    }
  uv_mutex_unlock(&fk.lock);
}
