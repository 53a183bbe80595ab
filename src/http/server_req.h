/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_HTTP_SERVER_REQ_H
#define WEFT_HTTP_SERVER_REQ_H

/*
 * The request-head parser of the health and metrics server (http/server.c),
 * apart from its sockets so that tests and the fuzzer can feed it bytes.
 *
 * A head is found with http_head_end while bytes arrive, then parsed in
 * place with http_head_parse. Rules (RFC 9112, as Go's server applies them):
 * leading empty lines are skipped; "METHOD SP target SP HTTP/d.d", nothing
 * else; the method a token, the target origin-form ('/'...); header names
 * tokens followed by ':'; no obsolete line folding; no NUL anywhere; bare LF
 * line ends accepted; HTTP/1.1 needs a Host header.
 */
#include <stddef.h>

/* Where the search stands; zero it for a new request. */
struct http_head_scan {
	size_t start; /* first byte after any leading empty lines */
	size_t scan;  /* where the search for the end resumes */
};

/*
 * Looks for the end of a request head in buf[0, len); call again with the
 * same scan state each time more bytes arrived (the earlier ones unchanged).
 * Returns the offset just after the empty line ending the head, or 0 while
 * it is incomplete. The head then is buf[scan->start, end).
 */
size_t http_head_end(const char *buf, size_t len, struct http_head_scan *scan);

/* A parsed request line; the strings point into the parsed buffer. */
struct http_head {
	const char *method; /* a token, e.g. "GET" */
	const char *path;   /* starts with '/', the query cut off */
	const char *query;  /* after '?', without it; "" when none */
};

/*
 * Parses the head buf[start, end) that http_head_end found, in place: it
 * writes NULs into buf, and buf[end] must exist (it becomes a NUL). Returns
 * 0, or the status to answer with, 400 (malformed) or 505 (not HTTP/1.x),
 * with *ret_why the response body for it.
 */
int http_head_parse(char *buf, size_t start, size_t end, struct http_head *ret,
		    const char **ret_why);

#endif
