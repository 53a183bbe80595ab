/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_FILE_H
#define WEFT_CORE_FILE_H

/*
 * Files that must never be seen half written (subnet.env, the CNI plugin's
 * state): written to a temp file beside the target, fsynced, renamed over it,
 * and the directory fsynced. 0 or a negative errno, with err saying which step
 * failed on which path.
 */
#include <stddef.h>
#include <sys/types.h>

struct err;

/* mkdir -p; directories it creates get exactly mode, whatever the umask. */
int file_mkdir_p(const char *dir, mode_t mode, struct err *err);

/* Replace path (in an existing directory) with len bytes of data, mode mode.
 * On failure the old file is untouched and no temp file is left. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      struct err *err);

/* write(2) until all n bytes are out (EINTR retried); 0 or -errno. */
int file_write_all(int fd, const void *data, size_t n);

#endif
