/* pause.c — the pod sandbox's init for the CRI end-to-end test: holds the pod's namespaces and does nothing.
 * Built static so the image needs no libc; the test packs it into an image it imports (no registry). */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

/* containerd stops a sandbox with SIGKILL; SIGTERM/SIGINT end it too, as Kubernetes' pause does. */
static void on_stop(int sig)
{
  (void)sig;
  _exit(0);
}

/* PID 1 of the pod: reap whatever gets reparented here so no zombie outlives its container. */
static void on_child(int sig)
{
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void)
{
  struct sigaction sa = {0};
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sa.sa_handler = on_child;
  sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction(SIGCHLD, &sa, NULL);
  for (;;)
    pause();
}
