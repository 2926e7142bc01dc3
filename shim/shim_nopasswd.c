/* Linked into the static shim only (shim/CMakeLists.txt). libuv's core object, which the shim needs,
 * refers to getpwuid_r for uv_os_get_passwd and uv_os_homedir; the shim calls neither. glibc's static
 * getpwuid_r would load the host's NSS modules at run time (the linker warns that they must then match the
 * glibc the shim was linked against). Defining it here keeps that code out of the binary: a user lookup in
 * the shim finds no such user (POSIX: 0 and a NULL result) instead of depending on the host's libraries. */
#include <pwd.h>
#include <stddef.h>

int getpwuid_r(uid_t uid, struct passwd *pwd, char *buf, size_t buflen, struct passwd **result) {
  (void)uid;
  (void)pwd;
  (void)buf;
  (void)buflen;
  *result = NULL;
  return 0;
}
