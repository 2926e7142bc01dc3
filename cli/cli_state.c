#include "cli_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_os.h"
#include "cli_parse.h"

int cli_state_bundle(const char *state_dir, const char *id, char *out, size_t len, cs_err *err) {
  int n = snprintf(out, len, "%s/%s", state_dir, id);
  if (n < 0 || (size_t)n >= len) return cs_err_set(err, CS_INVALID_ARGUMENT, "state dir path too long");
  return 0;
}

static int mkdir_p(const char *path, int mode, cs_err *err) {
  char buf[CLI_PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return cs_err_set(err, CS_INVALID_ARGUMENT, "path too long");
  /* From the first separator after the root ("/", "C:\\"): parents first. */
  char *p = buf + 1;
  if (buf[0] && buf[1] == ':') p = buf + 3;
  for (; *p && p < buf + strlen(buf); p++) {
    if (*p != '/' && *p != '\\') continue;
    if (p[-1] == '/' || p[-1] == '\\') continue;
    char sep = *p;
    *p = '\0';
    if (cli_os_mkdir(buf, 0755) < 0 && errno != EEXIST) return cs_err_sys(err, errno, "mkdir %s", buf);
    *p = sep;
  }
  if (cli_os_mkdir(buf, mode) < 0 && errno != EEXIST) return cs_err_sys(err, errno, "mkdir %s", buf);
  return 0;
}

int cli_state_create(const char *state_dir, const char *id, char *bundle, size_t len, cs_err *err) {
  if (!cli_os_path_is_abs(state_dir)) return cs_err_set(err, CS_INVALID_ARGUMENT, "--state-dir must be an absolute path");
  if (mkdir_p(state_dir, 0711, err) < 0) return -1;
  if (cli_state_bundle(state_dir, id, bundle, len, err) < 0) return -1;
  if (cli_os_mkdir(bundle, 0711) < 0) {
    if (errno == EEXIST) return cs_err_set(err, CS_ALREADY_EXISTS, "container %s already exists", id);
    return cs_err_sys(err, errno, "create bundle %s", bundle);
  }
  char io[CLI_PATH_MAX];
  snprintf(io, sizeof io, "%s/io", bundle);
  if (cli_os_mkdir(io, 0700) < 0) {
    int e = errno;
    rmdir(bundle);
    return cs_err_sys(err, e, "create %s", io);
  }
  return 0;
}

int cli_write_file(const char *path, const void *data, size_t len, int mode, cs_err *err) {
  char tmp[CLI_PATH_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return cs_err_sys(err, errno, "write %s", path);
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      unlink(tmp);
      return cs_err_sys(err, e, "write %s", path);
    }
    p += n;
    left -= (size_t)n;
  }
  if (close(fd) < 0 || cli_os_replace(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return cs_err_sys(err, e, "write %s", path);
  }
  return 0;
}

int cli_read_file(const char *path, char **out, size_t *len, cs_err *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cs_err_sys(err, errno, "read %s", path);
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (!buf) {
      close(fd);
      return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (n + 1 >= cap) {
      char *nb = cap < (16u << 20) ? realloc(buf, cap * 2) : NULL;
      if (!nb) {
        free(buf);
        close(fd);
        return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "%s is too large", path);
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      close(fd);
      return cs_err_sys(err, e, "read %s", path);
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  *out = buf;
  if (len) *len = n;
  return 0;
}

int cli_meta_write(const cli_meta *m, cs_err *err) {
  json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:I}", "id", m->id, "namespace", m->ns,
                        "bundle", m->bundle, "address", m->address, "shim", m->shim, "containerd_address",
                        m->ctd_address, "rootfs", m->rootfs, "runtime", m->runtime, "terminal", m->terminal,
                        "detached", m->detached, "created", (json_int_t)m->created);
  if (j && m->net_attached)
    json_object_set_new(j, "network", json_pack("{s:s, s:s, s:s, s:s}", "id", m->net_id, "config_dir",
                                                m->net_config_dir, "state_dir", m->net_state_dir, "ip", m->ip));
  char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
  json_decref(j);
  if (!s) return cs_err_set(err, CS_INTERNAL, "cannot encode %s", CLI_META_NAME);
  char path[CLI_PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/%s", m->bundle, CLI_META_NAME);
  int rc = cli_write_file(path, s, strlen(s), 0600, err);
  free(s);
  return rc;
}

static void copy_str(char *dst, size_t len, const json_t *obj, const char *key) {
  const char *v = json_string_value(json_object_get(obj, key));
  snprintf(dst, len, "%s", v ? v : "");
}

int cli_meta_read(const char *state_dir, const char *id, cli_meta *m, cs_err *err) {
  if (cli_validate_id("container id", id, err) < 0) return -1;
  char bundle[CLI_PATH_MAX], path[CLI_PATH_MAX + 32];
  if (cli_state_bundle(state_dir, id, bundle, sizeof bundle, err) < 0) return -1;
  snprintf(path, sizeof path, "%s/%s", bundle, CLI_META_NAME);
  json_error_t jerr;
  json_t *j = json_load_file(path, 0, &jerr);
  if (!j) {
    if (access(bundle, F_OK) < 0) return cs_err_set(err, CS_NOT_FOUND, "container %s not found", id);
    if (access(path, F_OK) < 0)
      return cs_err_set(err, CS_FAILED_PRECONDITION, "container %s is being created (no %s yet)", id, CLI_META_NAME);
    return cs_err_set(err, CS_DATA_LOSS, "%s: %s", path, jerr.text);
  }
  memset(m, 0, sizeof *m);
  copy_str(m->id, sizeof m->id, j, "id");
  copy_str(m->ns, sizeof m->ns, j, "namespace");
  copy_str(m->bundle, sizeof m->bundle, j, "bundle");
  copy_str(m->address, sizeof m->address, j, "address");
  copy_str(m->shim, sizeof m->shim, j, "shim");
  copy_str(m->ctd_address, sizeof m->ctd_address, j, "containerd_address");
  copy_str(m->rootfs, sizeof m->rootfs, j, "rootfs");
  copy_str(m->runtime, sizeof m->runtime, j, "runtime");
  m->terminal = json_is_true(json_object_get(j, "terminal"));
  m->detached = json_is_true(json_object_get(j, "detached"));
  m->created = (int64_t)json_integer_value(json_object_get(j, "created"));
  json_t *net = json_object_get(j, "network");
  if (json_is_object(net)) {
    m->net_attached = true;
    copy_str(m->net_id, sizeof m->net_id, net, "id");
    copy_str(m->net_config_dir, sizeof m->net_config_dir, net, "config_dir");
    copy_str(m->net_state_dir, sizeof m->net_state_dir, net, "state_dir");
    copy_str(m->ip, sizeof m->ip, net, "ip");
  }
  json_decref(j);
  /* The record names its own bundle; trust the directory we found it in, not a copied file. */
  snprintf(m->bundle, sizeof m->bundle, "%s", bundle);
  if (strcmp(m->id, id) != 0) snprintf(m->id, sizeof m->id, "%s", id);
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int cli_state_list(const char *state_dir, char ***ids, size_t *n, cs_err *err) {
  *ids = NULL;
  *n = 0;
  DIR *d = opendir(state_dir);
  if (!d) {
    if (errno == ENOENT) return 0;
    return cs_err_sys(err, errno, "open %s", state_dir);
  }
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (cli_validate_id("id", e->d_name, NULL) < 0) continue;
    char meta[CLI_PATH_MAX];
    snprintf(meta, sizeof meta, "%s/%s/%s", state_dir, e->d_name, CLI_META_NAME);
    if (access(meta, F_OK) < 0) continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      char **nv = realloc(*ids, cap * sizeof *nv);
      if (!nv) {
        closedir(d);
        cli_state_list_free(*ids, *n);
        return cs_err_set(err, CS_RESOURCE_EXHAUSTED, "out of memory");
      }
      *ids = nv;
    }
    (*ids)[(*n)++] = strdup(e->d_name);
  }
  closedir(d);
  if (*n) qsort(*ids, *n, sizeof **ids, cmp_str);
  return 0;
}

void cli_state_list_free(char **ids, size_t n) {
  for (size_t i = 0; i < n; i++) free(ids[i]);
  free(ids);
}

int cli_state_remove(const char *bundle, cs_err *err) {
  cli_os_remove_tree(bundle);
  if (access(bundle, F_OK) == 0) return cs_err_set(err, CS_INTERNAL, "remove %s: some files could not be removed", bundle);
  return 0;
}

char *cli_json_dump(const json_t *j, cs_err *err) {
  char *s = json_dumps(j, JSON_COMPACT);
  if (!s) cs_err_set(err, CS_INTERNAL, "cannot encode JSON");
  return s;
}
