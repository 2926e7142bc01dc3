/* A process's stdio (task_io): what its readers see when the process is done with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "task_io.h"

/* Read the FIFO until EOF (a read of 0 once its writer is gone) or 5 s of loop turns. Returns the bytes read,
 * *eof whether EOF was seen. */
static size_t drain(uv_loop_t *loop, int fd, char *buf, size_t cap, bool *eof) {
  size_t got = 0;
  *eof = false;
  for (int i = 0; i < 5000 && !*eof; i++) {
    uv_run(loop, UV_RUN_NOWAIT);
    ssize_t n = read(fd, buf + got, cap - 1 - got);
    if (n > 0) got += (size_t)n;
    else if (n == 0 && got > 0) *eof = true;
    else usleep(1000);
  }
  buf[got] = '\0';
  return got;
}

/* kubectl exec -it: the process on the pty exits while the client still holds stdin open. Its stdout must
 * end then (the pty's last slave closed), not at Delete: containerd and CRI wait for that EOF first. */
static void test_terminal_stdout_ends_when_pty_closes(void **state) {
  (void)state;
  char dir[] = "/tmp/tio-XXXXXX", out[64], in[64];
  assert_non_null(mkdtemp(dir));
  snprintf(out, sizeof out, "%s/stdout", dir);
  snprintf(in, sizeof in, "%s/stdin", dir);
  assert_int_equal(mkfifo(out, 0600), 0);
  assert_int_equal(mkfifo(in, 0600), 0);
  int reader = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  assert_true(reader >= 0);

  uv_loop_t loop;
  uv_loop_init(&loop);
  task_io *io = NULL;
  cs_err err;
  assert_int_equal(task_io_open(&io, &loop, in, out, NULL, true, &err), 0);
  /* the client's stdin writer, held open for the whole test */
  int client_in = open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  assert_true(client_in >= 0);

  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true(master >= 0);
  assert_int_equal(grantpt(master), 0);
  assert_int_equal(unlockpt(master), 0);
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true(slave >= 0);
  rt_result res = {.console_fd = master};
  assert_int_equal(task_io_attach(io, &res, &err), 0);
  assert_int_equal(task_io_started(io, &err), 0);

  assert_int_equal(write(slave, "hello\n", 6), 6);
  close(slave); /* the process exited */
  char buf[256];
  bool eof;
  drain(&loop, reader, buf, sizeof buf, &eof);
  assert_non_null(strstr(buf, "hello"));
  assert_true(eof);

  task_io_close(&io);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&loop), 0);
  close(reader);
  close(client_in);
  unlink(out);
  unlink(in);
  assert_int_equal(rmdir(dir), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_terminal_stdout_ends_when_pty_closes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
