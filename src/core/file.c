// SPDX-License-Identifier: Apache-2.0
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"

int file_mkdir_p(const char *dir, mode_t mode, struct err *err)
{
	char p[PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof(p))
		return err_set(err, -ENAMETOOLONG, "directory name too long");
	memcpy(p, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if ((p[i] != '/' && p[i] != '\0') || p[i - 1] == '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, mode) == 0) {
			if (chmod(p, mode) < 0)
				return err_set(err, -errno, "chmod %s: %s", p, strerror(errno));
		} else if (errno != EEXIST) {
			return err_set(err, -errno, "mkdir %s: %s", p, strerror(errno));
		}
		p[i] = dir[i];
	}
	return 0;
}

int file_write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The temp file beside path, then rename(2) (replace) or link(2) (only when
 * path does not exist: -EEXIST, err untouched). */
static int write_new(const char *path, const void *data, size_t len, mode_t mode, bool replace,
		     bool durable, struct err *err)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char dir[PATH_MAX], tmp[PATH_MAX];
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	bool tmp_exists = false;
	int fd = -1, dfd = -1, r;

	if (!*base)
		return err_set(err, -EINVAL, "%s names a directory", path);
	if (dlen >= sizeof(dir))
		return err_set(err, -ENAMETOOLONG, "path too long: %s", path);
	if (!slash)
		memcpy(dir, ".", 2);
	else if (dlen == 0)
		memcpy(dir, "/", 2);
	else {
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
	}
	/* Same directory as the target so that rename(2) and link(2) work. */
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= (int)sizeof(tmp))
		return err_set(err, -ENAMETOOLONG, "path too long: %s", path);

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = err_set(err, -errno, "create temp file in %s: %s", dir, strerror(errno));
		goto out;
	}
	tmp_exists = true;
	if (fchmod(fd, mode) < 0) {
		r = err_set(err, -errno, "chmod %s: %s", tmp, strerror(errno));
		goto out;
	}
	r = file_write_all(fd, data, len);
	if (r < 0) {
		err_set(err, r, "write %s: %s", tmp, strerror(-r));
		goto out;
	}
	if (durable && fsync(fd) < 0) {
		r = err_set(err, -errno, "fsync %s: %s", tmp, strerror(errno));
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r < 0) {
		r = err_set(err, -errno, "close %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (replace && rename(tmp, path) < 0) {
		r = err_set(err, -errno, "rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	if (!replace && link(tmp, path) < 0) {
		r = errno == EEXIST ? -EEXIST
				    : err_set(err, -errno, "link %s to %s: %s", tmp, path,
					      strerror(errno));
		goto out;
	}
	tmp_exists = !replace; /* a link leaves the temp name: removed at out */
	/* Make the rename or link itself durable. The new file is already in place if
	 * this fails, but the caller should still hear about it. */
	if (!durable) {
		r = 0;
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		r = err_set(err, -errno, "fsync directory %s: %s", dir, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp_exists)
		unlink(tmp);
	if (dfd >= 0)
		close(dfd);
	return r;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      struct err *err)
{
	return write_new(path, data, len, mode, true, true, err);
}

int file_replace(const char *path, const void *data, size_t len, mode_t mode, struct err *err)
{
	return write_new(path, data, len, mode, true, false, err);
}

int file_create_atomic(const char *path, const void *data, size_t len, mode_t mode,
		       struct err *err)
{
	return write_new(path, data, len, mode, false, true, err);
}

int file_read_fd(int fd, struct buf *out)
{
	char chunk[16384];
	int r;

	if ((r = buf_append(out, "", 0)) < 0)
		return r;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if ((r = buf_append(out, chunk, (size_t)n)) < 0) {
			/* Keep the first out->max bytes: a caller may report on them. */
			buf_append(out, chunk, out->max - out->len);
			return r;
		}
	}
}

int file_read_bounded(int dirfd, const char *path, int oflags, struct buf *out,
		      const char **ret_op)
{
	const char *op = "open";
	struct stat st;
	int fd, r = 0;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | oflags);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	op = "stat";
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	op = "read";
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	r = file_read_fd(fd, out);
out:
	if (fd >= 0)
		close(fd);
	if (ret_op)
		*ret_op = op;
	return r;
}
