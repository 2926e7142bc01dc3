/* task_io_set_owner (task_io.h): the owner of the stdio a process gets, from the io_uid/io_gid options. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "task_io.h"

int task_io_set_owner(task_io *io, uint32_t uid, uint32_t gid, cs_err *err) {
  if (uid == 0 && gid == 0) return 0;
  static const char *const names[] = {"stdin", "stdout", "stderr"};
  for (int i = 0; i < 3; i++) {
    struct stat st;
    /* FIFOs and the stdin pipe (runc-v2 chowns the pipes it hands over); a file:// log stays the user's. */
    if (io->child_fd[i] < 0 || fstat(io->child_fd[i], &st) != 0 || !S_ISFIFO(st.st_mode)) continue;
    if (fchown(io->child_fd[i], (uid_t)uid, (gid_t)gid) != 0)
      return cs_err_sys(err, errno, "chown %s to %u:%u", names[i], (unsigned)uid, (unsigned)gid);
  }
  return 0;
}
