/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_TESTS_LIB_NL_GOLDEN_H
#define WEFT_TESTS_LIB_NL_GOLDEN_H

/*
 * Netlink messages against golden bytes, for C tests: msg() hands out a
 * request in buf (zeroed, as nl_msg_start() and the batch buffer hand them
 * out), check_golden() compares it with an array written with the macros
 * below and dumps both on a difference. Include after cmocka.h, libmnl and
 * nl/build.h.
 */
#include <stdio.h>
#include <string.h>

#define SEQ 0x01020304u

/* Little-endian encodings for the golden arrays (see the byte-order guard in
 * check_golden). */
#define U16(x) (uint8_t)((x) & 0xff), (uint8_t)(((x) >> 8) & 0xff)
#define U32(x) U16((x) & 0xffff), U16(((x) >> 16) & 0xffff)
#define NLA(len, type) U16(len), U16(type)
#define NLMSGHDR(len, type, flags) U32(len), U16(type), U16(flags), U32(SEQ), U32(0)

static uint8_t buf[NL_MSG_MAX] __attribute__((aligned(8)));

static inline struct nlmsghdr *msg(uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = SEQ;
	return nlh;
}

static inline void hexdump(const char *what, const uint8_t *p, size_t len)
{
	fprintf(stderr, "%s (%zu bytes):", what, len);
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", p[i]);
	fprintf(stderr, "\n");
}

static inline void check_golden(const struct nlmsghdr *nlh, const uint8_t *want, size_t len)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (nlh->nlmsg_len != len || memcmp(nlh, want, len) != 0) {
		hexdump("got", (const uint8_t *)nlh, nlh->nlmsg_len);
		hexdump("want", want, len);
		fail_msg("message differs from the golden bytes");
	}
#else
	(void)nlh;
	(void)want;
	(void)len;
#endif
}

#endif
