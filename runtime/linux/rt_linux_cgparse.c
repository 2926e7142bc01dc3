#include "rt_linux_cgparse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t') p++;
  return p;
}

static const char *next_line(const char *p) {
  const char *nl = strchr(p, '\n');
  return nl ? nl + 1 : p + strlen(p);
}

/* Decimal digits at p (strtoull's result without its locale and errno work: a sample parses ~60 numbers).
 * False if no digit or the value overflows 64 bits. */
static bool parse_num(const char *p, uint64_t *v, const char **end) {
  if (*p < '0' || *p > '9') return false;
  uint64_t x = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    unsigned d = (unsigned)(*p - '0');
    if (x > (UINT64_MAX - d) / 10) return false;
    x = x * 10 + d;
  }
  *v = x;
  if (end) *end = p;
  return true;
}

size_t rt_linux_cg_parse_kv(const char *buf, const rt_linux_kv *tbl, size_t n) {
  size_t set = 0, at = 0;
  for (const char *p = buf; *p && set < n; p = next_line(p)) {
    p = skip_ws(p);
    size_t klen = strcspn(p, " \t\n");
    if (klen == 0) continue;
    /* The kernel prints keys in a fixed order and tables list them in that order, so the search starts
     * after the last key found: one comparison per line instead of one per table entry. */
    for (size_t j = 0; j < n; j++) {
      size_t i = at + j < n ? at + j : at + j - n;
      const char *key = tbl[i].key;
      if (key[0] != p[0] || strncmp(key, p, klen) != 0 || key[klen] != '\0') continue;
      uint64_t x;
      if (parse_num(skip_ws(p + klen), &x, NULL)) {
        *tbl[i].val = x;
        set++;
      }
      at = i + 1 < n ? i + 1 : 0;
      break;
    }
  }
  return set;
}

int rt_linux_cg_parse_u64(const char *buf, uint64_t max_value, uint64_t *out) {
  const char *p = buf;
  while (isspace((unsigned char)*p)) p++;
  if (!strncmp(p, "max", 3)) {
    *out = max_value;
    return 0;
  }
  return parse_num(p, out, NULL) ? 0 : -1;
}

int rt_linux_cg_parse_cpu_usage(int version, const char *buf, uint64_t *ns) {
  if (version != 2) return rt_linux_cg_parse_u64(buf, 0, ns);
  /* Parsed straight into *ns and scaled only once found: no local that the compiler would have to prove
   * written from the count the table parser returns. */
  const rt_linux_kv kv[] = {{"usage_usec", ns}};
  if (rt_linux_cg_parse_kv(buf, kv, 1) != 1) return -1;
  *ns *= 1000;
  return 0;
}

uint32_t rt_linux_cg_parse_list(const char *buf, uint64_t *out, uint32_t max) {
  uint32_t n = 0;
  const char *p = buf;
  while (n < max) {
    while (isspace((unsigned char)*p)) p++;
    uint64_t v;
    const char *e;
    if (!parse_num(p, &v, &e)) break;
    out[n++] = v;
    p = e;
  }
  return n;
}

static bool parse_dev(const char *p, uint64_t *maj, uint64_t *min, const char **end) {
  const char *e;
  if (!parse_num(p, maj, &e) || *e != ':') return false;
  return parse_num(e + 1, min, end);
}

static int slot(rt_blkio_entry *a, rt_blkio_entry *b, uint32_t *n, uint32_t max, uint64_t maj, uint64_t min) {
  for (uint32_t i = 0; i < *n; i++)
    if (a[i].major == maj && a[i].minor == min) return (int)i;
  if (*n >= max) return -1;
  uint32_t i = (*n)++;
  memset(&a[i], 0, sizeof a[i]);
  memset(&b[i], 0, sizeof b[i]);
  a[i].major = b[i].major = maj;
  a[i].minor = b[i].minor = min;
  return (int)i;
}

size_t rt_linux_cg_parse_blkio(const char *buf, rt_blkio_entry *into, rt_blkio_entry *other, uint32_t *n,
                               uint32_t max) {
  size_t used = 0;
  for (const char *p = buf; *p; p = next_line(p)) {
    uint64_t maj, min, v;
    const char *e;
    if (!parse_dev(skip_ws(p), &maj, &min, &e)) continue; /* "Total N" and blank lines */
    const char *op = skip_ws(e);
    size_t oplen = strcspn(op, " \t\n");
    if (!parse_num(skip_ws(op + oplen), &v, NULL)) continue;
    int i = slot(into, other, n, max, maj, min);
    if (i < 0) continue;
    rt_blkio_entry *x = &into[i];
    if (oplen == 4 && !memcmp(op, "Read", 4)) x->read = v;
    else if (oplen == 5 && !memcmp(op, "Write", 5)) x->write = v;
    else if (oplen == 4 && !memcmp(op, "Sync", 4)) x->sync = v;
    else if (oplen == 5 && !memcmp(op, "Async", 5)) x->async = v;
    else if (oplen == 5 && !memcmp(op, "Total", 5)) x->total = v;
    else continue; /* Discard: no place in the sample */
    used++;
  }
  return used;
}

