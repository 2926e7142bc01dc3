/* A stand-in OCI runtime for unit tests (no root, no runc): a test binary calls fake_runc_main() from main()
 * when it runs as a symlink named fake-runc, and names that symlink as the runtime. Written in C so it can
 * pass a pty master over the console socket as runc does.
 *
 * Its state dir is $FAKE_RUNC_DIR, else the --root it is given. Files there choose what it does:
 *   fail-CMD    fail CMD; the file's text is the error, written to the --log JSON (empty: exit 3, say nothing)
 *   stderr-CMD  fail CMD printing the text on stderr, no log
 *   ps-out      what `ps` prints (default [])
 *   noconsole   accept --console-socket but send nothing
 *   exec-exits  an exec'd process exits 3 at once
 *   kill-signals  kill ID SIG signals the container's process (else kill only records)
 * create/restore/exec fork a process that waits for a signal (its pid to --pid-file and to `spawned`, which
 * the test kills at the end whatever happened); update copies stdin to `resources`; checkpoint leaves a CRIU
 * dump.log in --work-path; features prints a features JSON. Every invocation is appended to `calls` (the
 * command and its arguments after the global options). */
#ifndef FAKE_RUNC_H
#define FAKE_RUNC_H

int fake_runc_main(int argc, char **argv);

#endif
