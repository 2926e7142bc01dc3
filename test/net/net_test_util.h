/* Helpers shared by the network tests: temp dirs, small files, executable scripts. */
#ifndef NET_TEST_UTIL_H
#define NET_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* mkdtemp under /tmp with the given prefix; dir must hold 64 bytes. */
void nt_tmpdir(char *dir, const char *prefix);
/* rm -rf (no symlink following; unmounts nothing). */
void nt_rmrf(const char *path);
/* Write text to path with mode (0755 for a script). */
void nt_write(const char *path, const char *text, int mode);
/* Read a small file into buf; false if it cannot be opened. */
bool nt_read(const char *path, char *buf, size_t cap);
bool nt_exists(const char *path);
/* Number of entries in dir (no . and ..) whose name passes keep (NULL: all); -1 if dir cannot be opened. */
int nt_count(const char *dir, bool (*keep)(const char *name));

#endif
