// SPDX-License-Identifier: Apache-2.0
#include "agent/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fill sa and its length from $NOTIFY_SOCKET's value; 0 or -EINVAL. */
static int notify_addr(const char *path, struct sockaddr_un *sa, socklen_t *ret_len)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (path[0] == '@') {
		/* Abstract: a leading NUL, then the name; the length says where it ends. */
		if (n < 2 || n > sizeof(sa->sun_path))
			return -EINVAL;
		memcpy(sa->sun_path + 1, path + 1, n - 1);
		*ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
		return 0;
	}
	/* systemd also knows vsock: addresses; a daemon on a host never gets one. */
	if (path[0] != '/' || n >= sizeof(sa->sun_path))
		return -EINVAL;
	memcpy(sa->sun_path, path, n + 1);
	*ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

int sd_notify_send(const char *state)
{
	struct sockaddr_un sa;
	socklen_t salen;
	const char *path;
	size_t len;
	ssize_t n;
	int fd = -1, r;

	if (!state || !*state)
		return -EINVAL;
	path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	r = notify_addr(path, &sa, &salen);
	if (r < 0)
		goto out;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	len = strlen(state);
	n = sendto(fd, state, len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa, salen);
	if (n < 0)
		r = -errno;
	else
		r = (size_t)n == len ? 1 : -EMSGSIZE;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int sd_notify_ready(void)
{
	return sd_notify_send("READY=1");
}