uint32_t rt_linux_cg_parse_iostat(const char *buf, rt_blkio_entry *bytes, rt_blkio_entry *ops, uint32_t max) {
  uint32_t n = 0;
  for (const char *p = buf; *p; p = next_line(p)) {
    uint64_t maj, min;
    const char *e;
    if (!parse_dev(skip_ws(p), &maj, &min, &e)) continue;
    int i = slot(bytes, ops, &n, max, maj, min);
    if (i < 0) break;
    const char *end = strchr(e, '\n');
    if (!end) end = e + strlen(e);
    for (const char *q = e; q < end;) {
      q = skip_ws(q);
      size_t klen = strcspn(q, "= \t\n");
      uint64_t v;
      if (q[klen] == '=' && parse_num(q + klen + 1, &v, NULL)) {
        if (klen == 6 && !memcmp(q, "rbytes", 6)) bytes[i].read = v;
        else if (klen == 6 && !memcmp(q, "wbytes", 6)) bytes[i].write = v;
        else if (klen == 4 && !memcmp(q, "rios", 4)) ops[i].read = v;
        else if (klen == 4 && !memcmp(q, "wios", 4)) ops[i].write = v;
      }
      q += strcspn(q, " \t\n");
    }
    bytes[i].total = bytes[i].read + bytes[i].write;
    ops[i].total = ops[i].read + ops[i].write;
  }
  return n;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s) {
  char *w = s;
  for (char *r = s; *r;) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
      *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 4;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
}

static bool has_word(const char *list, size_t len, const char *word) {
  size_t wl = strlen(word);
  for (const char *p = list; p < list + len;) {
    size_t n = strcspn(p, ",");
    if (p + n > list + len) n = (size_t)(list + len - p);
    if (n == wl && !memcmp(p, word, wl)) return true;
    p += n + 1;
  }
  return false;
}

/* The cgroup path of ctrl (NULL: v2) in /proc/<pid>/cgroup. */
static bool proc_path(const char *proc_cgroup, const char *ctrl, char *out, size_t outlen) {
  for (const char *p = proc_cgroup; *p; p = next_line(p)) {
    const char *c1 = strchr(p, ':');
    const char *end = strchr(p, '\n');
    if (!end) end = p + strlen(p);
    if (!c1 || c1 > end) continue;
    const char *c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
    if (!c2) continue;
    size_t clen = (size_t)(c2 - c1 - 1);
    bool match = ctrl ? has_word(c1 + 1, clen, ctrl) : (clen == 0 && !strncmp(p, "0:", 2));
    if (!match) continue;
    size_t plen = (size_t)(end - c2 - 1);
    if (plen >= outlen) return false;
    memcpy(out, c2 + 1, plen);
    out[plen] = '\0';
    return true;
  }
  return false;
}

int rt_linux_cg_resolve(const char *mountinfo, const char *proc_cgroup, const char *ctrl, char *out,
                        size_t outlen) {
  char cgpath[4096];
  if (!proc_path(proc_cgroup, ctrl, cgpath, sizeof cgpath)) return -1;
  for (const char *p = mountinfo; *p; p = next_line(p)) {
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char line[4096];
    if (len >= sizeof line) continue;
    memcpy(line, p, len);
    line[len] = '\0';
    /* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
    char *sep = strstr(line, " - ");
    if (!sep) continue;
    *sep = '\0';
    char *f[5] = {0}, *save = NULL, *tok = strtok_r(line, " ", &save);
    for (int i = 0; tok && i < 5; i++, tok = strtok_r(NULL, " ", &save)) f[i] = tok;
    char *fstype = strtok_r(sep + 3, " ", &save);
    strtok_r(NULL, " ", &save); /* source */
    char *super = strtok_r(NULL, " ", &save);
    if (!f[4] || !fstype) continue;
    if (ctrl ? strcmp(fstype, "cgroup") || !super || !has_word(super, strlen(super), ctrl)
             : strcmp(fstype, "cgroup2"))
      continue;
    char *root = f[3], *mnt = f[4];
    unescape(root);
    unescape(mnt);
    const char *rel = cgpath;
    size_t rl = strlen(root);
    if (strcmp(root, "/") != 0) {
      /* The hierarchy is mounted from a sub-directory (a cgroup namespace or a bind mount): the process
       * must be inside it to be reachable through this mount. */
      if (strncmp(cgpath, root, rl) != 0 || (cgpath[rl] != '/' && cgpath[rl] != '\0')) continue;
      rel = cgpath + rl;
    }
    if (!strcmp(rel, "/")) rel = "";
    int n = snprintf(out, outlen, "%s%s", mnt, rel);
    if (n < 0 || (size_t)n >= outlen) return -1;
    return 0;
  }
  return -1;
}
