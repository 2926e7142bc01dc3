/* Minimal TAP for the Windows unit tests (cmocka is not cross-built): `ok N - name` lines, a plan at the
 * end, exit status 1 if any check failed. */
#ifndef TW_TAP_H
#define TW_TAP_H

#include <stdio.h>

typedef struct tw_tap {
  int n;
  int failed;
} tw_tap;

/* cond is evaluated once. */
#define TW_CHECK(t, cond, ...)                                                             \
  do {                                                                                     \
    int tw_ok_ = (cond) ? 1 : 0;                                                           \
    (t)->n++;                                                                              \
    if (!tw_ok_) (t)->failed++;                                                            \
    printf("%sok %d - ", tw_ok_ ? "" : "not ", (t)->n);                                    \
    printf(__VA_ARGS__);                                                                   \
    printf("%s\n", tw_ok_ ? "" : "  # failed: " #cond " at " __FILE__ ":" TW_STR(__LINE__)); \
    fflush(stdout);                                                                        \
  } while (0)
#define TW_STR2(x) #x
#define TW_STR(x) TW_STR2(x)

static inline int tw_done(tw_tap *t) {
  printf("1..%d\n", t->n);
  if (t->failed) printf("# %d of %d failed\n", t->failed, t->n);
  return t->failed ? 1 : 0;
}

#endif
