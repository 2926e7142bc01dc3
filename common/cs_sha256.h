/* SHA-256, for the one place cshim needs it: containerd's shim socket name is the hex digest of
 * "<address>/<namespace>/<id>". A dozen lines of arithmetic is cheaper than linking a crypto library into
 * every long-lived shim. */
#ifndef CS_SHA256_H
#define CS_SHA256_H

#include <stddef.h>
#include <stdint.h>

void cs_sha256(const void *data, size_t len, uint8_t out[32]);
/* out: 65 bytes, lower-case hex + NUL */
void cs_sha256_hex(const void *data, size_t len, char out[65]);

#endif
