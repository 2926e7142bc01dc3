/* `-info`: the runtime options Any on stdin in, a containerd.types.RuntimeInfo protobuf on stdout out
 * (containerd 2.x's introspection asks each shim this way). */
#ifndef SHIM_INFO_H
#define SHIM_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "cs_err.h"

#define SHIM_RUNTIME_NAME "io.containerd.cshim.v2"
/* The type URL containerd registers for runtime-spec's features.Features (a Go struct, so the value is its
 * JSON): what containerd 2.1's runc shim sends and `ctr plugins inspect-runtime` decodes. */
#define SHIM_FEATURES_TYPE "types.containerd.io/opencontainers/runtime-spec/1/features/Features"

/* Encode RuntimeInfo for options (a marshalled Any, may be empty). features: the OCI runtime's features
 * JSON or NULL. *out is malloc'd. */
int shim_info_encode(const char *version, const uint8_t *opts, size_t opts_len, const char *features,
                     uint8_t **out, size_t *out_len, cs_err *err);
/* The OCI runtime binary the options name (containerd.runc.v1.Options binary_name), else "runc". */
void shim_info_binary(const uint8_t *opts, size_t len, char *out, size_t out_len);
/* `<binary> features` output (malloc'd JSON), or NULL when the runtime has no such command (runc < 1.1),
 * is missing, or the platform has none (Windows: HCS). */
char *shim_os_runtime_features(const char *binary);
/* The whole -info action: read stdin, print the message. */
int shim_info(const char *version, cs_err *err);

#endif
