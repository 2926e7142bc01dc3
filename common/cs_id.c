#include "cs_id.h"

#include <stdbool.h>
#include <string.h>

static bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

int cs_id_check(const char *what, const char *id, cs_err *err) {
  size_t n = id ? strlen(id) : 0;
  if (n == 0) return cs_err_set(err, CS_INVALID_ARGUMENT, "%s must not be empty", what);
  if (n > CS_ID_MAX)
    return cs_err_set(err, CS_INVALID_ARGUMENT, "%s %.76s...: longer than %d characters", what, id, CS_ID_MAX);
  /* Components of letters and digits, one separator between two of them. */
  bool need_alnum = true;
  for (size_t i = 0; i < n; i++) {
    if (alnum(id[i])) need_alnum = false;
    else if ((id[i] == '.' || id[i] == '_' || id[i] == '-') && !need_alnum) need_alnum = true;
    else return cs_err_set(err, CS_INVALID_ARGUMENT, "%s \"%s\" is not a valid identifier", what, id);
  }
  if (need_alnum) return cs_err_set(err, CS_INVALID_ARGUMENT, "%s \"%s\" is not a valid identifier", what, id);
  return 0;
}
