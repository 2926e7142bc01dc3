#include "net_counters.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int net_counters_open(int pid, cs_err *err) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/net/dev", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cs_err_sys(err, errno, "open %s", path);
  return fd;
}

/*  face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed */
uint32_t net_counters_parse(const char *buf, rt_net_iface *out, uint32_t max) {
  uint32_t n = 0;
  for (const char *p = buf; *p && n < max;) {
    const char *nl = strchr(p, '\n');
    const char *end = nl ? nl : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(end - p));
    const char *line = p;
    p = nl ? nl + 1 : end;
    if (!colon) continue; /* the two header lines have no ':' */
    while (line < colon && isspace((unsigned char)*line)) line++;
    size_t nlen = (size_t)(colon - line);
    if (nlen == 0 || nlen >= sizeof out[0].name) continue;
    uint64_t v[16];
    int k = 0;
    const char *q = colon + 1;
    while (k < 16 && q < end) {
      while (q < end && isspace((unsigned char)*q)) q++;
      if (q >= end || !isdigit((unsigned char)*q)) break;
      char *e;
      v[k++] = strtoull(q, &e, 10);
      q = e;
    }
    if (k < 12) continue;
    rt_net_iface *f = &out[n++];
    memset(f, 0, sizeof *f);
    memcpy(f->name, line, nlen);
    f->name[nlen] = '\0';
    f->rx_bytes = v[0];
    f->rx_packets = v[1];
    f->rx_errors = v[2];
    f->rx_dropped = v[3];
    f->tx_bytes = v[8];
    f->tx_packets = v[9];
    f->tx_errors = v[10];
    f->tx_dropped = v[11];
  }
  return n;
}

int net_counters_read(int fd, rt_net_iface *out, uint32_t max, uint32_t *n, cs_err *err) {
  /* ~130 bytes per interface: 16 KiB is well past RT_MAX_IFACES. */
  char buf[16384];
  size_t got = 0;
  while (got < sizeof buf - 1) {
    size_t want = sizeof buf - 1 - got;
    ssize_t r = pread(fd, buf + got, want, (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return cs_err_sys(err, errno, "read net/dev");
    got += (size_t)r;
    if ((size_t)r < want) break; /* a seq_file: a short read is the end */
  }
  buf[got] = '\0';
  *n = net_counters_parse(buf, out, max);
  return 0;
}
