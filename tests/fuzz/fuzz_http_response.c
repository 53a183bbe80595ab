// SPDX-License-Identifier: Apache-2.0
/*
 * The HTTP client's response parser (src/http/client_resp.c) on arbitrary bytes:
 * never crashes, never yields more body than it was given, and gives the same
 * outcome (result, status, body, error text) whether the bytes arrive at
 * once, one by one, or in pieces of random size, as they do from a socket.
 * The first input byte seeds the pieces (and bit 7 makes it a HEAD request).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/client_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	int rc;
	long status;
	struct buf body;
	char errmsg[sizeof(((struct http_resp *)0)->errmsg)];
};

static int collect(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n);
}

/* mode 0: at once; 1: byte by byte; 2: random pieces of 1..64 bytes. */
static void run(const char *d, size_t n, int mode, uint32_t seed, bool head, struct outcome *o)
{
	struct http_resp p;
	size_t off = 0;

	http_resp_init(&p, head);
	buf_init(&o->body, 1 << 20);
	o->rc = 0;
	while (off < n && o->rc == 0) {
		size_t k = n - off;

		if (mode == 1) {
			k = 1;
		} else if (mode == 2) {
			seed = seed * 1103515245u + 12345u;
			k = 1 + (seed >> 16) % 64;
		}
		if (k > n - off)
			k = n - off;
		o->rc = http_resp_feed(&p, d + off, k, collect, &o->body);
		off += k;
	}
	if (o->rc == 0)
		o->rc = http_resp_eof(&p);
	o->status = p.status;
	memcpy(o->errmsg, p.errmsg, sizeof(o->errmsg));
	http_resp_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome o[3];
	bool head;

	if (size < 1)
		return 0;
	head = data[0] & 0x80;
	for (int m = 0; m < 3; m++)
		run((const char *)data + 1, size - 1, m, data[0], head, &o[m]);
	for (int m = 0; m < 3; m++) {
		if (o[m].body.len > size - 1)
			abort();
		if (o[m].rc < 0 && !o[m].errmsg[0])
			abort();
		if (o[m].rc != 1 && o[m].rc >= 0)
			abort(); /* eof always decides */
		if (o[m].rc != o[0].rc || o[m].body.len != o[0].body.len ||
		    (o[m].body.len && memcmp(o[m].body.data, o[0].body.data, o[0].body.len)) ||
		    strcmp(o[m].errmsg, o[0].errmsg) || (o[m].rc == 1 && o[m].status != o[0].status))
			abort();
		if (o[m].rc == 1 && (o[m].status < 200 || o[m].status > 599))
			abort();
	}
	for (int m = 0; m < 3; m++)
		buf_free(&o[m].body);
	return 0;
}
