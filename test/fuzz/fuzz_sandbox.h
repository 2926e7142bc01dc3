/* Containment for fuzz_task: fuzzed Create/Exec requests name paths (bundle, stdio FIFOs, file:// logs,
 * rootfs mount sources) and make the shim mkdir, open, create and mount(2) them. See fuzz_sandbox.c. */
#ifndef FUZZ_SANDBOX_H
#define FUZZ_SANDBOX_H

#include <stdbool.h>

/* Where the sandbox is (a private tmpfs mounted there in the fuzzer's own mount namespace). The seed
 * corpus names paths under it, so seeds pass the target's path check unchanged. */
#define FUZZ_SANDBOX_DIR "/tmp/cshim-fuzz-sandbox"

/* Once, while the process is still single-threaded (LLVMFuzzerInitialize): enter a private user + mount
 * namespace and mount a private tmpfs on the sandbox directory. Returns the sandbox path (FUZZ_SANDBOX_DIR,
 * or a temporary directory when no namespace could be had). */
const char *fuzz_sandbox_init(void);
/* False when the fuzzer has no mount namespace of its own: requests must then carry no rootfs mounts. */
bool fuzz_sandbox_mounts_contained(void);
/* Before each input: a fresh, empty tmpfs (dropping whatever the previous input mounted or created), with
 * FIFOs in, out, err, directories b (a bundle) and src (a harmless mount source). */
void fuzz_sandbox_reset(void);
/* An absolute path inside the sandbox with no ".." component: the only kind the target lets through. */
bool fuzz_sandbox_path_ok(const char *path);
/* sandbox path + suffix, in a static buffer per call site: pass string literals like "/in". */
const char *fuzz_sandbox_path(const char *suffix);

#endif
