// SPDX-License-Identifier: Apache-2.0
/*
 * WireGuard configuration from arbitrary bytes: the cross-platform UAPI
 * text (wg_uapi_parse: what anyone who can open the socket sends;
 * wg_uapi_parse_get_reply) and the kernel's WG_CMD_GET_DEVICE dump
 * (wg_genl_get_parse, the input taken as netlink messages of type
 * FUZZ_FAMILY). Every input goes to all three.
 *
 * Beyond ASan/UBSan: what parses formats back into text that parses again
 * to the same number of peers (format and parse agree), and an error never
 * leaves allocations behind (LeakSanitizer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "nl/build.h"
#include "nl/wg_genl.h"
#include "wg/uapi.h"

#define FUZZ_FAMILY 0x15

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void text(const char *s, size_t len)
{
	struct wg_device_config c, back;
	enum wg_uapi_op op;
	struct err err;
	struct buf out;

	if (wg_uapi_parse(s, len, &op, &c, &err) == 0 && op == WG_UAPI_SET) {
		buf_init(&out, 4 * WG_UAPI_MAX_REQUEST);
		wg_uapi_format_set(&c, &out);
		if (wg_uapi_parse(out.data, out.len, &op, &back, &err) != 0 ||
		    back.n_peers != c.n_peers)
			abort();
		wg_device_config_clear(&back);
		buf_free(&out);
	}
	wg_device_config_clear(&c);
	if (wg_uapi_parse_get_reply(s, len, &c, &err) == 0) {
		buf_init(&out, 4 * WG_UAPI_MAX_REQUEST);
		wg_uapi_format_get(&c, &out);
		if (wg_uapi_parse_get_reply(out.data, out.len, &back, &err) != 0 ||
		    back.n_peers != c.n_peers)
			abort();
		wg_device_config_clear(&back);
		buf_free(&out);
	}
	wg_device_config_clear(&c);
}

static void genl(const uint8_t *data, size_t size)
{
	struct wg_device_config c = {0};
	const struct nlmsghdr *nlh;
	struct err err;
	void *copy;
	size_t len = size;

	/* Aligned, as a received datagram is. */
	copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	for (nlh = copy; nl_msg_ok(nlh, len); nlh = nl_msg_next(nlh, &len))
		if (wg_genl_get_parse(nlh, FUZZ_FAMILY, &c, &err) < 0)
			break;
	wg_device_config_clear(&c);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	text((const char *)data, size);
	genl(data, size);
	return 0;
}
