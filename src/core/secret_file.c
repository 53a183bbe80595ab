// SPDX-License-Identifier: Apache-2.0
/* A secret read from a file (weftd's and weftctl's --etcd-password-file). */
#include "core/secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/xmalloc.h"

#define SECRET_FILE_MAX 4096

int secret_file_read(const char *what, const char *path, char **ret, struct err *err)
{
	char buf[SECRET_FILE_MAX + 3]; /* the password, "\r\n" and one byte too many */
	size_t len = 0;
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	/* O_NONBLOCK: a FIFO must not hang start-up before it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return err_set(err, -errno, "%s %.128s: cannot open: %s", what, path,
			       strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = err_set(err, -errno, "%s %.128s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = err_set(err, -EINVAL, "%s %.128s: not a regular file", what, path);
		goto out;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_set(err, -errno, "%s %.128s: cannot read: %s",
				    what, path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len > SECRET_FILE_MAX) {
		r = err_set(err, -EFBIG,
			    "%s %.128s: larger than %d bytes: not a password file", what, path,
			    SECRET_FILE_MAX);
		goto out;
	}
	if (len == 0) {
		r = err_set(err, -EINVAL, "%s %.128s: the file is empty", what, path);
		goto out;
	}
	if (memchr(buf, '\0', len)) {
		r = err_set(err, -EINVAL, "%s %.128s: contains a NUL byte", what, path);
		goto out;
	}
	*ret = xmalloc(len + 1);
	memcpy(*ret, buf, len);
	(*ret)[len] = '\0';
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return r;
}
