// SPDX-License-Identifier: Apache-2.0
/* The node's WireGuard private key file (upstream's WIREGUARD_KEY_FILE). */
#include "backend/wg_key.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/err.h"
#include "core/file.h"

#define KEY_B64_LEN 44
#define KEY_FILE_MAX 256 /* more than this is not a key file */

/* Read and parse an existing key file: 0, -ENOENT (no file) or another error
 * in err. */
static int key_read(const char *path, uint8_t ret[WG_KEY_LEN], struct err *err)
{
	char buf[KEY_FILE_MAX + 1], dec[KEY_B64_LEN];
	size_t len = 0, start = 0, end;
	struct stat st;
	ssize_t n;
	int fd, r;

	/* O_NONBLOCK: a FIFO planted there must not hang us before it is refused. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			return r;
		return err_set(err, r, "WireGuard key file %.200s: cannot open: %s", path,
			       strerror(-r));
	}
	if (fstat(fd, &st) < 0) {
		r = err_set(err, -errno, "WireGuard key file %.200s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = err_set(err, -EINVAL, "WireGuard key file %.200s: not a regular file", path);
		goto out;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_set(err, -errno, "WireGuard key file %.200s: read: %s", path,
				    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* Newlines trimmed from both ends, as upstream reads it. */
	end = len;
	while (start < end && buf[start] == '\n')
		start++;
	while (end > start && buf[end - 1] == '\n')
		end--;
	r = -EINVAL;
	if (start == end)
		err_set(err, r, "WireGuard key file %.200s: empty", path);
	else if (len > KEY_FILE_MAX || end - start != KEY_B64_LEN)
		err_set(err, r,
			"WireGuard key file %.200s: not one WireGuard key (44 base64 characters)",
			path);
	else if (memchr(buf + start, '\0', KEY_B64_LEN) ||
		 base64_decode(buf + start, KEY_B64_LEN, dec) != WG_KEY_LEN)
		err_set(err, r, "WireGuard key file %.200s: not valid base64 of a 32-byte key",
			path);
	else {
		memcpy(ret, dec, WG_KEY_LEN);
		r = 0;
	}
out:
	wg_wipe(buf, sizeof(buf));
	wg_wipe(dec, sizeof(dec));
	close(fd);
	return r;
}

/* A new key in path, never replacing a file made meanwhile (-EEXIST). */
static int key_write(const char *path, const uint8_t priv[WG_KEY_LEN], struct err *err)
{
	char text[KEY_B64_LEN + 1];
	int r;

	base64_encode(priv, WG_KEY_LEN, text);
	/* Upstream's format: the key without a newline. */
	r = file_create_atomic(path, text, KEY_B64_LEN, 0400, err);
	wg_wipe(text, sizeof(text));
	if (r < 0 && r != -EEXIST)
		err_prefix(err, r, "WireGuard key file %.200s", path);
	return r;
}

int wg_key_load_or_create(const char *path, uint8_t ret_priv[WG_KEY_LEN],
			  uint8_t ret_pub[WG_KEY_LEN], bool *ret_created, struct err *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	uint8_t priv[WG_KEY_LEN];
	bool created = false;
	int r;

	if (ret_created)
		*ret_created = false;
	if ((r = wg_crypto_load(err)) < 0)
		return r;
	if (!*path || (slash && !slash[1]))
		return err_set(err, -EINVAL, "WireGuard key file %.200s: not a file name", path);
	r = key_read(path, priv, err);
	if (r == -ENOENT) {
		size_t dlen = slash ? (size_t)(slash - path) : 0;

		if (dlen >= sizeof(dir))
			return err_set(err, -ENAMETOOLONG, "WireGuard key file: path too long");
		if (!slash)
			memcpy(dir, ".", 2);
		else if (dlen == 0)
			memcpy(dir, "/", 2);
		else {
			memcpy(dir, path, dlen);
			dir[dlen] = '\0';
		}
		if ((r = file_mkdir_p(dir, 0700, err)) < 0)
			goto out;
		if ((r = wg_key_generate(priv)) < 0) {
			err_set(err, r, "WireGuard key: no random bytes: %s", strerror(-r));
			goto out;
		}
		r = key_write(path, priv, err);
		if (r == -EEXIST) /* another process was first: its key it is */
			r = key_read(path, priv, err);
		else if (r == 0)
			created = true;
		if (r == -ENOENT)
			err_set(err, r, "WireGuard key file %.200s: vanished as it was made", path);
	}
	if (r < 0)
		goto out;
	if ((r = wg_key_public(ret_pub, priv)) < 0) {
		err_set(err, r, "WireGuard key file %.200s: cannot derive the public key", path);
		goto out;
	}
	memcpy(ret_priv, priv, WG_KEY_LEN);
	if (ret_created)
		*ret_created = created;
out:
	wg_wipe(priv, sizeof(priv));
	return r;
}

int wg_key_file_mode(const char *path, unsigned *ret_mode, struct err *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return err_set(err, -errno, "WireGuard key file %.200s: %s", path, strerror(errno));
	*ret_mode = st.st_mode & 07777;
	return 0;
}

bool wg_key_mode_too_wide(unsigned mode)
{
	return (mode & 07777 & ~0600U) != 0;
}
