// SPDX-License-Identifier: Apache-2.0
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/file.h"
#include "core/xmalloc.h"
#include "result.h"

static int fail_io(struct cni_error *e, int err, const char *what, const char *path)
{
	return cni_fail(e, CNI_ERR_IO, "%s %s: %s", what, path, strerror(err));
}

int state_open(struct state *s, const char *dir, bool create, bool exclusive, struct cni_error *e)
{
	struct err err = {{0}};
	int r;

	s->dfd = -1;
	if (snprintf(s->dir, sizeof(s->dir), "%s", dir) >= (int)sizeof(s->dir))
		return cni_fail(e, CNI_ERR_IO, "state directory name too long");
	/* New directories 0700, as upstream's os.MkdirAll(dataDir, 0700). */
	if (create && (r = file_mkdir_p(dir, 0700, &err)) < 0)
		return cni_fail(e, CNI_ERR_IO, "%s", err.msg);
	s->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dfd < 0) {
		if (errno == ENOENT && !create)
			return 0;
		return fail_io(e, errno, "open", dir);
	}
	while (flock(s->dfd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		r = fail_io(e, errno, "lock", dir);
		state_close(s);
		return r;
	}
	return 0;
}

void state_close(struct state *s)
{
	if (s->dfd >= 0)
		close(s->dfd); /* releases the lock */
	s->dfd = -1;
}

int state_store(struct state *s, const char *id, const char *data, size_t len, struct cni_error *e)
{
	char path[PATH_MAX + 64];
	struct err err = {{0}};

	if (s->dfd < 0)
		return cni_fail(e, CNI_ERR_IO, "state directory %s is not open", s->dir);
	if (snprintf(path, sizeof(path), "%s/%s", s->dir, id) >= (int)sizeof(path))
		return cni_fail(e, CNI_ERR_IO, "state file name too long");
	/* Not fsync'ed, as upstream's: the fsyncs were the variable part of an
	 * ADD (up to several ms on a busy disk), and what a power loss can take
	 * DEL makes up for (cmd.c: a torn file is rebuilt). */
	if (file_replace(path, data, len, 0600, &err) < 0)
		return cni_fail(e, CNI_ERR_IO, "%s", err.msg);
	return 0;
}

int state_read(struct state *s, const char *id, struct buf *out, struct cni_error *e)
{
	const char *op;
	int r;

	if (s->dfd < 0)
		return -ENOENT;
	r = file_read_bounded(s->dfd, id, O_NOFOLLOW, out, &op);
	if (r == 0)
		return 0;
	if (!strcmp(op, "open") && r == -ENOENT)
		return r;
	if (!strcmp(op, "open"))
		return cni_fail(e, CNI_ERR_IO, "open %s/%s: %s", s->dir, id, strerror(-r));
	if (!strcmp(op, "stat") || r == -EISDIR || r == -EINVAL)
		return cni_fail(e, CNI_ERR_IO, "%s/%s is not a regular file", s->dir, id);
	if (r == -E2BIG)
		return cni_fail(e, CNI_ERR_IO, "%s/%s exceeds %zu bytes", s->dir, id, out->max);
	return cni_fail(e, CNI_ERR_IO, "read %s/%s: %s", s->dir, id, strerror(-r));
}

int state_remove(struct state *s, const char *id)
{
	if (s->dfd < 0)
		return 0;
	if (unlinkat(s->dfd, id, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ".<id>.XXXXXX", as state_store names its temp files */
static bool is_temp_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' && n >= 9 && name[n - 7] == '.';
}

int state_gc(struct state *s, const char *const *keep, size_t n_keep, unsigned *ret_removed,
	     struct cni_error *e)
{
	const char **sorted = NULL;
	struct dirent *de;
	int fd, r = 0;
	DIR *d;

	*ret_removed = 0;
	if (s->dfd < 0)
		return 0;
	fd = dup(s->dfd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		r = fail_io(e, errno, "read directory", s->dir);
		if (fd >= 0)
			close(fd);
		return r;
	}
	sorted = xcalloc(n_keep ? n_keep : 1, sizeof(*sorted));
	memcpy(sorted, keep, n_keep * sizeof(*sorted));
	qsort(sorted, n_keep, sizeof(*sorted), str_cmp);
	rewinddir(d);
	while ((errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		struct stat st;

		if (fstatat(s->dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!is_temp_name(name)) {
			if (!cni_valid_name(name))
				continue; /* not a file of ours */
			if (bsearch(&name, sorted, n_keep, sizeof(*sorted), str_cmp))
				continue;
		}
		if (unlinkat(s->dfd, name, 0) < 0) {
			if (errno != ENOENT && r == 0)
				r = fail_io(e, errno, "remove", name);
			continue;
		}
		if (!is_temp_name(name))
			(*ret_removed)++;
	}
	if (errno && r == 0)
		r = fail_io(e, errno, "read directory", s->dir);
	closedir(d);
	free(sorted);
	return r;
}
