// SPDX-License-Identifier: Apache-2.0
/* The client's request text: the URL taken apart, the head and body built. */
#include "http/client_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/token.h"

#define MAX_REQUEST_HEAD (64u << 10)

int client_url_parse(const char *s, struct url *u)
{
	const char *p, *host, *end, *colon = NULL;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (!strncmp(s, "http://", 7)) {
		p = s + 7;
	} else if (!strncmp(s, "https://", 8)) {
		p = s + 8;
		u->https = true;
	} else {
		return -EINVAL;
	}
	host = p;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return -EINVAL;
		host = p + 1;
		n = (size_t)(end - host);
		p = end + 1;
		if (*p == ':')
			colon = p;
		else if (*p && *p != '/' && *p != '?')
			return -EINVAL;
	} else {
		end = p + strcspn(p, ":/?");
		n = (size_t)(end - host);
		p = end;
		if (*p == ':')
			colon = p;
	}
	if (n == 0 || n >= sizeof(u->host))
		return -EINVAL;
	memcpy(u->host, host, n);
	u->host[n] = '\0';
	/* No user info, no spaces or control bytes in a host. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u->host[i] <= ' ' || u->host[i] == 0x7f || u->host[i] == '@')
			return -EINVAL;
	if (colon) {
		size_t pl = strspn(colon + 1, "0123456789");
		long port;

		if (pl == 0 || pl > 5)
			return -EINVAL;
		memcpy(u->port, colon + 1, pl);
		u->port[pl] = '\0';
		port = strtol(u->port, NULL, 10);
		if (port < 1 || port > 65535)
			return -EINVAL;
		p = colon + 1 + pl;
		if (*p && *p != '/' && *p != '?')
			return -EINVAL;
	} else {
		snprintf(u->port, sizeof(u->port), "%s", u->https ? "443" : "80");
	}
	u->path = *p ? p : "/";
	return 0;
}

/* Text that goes into the request head: no CR, LF or other control byte
 * (a token read from a file must not add a header line). */
static bool head_safe(const char *s, bool allow_space)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == 0x7f || (c < 0x20 && !(allow_space && c == '\t')) ||
		    (c == ' ' && !allow_space))
			return false;
	}
	return true;
}

/* Append NULL-terminated strings. */
static int put(struct buf *b, ...)
{
	const char *s;
	va_list ap;
	int rc = 0;

	va_start(ap, b);
	while (!rc && (s = va_arg(ap, const char *)))
		rc = buf_append(b, s, strlen(s));
	va_end(ap);
	return rc;
}

int client_build_request(const struct http_opts *o, const struct url *u, struct buf *out)
{
	const char *method = o->method ? o->method : o->body ? "POST" : "GET";
	bool v6 = strchr(u->host, ':') != NULL;
	char len[24];
	int rc;

	if (!http_token(method, strlen(method)) || !head_safe(u->path, false) ||
	    (o->content_type && !head_safe(o->content_type, true)))
		return -EINVAL;
	for (const char *const *hd = o->headers; hd && *hd; hd++) {
		const char *c = strchr(*hd, ':');

		if (!c || c == *hd || !head_safe(*hd, true))
			return -EINVAL;
	}
	if (o->body_len > SIZE_MAX / 2)
		return -E2BIG;
	buf_init(out, MAX_REQUEST_HEAD + (o->body ? o->body_len : 0));
	rc = put(out, method, " ", *u->path == '/' ? "" : "/", u->path, " HTTP/1.1\r\nHost: ",
		 v6 ? "[" : "", u->host, v6 ? "]" : "", ":", u->port,
		 "\r\nUser-Agent: weft\r\nAccept: */*\r\nConnection: close\r\n", NULL);
	if (!rc && o->body) {
		snprintf(len, sizeof(len), "%zu", o->body_len);
		rc = put(out, "Content-Type: ", o->content_type ? o->content_type : "application/json",
			 "\r\nContent-Length: ", len, "\r\n", NULL);
	}
	for (const char *const *hd = o->headers; !rc && hd && *hd; hd++) {
		/* A header without a value ("Expect:") means "don't send it". */
		const char *c = strchr(*hd, ':');

		if (c[1] != '\0')
			rc = put(out, *hd, "\r\n", NULL);
	}
	if (!rc)
		rc = put(out, "\r\n", NULL);
	if (!rc && o->body)
		rc = buf_append(out, o->body, o->body_len);
	if (rc < 0)
		buf_free(out);
	return rc;
}
