// SPDX-License-Identifier: Apache-2.0
/*
 * Response framing (RFC 9112): status line, header fields, then a body
 * delimited by Content-Length, chunked coding or the connection's close.
 * Only the fields that decide the framing are looked at. A bare LF ends a
 * line as CRLF does (RFC 9112 2.2); a CR anywhere else is an error.
 */
#include "http/client_resp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/token.h"

enum {
	S_STATUS,     /* the status line */
	S_HEADER,     /* header lines, until an empty one */
	S_BODY_LEN,   /* remaining bytes of a Content-Length body */
	S_BODY_CLOSE, /* everything until the connection closes */
	S_CHUNK_SIZE, /* a chunk-size line */
	S_CHUNK_DATA, /* remaining bytes of a chunk */
	S_CHUNK_END,  /* the CRLF after chunk data */
	S_TRAILER,    /* trailer lines, until an empty one */
	S_DONE,
};

static int fail(struct http_resp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct http_resp *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->errmsg, sizeof(p->errmsg), fmt, ap);
	va_end(ap);
	p->state = S_DONE;
	return -EBADMSG;
}

void http_resp_init(struct http_resp *p, bool head_request)
{
	memset(p, 0, sizeof(*p));
	p->head_request = head_request;
	p->content_length = -1;
	p->state = S_STATUS;
	buf_init(&p->line, HTTP_RESP_MAX_HEAD);
}

void http_resp_free(struct http_resp *p)
{
	buf_free(&p->line);
}

bool http_resp_head_done(const struct http_resp *p)
{
	return p->state > S_HEADER;
}

/*
 * Move input up to and including the next LF into p->line, taking at most
 * limit bytes. Returns 1 when a whole line is there (its CRLF or LF cut
 * off), 0 when all input was taken without one, -E2BIG past the limit.
 */
static int take_line(struct http_resp *p, const char **data, size_t *n, size_t limit)
{
	const char *nl = memchr(*data, '\n', *n);
	size_t k = nl ? (size_t)(nl - *data) + 1 : *n;

	if (k > limit || buf_append(&p->line, *data, k) < 0)
		return -E2BIG;
	*data += k;
	*n -= k;
	if (!nl)
		return 0;
	p->line.len--;
	if (p->line.len && p->line.data[p->line.len - 1] == '\r')
		p->line.len--;
	p->line.data[p->line.len] = '\0';
	return 1;
}

