// SPDX-License-Identifier: Apache-2.0
/*
 * A policy of an XFRM dump, as the kernel would send it, from arbitrary
 * bytes: nl_xfrm_policy_parse (the backend reconciles what it decodes, and
 * must never take someone else's policy for its own). The input is one
 * netlink message, header included; its length field is taken as given
 * (the parser checks it against the bytes there are).
 *
 * Whatever the bytes: 0 with a policy of one family and prefix lengths in
 * range, or a negative errno with a message; no out-of-bounds access (ASan)
 * or undefined behaviour (UBSan).
 */
#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/ipnet.h"
#include "nl/xfrm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nl_xfrm_policy p;
	struct err err = { 0 };
	struct nlmsghdr *nlh;
	int rc;

	if (size < sizeof(*nlh) || size > 65536)
		return 0;
	nlh = malloc(size); /* aligned, and exactly size bytes for ASan */
	if (!nlh)
		return 0;
	memcpy(nlh, data, size);
	if (nlh->nlmsg_len > size)
		nlh->nlmsg_len = (uint32_t)size;
	rc = nl_xfrm_policy_parse(nlh, &p, &err);
	if (rc == 0) {
		unsigned bits = ip_family_bits(p.src.addr.family);

		if (!bits || p.src.len > bits || p.dst.len > bits ||
		    p.dst.addr.family != p.src.addr.family)
			abort();
		(void)nl_xfrm_policy_is_ours(&p, NL_XFRM_REQID);
	} else if (!err.msg[0]) {
		abort();
	}
	free(nlh);
	return 0;
}
