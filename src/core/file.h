/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_FILE_H
#define WEFT_CORE_FILE_H

/*
 * Files that must never be seen half written (subnet.env, the CNI plugin's
 * state): written to a temp file beside the target, fsynced, renamed over it,
 * and the directory fsynced. 0 or a negative errno, with err saying which step
 * failed on which path.
 *
 * And small files read whole, bounded (subnet.env, kubeconfig, tokens, the
 * CNI plugin's state).
 */
#include <stddef.h>
#include <sys/types.h>

struct buf;
struct err;

/* mkdir -p; directories it creates get exactly mode, whatever the umask. */
int file_mkdir_p(const char *dir, mode_t mode, struct err *err);

/* Replace path (in an existing directory) with len bytes of data, mode mode.
 * On failure the old file is untouched and no temp file is left. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      struct err *err);

/* The same without fsync: a reader sees the old or the new file, never a
 * mix, even if we are killed; but after a power loss the new file may be
 * missing or empty. For files whose loss the reader can make up for. */
int file_replace(const char *path, const void *data, size_t len, mode_t mode, struct err *err);

/* The same (durable) for a file that must not exist yet: linked into place, so that a
 * file another process made meanwhile is never replaced (-EEXIST, err not
 * set: the caller reads that one). */
int file_create_atomic(const char *path, const void *data, size_t len, mode_t mode,
		       struct err *err);

/* write(2) until all n bytes are out (EINTR retried); 0 or -errno. */
int file_write_all(int fd, const void *data, size_t n);

/* Append what fd gives until EOF to out, at most out->max bytes: 0, -errno
 * of read, or -E2BIG when there is more (out then holds the first out->max).
 * out->data is non-NULL unless buf's first allocation failed. */
int file_read_fd(int fd, struct buf *out);

/*
 * Append the whole of the regular file path (relative to dirfd, AT_FDCWD for
 * none; oflags adds e.g. O_NOFOLLOW) to out, at most out->max bytes. It is
 * opened without waiting, so that a FIFO or a device planted at the path
 * cannot block the caller, and then refused. out->data is non-NULL on
 * success. 0 or -errno: -EISDIR or -EINVAL when it is not a regular file,
 * -E2BIG when it holds more than out->max bytes (out then holds the first
 * out->max).
 * *ret_op (when not NULL) names the failed step for the caller's message:
 * "open", "stat" or "read" (a file that is not regular fails at "read", as
 * with Go's os.ReadFile).
 */
int file_read_bounded(int dirfd, const char *path, int oflags, struct buf *out,
		      const char **ret_op);

#endif
