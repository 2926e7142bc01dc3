#include "shim_args.h"

#include <stdlib.h>
#include <string.h>

int shim_args_parse(shim_args *a, int argc, char **argv, cs_err *err) {
  memset(a, 0, sizeof *a);
  a->ns = "default";
  static const struct {
    const char *name;
    size_t off;
  } strflags[] = {
    {"namespace", offsetof(shim_args, ns)},       {"id", offsetof(shim_args, id)},
    {"address", offsetof(shim_args, address)},    {"publish-binary", offsetof(shim_args, publish_binary)},
    {"bundle", offsetof(shim_args, bundle)},      {"socket", offsetof(shim_args, socket)},
  };
  int i = 1;
  for (; i < argc; i++) {
    const char *arg = argv[i];
    if (arg[0] != '-' || strcmp(arg, "-") == 0) break;
    if (strcmp(arg, "--") == 0) {
      i++;
      break;
    }
    const char *name = arg + (arg[1] == '-' ? 2 : 1);
    const char *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    if (nlen == 5 && strncmp(name, "debug", 5) == 0) {
      a->debug = !eq || strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "1") == 0;
      continue;
    }
    if ((nlen == 1 && name[0] == 'v') || (nlen == 7 && strncmp(name, "version", 7) == 0)) {
      a->version = true;
      continue;
    }
    if (nlen == 4 && strncmp(name, "info", 4) == 0) {
      a->info = true;
      continue;
    }
    bool found = false;
    for (size_t k = 0; k < sizeof strflags / sizeof strflags[0]; k++) {
      if (strlen(strflags[k].name) != nlen || strncmp(name, strflags[k].name, nlen) != 0) continue;
      const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
      if (!val) return cs_err_set(err, CS_INVALID_ARGUMENT, "flag needs an argument: -%.*s", (int)nlen, name);
      *(const char **)((char *)a + strflags[k].off) = val;
      found = true;
      break;
    }
    if (!found) return cs_err_set(err, CS_INVALID_ARGUMENT, "flag provided but not defined: -%.*s", (int)nlen, name);
  }
  if (i < argc) a->action = argv[i];
  a->ttrpc_address = getenv("TTRPC_ADDRESS");
  return 0;
}
