/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_HTTP_CLIENT_RESP_H
#define WEFT_HTTP_CLIENT_RESP_H

/*
 * HTTP/1.1 response framing for the client (client.c), without I/O: bytes in,
 * split anywhere; status and decoded body bytes out. Every line is bounded
 * (the head and the trailers to HTTP_RESP_MAX_HEAD in all, a chunk-size line
 * to HTTP_RESP_MAX_CHUNK_LINE); framing that is malformed, overflows or is
 * ambiguous is an error with a message, never a guess.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define HTTP_RESP_MAX_HEAD (64u << 10)
#define HTTP_RESP_MAX_CHUNK_LINE 4096u

/* Decoded body bytes. A non-zero return stops the parser at once: feed
 * returns it without touching the parser again (the callback may free it). */
typedef int http_resp_body_cb(void *arg, const char *p, size_t n);

struct http_resp {
	long status;            /* of the final response (1xx ones are skipped) */
	int64_t content_length; /* -1: none given */
	bool chunked;
	/* private */
	bool head_request; /* HEAD: no body, whatever the headers say */
	int state;
	int chunk_end; /* where in the CRLF after chunk data */
	size_t head_len;
	uint64_t remaining;
	struct buf line;
	char errmsg[160];
};

void http_resp_init(struct http_resp *p, bool head_request);
void http_resp_free(struct http_resp *p);

/*
 * Feed n bytes. Returns 0 when more are needed, 1 when the response is
 * complete (bytes after its end are ignored), -EBADMSG with errmsg set for
 * bad framing, or the body callback's non-zero return.
 */
int http_resp_feed(struct http_resp *p, const char *data, size_t n, http_resp_body_cb *cb,
		   void *arg);

/* The peer closed the connection: 1 when that ends the response (a body
 * delimited by the close), else -EIO with errmsg set (truncated). */
int http_resp_eof(struct http_resp *p);

/* True once the status line and headers of the final response were read. */
bool http_resp_head_done(const struct http_resp *p);

#endif