/* No CR, NUL or other control byte but HTAB inside a line. */
static bool line_clean(const struct http_resp *p)
{
	for (size_t i = 0; i < p->line.len; i++) {
		unsigned char c = (unsigned char)p->line.data[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static int parse_status(struct http_resp *p)
{
	const char *s = p->line.data;

	/* HTTP/1.x SP 3DIGIT [SP reason] */
	if (p->line.len < 12 || memcmp(s, "HTTP/1.", 7) || s[7] < '0' || s[7] > '9' ||
	    s[8] != ' ' || !strchr("12345", s[9]) || s[10] < '0' || s[10] > '9' || s[11] < '0' ||
	    s[11] > '9' || (s[12] && s[12] != ' '))
		return fail(p, "malformed HTTP status line");
	p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (p->status == 101)
		return fail(p, "unexpected 101 Switching Protocols");
	p->content_length = -1;
	p->chunked = false;
	p->state = S_HEADER;
	return 0;
}

static char *trim(char *s, size_t *len)
{
	while (*len && (*s == ' ' || *s == '\t')) {
		s++;
		(*len)--;
	}
	while (*len && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
		(*len)--;
	s[*len] = '\0';
	return s;
}

static int content_length(struct http_resp *p, const char *v, size_t len)
{
	int64_t cl = 0;

	if (len == 0)
		return fail(p, "empty Content-Length");
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(p, "malformed Content-Length \"%.32s\"", v);
		if (cl > (INT64_MAX - (v[i] - '0')) / 10)
			return fail(p, "Content-Length %.32s overflows", v);
		cl = cl * 10 + (v[i] - '0');
	}
	if (p->content_length >= 0 && p->content_length != cl)
		return fail(p, "conflicting Content-Length headers (%lld and %lld)",
			    (long long)p->content_length, (long long)cl);
	p->content_length = cl;
	return 0;
}

/* Only "chunked", once, as the last coding: we offer no other (no TE header). */
static int transfer_encoding(struct http_resp *p, char *v)
{
	char *save = NULL;

	for (char *tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(tok);

		tok = trim(tok, &len);
		if (!len)
			continue;
		if (strcasecmp(tok, "chunked"))
			return fail(p, "unsupported Transfer-Encoding \"%.32s\"", tok);
		if (p->chunked)
			return fail(p, "Transfer-Encoding chunked given twice");
		p->chunked = true;
	}
	return 0;
}

static int header_line(struct http_resp *p)
{
	char *line = p->line.data, *colon, *v;
	size_t nlen, vlen;

	if (!line_clean(p))
		return fail(p, "control character in a response header");
	if (*line == ' ' || *line == '\t')
		return fail(p, "obsolete line folding in a response header");
	colon = memchr(line, ':', p->line.len);
	if (!colon || colon == line)
		return fail(p, "malformed response header line");
	nlen = (size_t)(colon - line);
	if (!http_token(line, nlen))
		return fail(p, "malformed response header name");
	*colon = '\0';
	vlen = p->line.len - nlen - 1;
	v = trim(colon + 1, &vlen);
	if (!strcasecmp(line, "Content-Length"))
		return content_length(p, v, vlen);
	if (!strcasecmp(line, "Transfer-Encoding"))
		return transfer_encoding(p, v);
	return 0;
}

/* The empty line after the headers: how the body is delimited. */
static int head_end(struct http_resp *p)
{
	if (p->status < 200) {
		/* An interim response (100 Continue ...): the real one follows. */
		p->state = S_STATUS;
		return 0;
	}
	if (p->head_request || p->status == 204 || p->status == 304) {
		p->state = S_DONE;
		return 1;
	}
	if (p->chunked) {
		/* Chunked wins over Content-Length (RFC 9112 6.3); the
		 * connection closes after this response anyway. */
		p->state = S_CHUNK_SIZE;
		return 0;
	}
	if (p->content_length == 0) {
		p->state = S_DONE;
		return 1;
	}
	if (p->content_length > 0) {
		p->remaining = (uint64_t)p->content_length;
		p->state = S_BODY_LEN;
		return 0;
	}
	p->state = S_BODY_CLOSE;
	return 0;
}

static int chunk_size(struct http_resp *p)
{
	const char *s = p->line.data, *e = s + p->line.len;
	uint64_t size = 0;
	const char *d = s;

	for (; d < e; d++) {
		int v;

		if (*d >= '0' && *d <= '9')
			v = *d - '0';
		else if (*d >= 'a' && *d <= 'f')
			v = *d - 'a' + 10;
		else if (*d >= 'A' && *d <= 'F')
			v = *d - 'A' + 10;
		else
			break;
		if (size > ((uint64_t)INT64_MAX >> 4))
			return fail(p, "chunk size %.24s... overflows", s);
		size = size << 4 | (uint64_t)v;
	}
	if (d == s)
		return fail(p, "malformed chunk size \"%.24s\"", s);
	while (d < e && (*d == ' ' || *d == '\t'))
		d++;
	if (d < e) {
		/* chunk-ext: ";" name["=" value] ...; ignored, but only printable. */
		if (*d != ';')
			return fail(p, "garbage after chunk size \"%.24s\"", s);
		for (; d < e; d++)
			if (((unsigned char)*d < 0x20 && *d != '\t') || *d == 0x7f)
				return fail(p, "control character in a chunk extension");
	}
	p->remaining = size;
	p->state = size ? S_CHUNK_DATA : S_TRAILER;
	if (!size)
		p->head_len = 0; /* the trailers get a budget of their own */
	return 0;
}

static int trailer_line(struct http_resp *p)
{
	if (!line_clean(p) || !memchr(p->line.data, ':', p->line.len) ||
	    p->line.data[0] == ' ' || p->line.data[0] == '\t')
		return fail(p, "malformed trailer line");
	return 0;
}

/* One step on a line-based state; *n > 0. */
static int line_step(struct http_resp *p, const char **data, size_t *n)
{
	size_t limit, n0 = *n;
	int rc;

	if (p->state == S_CHUNK_SIZE)
		limit = HTTP_RESP_MAX_CHUNK_LINE - p->line.len;
	else
		limit = HTTP_RESP_MAX_HEAD - p->head_len;
	rc = take_line(p, data, n, limit);
	if (rc == -E2BIG) {
		if (p->state == S_CHUNK_SIZE)
			return fail(p, "chunk size line longer than %u bytes",
				    HTTP_RESP_MAX_CHUNK_LINE);
		return fail(p, "response %s larger than %u bytes",
			    p->state == S_TRAILER ? "trailers" : "head", HTTP_RESP_MAX_HEAD);
	}
	if (p->state != S_CHUNK_SIZE)
		p->head_len += n0 - *n;
	if (rc == 0)
		return 0;
	switch (p->state) {
	case S_STATUS:
		rc = parse_status(p);
		break;
	case S_HEADER:
		rc = p->line.len ? header_line(p) : head_end(p);
		break;
	case S_CHUNK_SIZE:
		rc = chunk_size(p);
		break;
	default: /* S_TRAILER */
		if (p->line.len) {
			rc = trailer_line(p);
		} else {
			p->state = S_DONE;
			rc = 1;
		}
		break;
	}
	buf_reset(&p->line);
	return rc;
}

int http_resp_feed(struct http_resp *p, const char *data, size_t n, http_resp_body_cb *cb,
		   void *arg)
{
	int rc;

	while (n > 0) {
		switch (p->state) {
		case S_DONE:
			return 1;
		case S_BODY_LEN:
		case S_CHUNK_DATA: {
			size_t take = n < p->remaining ? n : (size_t)p->remaining;

			p->remaining -= take;
			if (p->remaining == 0)
				p->state = p->state == S_BODY_LEN ? S_DONE : S_CHUNK_END;
			/* Nothing of p is touched after the callback. */
			if (p->state == S_DONE)
				return (rc = cb(arg, data, take)) ? rc : 1;
			rc = cb(arg, data, take);
			if (rc)
				return rc;
			data += take;
			n -= take;
			break;
		}
		case S_BODY_CLOSE:
			return cb(arg, data, n);
		case S_CHUNK_END:
			if (*data == '\r' && p->chunk_end == 0) {
				p->chunk_end = 1;
			} else if (*data == '\n') {
				p->chunk_end = 0;
				p->state = S_CHUNK_SIZE;
			} else {
				return fail(p, "missing CRLF after chunk data");
			}
			data++;
			n--;
			break;
		default:
			rc = line_step(p, &data, &n);
			if (rc)
				return rc;
			break;
		}
	}
	return p->state == S_DONE ? 1 : 0;
}

int http_resp_eof(struct http_resp *p)
{
	switch (p->state) {
	case S_BODY_CLOSE:
	case S_DONE:
		p->state = S_DONE;
		return 1;
	case S_STATUS:
		if (p->line.len == 0 && p->status == 0) {
			snprintf(p->errmsg, sizeof(p->errmsg), "connection closed before a response");
			return -EIO;
		}
		break;
	default:
		break;
	}
	snprintf(p->errmsg, sizeof(p->errmsg), "connection closed before the end of the response");
	return -EIO;
}
