// SPDX-License-Identifier: Apache-2.0
/*
 * nl/xfrm without a kernel: every message weft sends read back field by
 * field through the linux/xfrm.h structs (xfrm_userpolicy_info,
 * xfrm_user_tmpl, xfrm_userpolicy_id, xfrm_usersa_info, xfrm_usersa_id,
 * the algorithm structs); policy dump messages built here as the kernel
 * builds them (dump_one_policy: the info, XFRMA_TMPL, XFRMA_POLICY_TYPE,
 * a mark when set) decoded, with the malformed ones refused cleanly; and
 * the dump and the ESP probe run against a fake kernel (nl_set_io) that
 * answers each request with a chosen error code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../lib/ip_check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/ipnet.h"
#include "nl/build.h"
#include "nl/nl.h"
#include "nl/xfrm.h"

#define SEQ 0x01020304u

static uint8_t buf[NL_MSG_MAX] __attribute__((aligned(8)));

static struct nlmsghdr *msg(uint16_t type)
{
	struct nlmsghdr *nlh;

	/* Zeroed, as nl_msg_start() hands it out. */
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = SEQ;
	return nlh;
}

/* The 4 or 16 bytes of s as an xfrm_address_t (rest zero). */
static xfrm_address_t xaddr(const char *s)
{
	xfrm_address_t x;

	memset(&x, 0, sizeof(x));
	assert_int_equal(inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, &x), 1);
	return x;
}

#define assert_xaddr(x, s)                                                                         \
	do {                                                                                       \
		xfrm_address_t want_ = xaddr(s);                                                   \
		assert_memory_equal(&(x), &want_, sizeof(want_));                                  \
	} while (0)

static void assert_no_limits(const struct xfrm_lifetime_cfg *l)
{
	assert_true(l->soft_byte_limit == XFRM_INF);
	assert_true(l->hard_byte_limit == XFRM_INF);
	assert_true(l->soft_packet_limit == XFRM_INF);
	assert_true(l->hard_packet_limit == XFRM_INF);
	assert_true(l->soft_add_expires_seconds == 0);
	assert_true(l->soft_use_expires_seconds == 0);
	assert_true(l->hard_use_expires_seconds == 0);
}

/* The attribute after the family header, which must be the message's only
 * or first one. */
static const struct nlattr *first_attr(const struct nlmsghdr *nlh, size_t hdrlen)
{
	return (const struct nlattr *)((const uint8_t *)mnl_nlmsg_get_payload(nlh) +
				       NLMSG_ALIGN(hdrlen));
}

static const struct nlattr *next_attr(const struct nlattr *a)
{
	return (const struct nlattr *)((const uint8_t *)a + NLA_ALIGN(a->nla_len));
}

static const uint8_t *msg_end(const struct nlmsghdr *nlh)
{
	return (const uint8_t *)nlh + nlh->nlmsg_len;
}

/* ---- the peer's three policies ---- */

static struct nl_xfrm_policy peer[NL_XFRM_PEER_POLICIES];

static void peer_v4(void)
{
	struct ip_prefix ours = prefix("10.244.1.0/24"), theirs = prefix("10.244.2.0/24");
	struct ip_addr our_ip = addr("192.168.50.1"), peer_ip = addr("192.168.50.2");

	assert_int_equal(
		nl_xfrm_peer_policies(&ours, &our_ip, &theirs, &peer_ip, NL_XFRM_REQID, peer), 0);
}

static void check_policy(const struct nl_xfrm_policy *p, uint8_t dir, const char *src,
			 const char *dst, const char *tsrc, const char *tdst)
{
	struct ip_prefix s = prefix(src), d = prefix(dst);
	struct ip_addr ts = addr(tsrc), td = addr(tdst);

	assert_int_equal(p->dir, dir);
	assert_true(ip_prefix_equal(&p->src, &s));
	assert_true(ip_prefix_equal(&p->dst, &d));
	assert_true(ip_addr_equal(&p->tmpl_src, &ts));
	assert_true(ip_addr_equal(&p->tmpl_dst, &td));
	assert_int_equal(p->tmpl_src.family, ts.family);
	assert_int_equal(p->reqid, NL_XFRM_REQID);
	assert_int_equal(p->priority, 0);
}

static void test_peer_policies(void **state)
{
	struct ip_prefix ours = prefix("10.244.1.0/24"), theirs = prefix("10.244.2.0/24");
	struct ip_prefix v6 = prefix("fd00:1::/64"), host_bits = prefix("10.244.2.0/24");
	struct ip_addr our_ip = addr("192.168.50.1"), peer_ip = addr("192.168.50.2");
	struct ip_addr v6ip = addr("fd00::2"), unset = {0};
	struct nl_xfrm_policy p[NL_XFRM_PEER_POLICIES];

	(void)state;
	peer_v4();
	check_policy(&peer[0], NL_XFRM_OUT, "10.244.1.0/24", "10.244.2.0/24", "192.168.50.1",
		     "192.168.50.2");
	check_policy(&peer[1], NL_XFRM_IN, "10.244.2.0/24", "10.244.1.0/24", "192.168.50.2",
		     "192.168.50.1");
	check_policy(&peer[2], NL_XFRM_FWD, "10.244.2.0/24", "10.244.1.0/24", "192.168.50.2",
		     "192.168.50.1");
	assert_int_equal(nl_xfrm_peer_policies(&ours, &our_ip, &theirs, &peer_ip, 77, p), 0);
	assert_int_equal(p[0].reqid, 77);
	assert_int_equal(p[2].reqid, 77);

	/* Families mixed, an address missing, a subnet with host bits. */
	assert_int_equal(nl_xfrm_peer_policies(&ours, &our_ip, &v6, &peer_ip, 11, p), -EINVAL);
	assert_int_equal(nl_xfrm_peer_policies(&ours, &our_ip, &theirs, &v6ip, 11, p), -EINVAL);
	assert_int_equal(nl_xfrm_peer_policies(&ours, &unset, &theirs, &peer_ip, 11, p), -EINVAL);
	host_bits.addr.b[3] = 5;
	assert_int_equal(nl_xfrm_peer_policies(&ours, &our_ip, &host_bits, &peer_ip, 11, p),
			 -EINVAL);
}

/* ---- XFRM_MSG_UPDPOLICY ---- */

static void check_policy_msg(const struct nlmsghdr *nlh, uint8_t dir, const char *src,
			     const char *dst, uint8_t plen, const char *tsrc, const char *tdst,
			     uint16_t family)
{
	const struct xfrm_userpolicy_info *info = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a = first_attr(nlh, sizeof(*info));
	const struct xfrm_user_tmpl *t = mnl_attr_get_payload(a);
	struct xfrm_selector sel;

	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_UPDPOLICY);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_len, NLMSG_HDRLEN + sizeof(*info) + NLA_HDRLEN + sizeof(*t));

	/* The selector whole, padding included: the kernel compares it so
	 * when it looks a policy up by selector. */
	memset(&sel, 0, sizeof(sel));
	sel.saddr = xaddr(src);
	sel.daddr = xaddr(dst);
	sel.prefixlen_s = plen;
	sel.prefixlen_d = plen;
	sel.family = family;
	assert_memory_equal(&info->sel, &sel, sizeof(sel));
	assert_xaddr(info->sel.saddr, src);
	assert_xaddr(info->sel.daddr, dst);
	assert_int_equal(info->sel.family, family);
	assert_int_equal(info->sel.prefixlen_s, plen);
	assert_int_equal(info->sel.prefixlen_d, plen);
	assert_int_equal(info->sel.proto, 0);
	assert_int_equal(info->sel.ifindex, 0);

	assert_no_limits(&info->lft);
	assert_true(info->lft.hard_add_expires_seconds == 0);
	assert_true(info->curlft.bytes == 0 && info->curlft.add_time == 0);
	assert_int_equal(info->priority, 0);
	assert_int_equal(info->index, 0);
	assert_int_equal(info->dir, dir);
	assert_int_equal(info->action, XFRM_POLICY_ALLOW);
	assert_int_equal(info->flags, 0);
	assert_int_equal(info->share, XFRM_SHARE_ANY);

	/* One template, and nothing after it. */
	assert_int_equal(mnl_attr_get_type(a), XFRMA_TMPL);
	assert_int_equal(mnl_attr_get_payload_len(a), sizeof(struct xfrm_user_tmpl));
	assert_ptr_equal(next_attr(a), msg_end(nlh));
	assert_xaddr(t->id.daddr, tdst);
	assert_int_equal(t->id.spi, 0);
	assert_int_equal(t->id.proto, IPPROTO_ESP);
	assert_int_equal(t->family, family);
	assert_xaddr(t->saddr, tsrc);
	assert_int_equal(t->reqid, NL_XFRM_REQID);
	assert_int_equal(t->mode, XFRM_MODE_TUNNEL);
	assert_int_equal(t->share, XFRM_SHARE_ANY);
	assert_int_equal(t->optional, 0);
	assert_int_equal(t->aalgos, 0xffffffffu);
	assert_int_equal(t->ealgos, 0xffffffffu);
	assert_int_equal(t->calgos, 0xffffffffu);
}

static void test_policy_build(void **state)
{
	static const uint8_t dirs[] = {NL_XFRM_OUT, NL_XFRM_IN, NL_XFRM_FWD};
	struct ip_prefix ours = prefix("fd00:1::/64"), theirs = prefix("fd00:2::/64");
	struct ip_addr our_ip = addr("2001:db8::1"), peer_ip = addr("2001:db8::2");
	struct nl_xfrm_policy p, v6[NL_XFRM_PEER_POLICIES];
	struct nlmsghdr *nlh;

	(void)state;
	peer_v4();
	for (int i = 0; i < NL_XFRM_PEER_POLICIES; i++) {
		bool out = dirs[i] == NL_XFRM_OUT;

		nlh = msg(XFRM_MSG_UPDPOLICY);
		assert_int_equal(nl_xfrm_policy_build(nlh, sizeof(buf), &peer[i]), 0);
		check_policy_msg(nlh, dirs[i], out ? "10.244.1.0" : "10.244.2.0",
				 out ? "10.244.2.0" : "10.244.1.0", 24,
				 out ? "192.168.50.1" : "192.168.50.2",
				 out ? "192.168.50.2" : "192.168.50.1", AF_INET);
	}

	/* The priority goes where the kernel reads it. */
	p = peer[0];
	p.priority = 0x01020304;
	nlh = msg(XFRM_MSG_UPDPOLICY);
	assert_int_equal(nl_xfrm_policy_build(nlh, sizeof(buf), &p), 0);
	assert_int_equal(
		((const struct xfrm_userpolicy_info *)mnl_nlmsg_get_payload(nlh))->priority,
		0x01020304);

	/* IPv6: the same layout with 16-byte addresses. */
	assert_int_equal(
		nl_xfrm_peer_policies(&ours, &our_ip, &theirs, &peer_ip, NL_XFRM_REQID, v6), 0);
	nlh = msg(XFRM_MSG_UPDPOLICY);
	assert_int_equal(nl_xfrm_policy_build(nlh, sizeof(buf), &v6[0]), 0);
	check_policy_msg(nlh, NL_XFRM_OUT, "fd00:1::", "fd00:2::", 64, "2001:db8::1", "2001:db8::2",
			 AF_INET6);

	/* Refused: a direction the kernel does not know, a template of
	 * another family, a prefix longer than the address. */
	p = peer[0];
	p.dir = 3;
	assert_int_equal(nl_xfrm_policy_build(msg(XFRM_MSG_UPDPOLICY), sizeof(buf), &p), -EINVAL);
	p = peer[0];
	p.tmpl_dst = peer_ip;
	assert_int_equal(nl_xfrm_policy_build(msg(XFRM_MSG_UPDPOLICY), sizeof(buf), &p), -EINVAL);
	p = peer[0];
	p.dst.len = 33;
	assert_int_equal(nl_xfrm_policy_build(msg(XFRM_MSG_UPDPOLICY), sizeof(buf), &p), -EINVAL);
	p = peer[0];
	p.dst.addr.b[3] = 1; /* 10.244.2.1/24 */
	assert_int_equal(nl_xfrm_policy_build(msg(XFRM_MSG_UPDPOLICY), sizeof(buf), &p), -EINVAL);

	/* Too little room: for the header, then for the template. */
	assert_int_equal(
		nl_xfrm_policy_build(msg(XFRM_MSG_UPDPOLICY), NLMSG_HDRLEN + 100, &peer[0]),
		-EMSGSIZE);
	assert_int_equal(nl_xfrm_policy_build(
				 msg(XFRM_MSG_UPDPOLICY),
				 NLMSG_HDRLEN + sizeof(struct xfrm_userpolicy_info) + 60, &peer[0]),
			 -EMSGSIZE);
}

/* ---- XFRM_MSG_DELPOLICY ---- */

static void test_policy_del_build(void **state)
{
	const struct xfrm_userpolicy_id *id;
	struct nl_xfrm_policy p;
	struct xfrm_selector sel;
	struct nlmsghdr *nlh;

	(void)state;
	peer_v4();
	nlh = msg(XFRM_MSG_DELPOLICY);
	assert_int_equal(nl_xfrm_policy_del_build(nlh, sizeof(buf), &peer[2]), 0);
	id = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_len, NLMSG_HDRLEN + sizeof(*id));
	memset(&sel, 0, sizeof(sel));
	sel.saddr = xaddr("10.244.2.0");
	sel.daddr = xaddr("10.244.1.0");
	sel.prefixlen_s = 24;
	sel.prefixlen_d = 24;
	sel.family = AF_INET;
	assert_memory_equal(&id->sel, &sel, sizeof(sel));
	assert_int_equal(id->index, 0);
	assert_int_equal(id->dir, NL_XFRM_FWD);

	/* Only direction and selector matter: no template needed. */
	p = peer[0];
	memset(&p.tmpl_src, 0, sizeof(p.tmpl_src));
	memset(&p.tmpl_dst, 0, sizeof(p.tmpl_dst));
	nlh = msg(XFRM_MSG_DELPOLICY);
	assert_int_equal(nl_xfrm_policy_del_build(nlh, sizeof(buf), &p), 0);
	id = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(id->dir, NL_XFRM_OUT);
	assert_xaddr(id->sel.saddr, "10.244.1.0");

	/* A selector with host bits (someone else's, dumped) goes out as
	 * it is: the kernel finds a policy by the same bytes only. */
	p = peer[1];
	p.src.addr.b[3] = 7;
	nlh = msg(XFRM_MSG_DELPOLICY);
	assert_int_equal(nl_xfrm_policy_del_build(nlh, sizeof(buf), &p), 0);
	id = mnl_nlmsg_get_payload(nlh);
	assert_xaddr(id->sel.saddr, "10.244.2.7");
	assert_int_equal(id->sel.prefixlen_s, 24);

	p.dir = 5;
	assert_int_equal(nl_xfrm_policy_del_build(msg(XFRM_MSG_DELPOLICY), sizeof(buf), &p),
			 -EINVAL);
	p = peer[0];
	p.src.addr.family = 0;
	assert_int_equal(nl_xfrm_policy_del_build(msg(XFRM_MSG_DELPOLICY), sizeof(buf), &p),
			 -EINVAL);
	assert_int_equal(
		nl_xfrm_policy_del_build(msg(XFRM_MSG_DELPOLICY), NLMSG_HDRLEN + 32, &peer[0]),
		-EMSGSIZE);
}

/* ---- the probe's SA ---- */

static struct nl_xfrm_probe_sa probe_sa(enum nl_xfrm_probe_alg alg)
{
	struct nl_xfrm_probe_sa sa = {.spi = 0xdeadbeef, .alg = alg, .lifetime_s = 30};

	sa.src = addr("192.0.2.1");
	sa.dst = addr("192.0.2.2");
	for (int i = 0; i < NL_XFRM_PROBE_KEY_MAX; i++)
		sa.key[i] = (uint8_t)(0xa0 + i);
	return sa;
}

static void check_sa_info(const struct nlmsghdr *nlh)
{
	const struct xfrm_usersa_info *info = mnl_nlmsg_get_payload(nlh);

	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_NEWSA);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(info->sel.family, AF_INET);
	assert_int_equal(info->sel.prefixlen_s, 0);
	assert_int_equal(info->sel.prefixlen_d, 0);
	assert_xaddr(info->sel.saddr, "0.0.0.0");
	assert_xaddr(info->id.daddr, "192.0.2.2");
	assert_int_equal(info->id.spi, htonl(0xdeadbeef));
	assert_int_equal(info->id.proto, IPPROTO_ESP);
	assert_xaddr(info->saddr, "192.0.2.1");
	assert_no_limits(&info->lft);
	assert_true(info->lft.hard_add_expires_seconds == 30);
	assert_true(info->curlft.bytes == 0);
	assert_int_equal(info->seq, 0);
	assert_int_equal(info->reqid, 0);
	assert_int_equal(info->family, AF_INET);
	assert_int_equal(info->mode, XFRM_MODE_TUNNEL);
	assert_int_equal(info->replay_window, 0);
	assert_int_equal(info->flags, 0);
}

/* alg_name is NUL-padded to its 64 bytes. */
static void check_alg_name(const char *got, const char *want)
{
	char name[64] = {0};

	memcpy(name, want, strlen(want));
	assert_memory_equal(got, name, sizeof(name));
}

static void test_probe_sa_build(void **state)
{
	struct nl_xfrm_probe_sa sa = probe_sa(NL_XFRM_PROBE_GCM);
	const struct xfrm_algo_aead *aead;
	const struct xfrm_algo *crypt;
	const struct xfrm_algo_auth *auth;
	const struct nlattr *a;
	struct nlmsghdr *nlh;

	(void)state;
	/* rfc4106(gcm(aes)): 16 key bytes and a 4-byte salt, ICV 128 bits
	 * (336 bytes in all, as `ip xfrm state add ... aead` sends). */
	nlh = msg(XFRM_MSG_NEWSA);
	assert_int_equal(nl_xfrm_probe_sa_build(nlh, sizeof(buf), &sa), 0);
	check_sa_info(nlh);
	a = first_attr(nlh, sizeof(struct xfrm_usersa_info));
	assert_int_equal(mnl_attr_get_type(a), XFRMA_ALG_AEAD);
	assert_int_equal(mnl_attr_get_payload_len(a), sizeof(struct xfrm_algo_aead) + 20);
	assert_ptr_equal(next_attr(a), msg_end(nlh));
	assert_int_equal(nlh->nlmsg_len, 336);
	aead = mnl_attr_get_payload(a);
	check_alg_name(aead->alg_name, "rfc4106(gcm(aes))");
	assert_int_equal(aead->alg_key_len, 160);
	assert_int_equal(aead->alg_icv_len, 128);
	assert_memory_equal(aead->alg_key, sa.key, 20);

	/* cbc(aes) 128 and hmac(sha256) 256 truncated to 128 (RFC 4868). */
	sa = probe_sa(NL_XFRM_PROBE_CBC_HMAC);
	nlh = msg(XFRM_MSG_NEWSA);
	assert_int_equal(nl_xfrm_probe_sa_build(nlh, sizeof(buf), &sa), 0);
	check_sa_info(nlh);
	a = first_attr(nlh, sizeof(struct xfrm_usersa_info));
	assert_int_equal(mnl_attr_get_type(a), XFRMA_ALG_CRYPT);
	assert_int_equal(mnl_attr_get_payload_len(a), sizeof(struct xfrm_algo) + 16);
	crypt = mnl_attr_get_payload(a);
	check_alg_name(crypt->alg_name, "cbc(aes)");
	assert_int_equal(crypt->alg_key_len, 128);
	assert_memory_equal(crypt->alg_key, sa.key, 16);
	a = next_attr(a);
	assert_int_equal(mnl_attr_get_type(a), XFRMA_ALG_AUTH_TRUNC);
	assert_int_equal(mnl_attr_get_payload_len(a), sizeof(struct xfrm_algo_auth) + 32);
	assert_ptr_equal(next_attr(a), msg_end(nlh));
	auth = mnl_attr_get_payload(a);
	check_alg_name(auth->alg_name, "hmac(sha256)");
	assert_int_equal(auth->alg_key_len, 256);
	assert_int_equal(auth->alg_trunc_len, 128);
	assert_memory_equal(auth->alg_key, sa.key + 16, 32);

	/* Refused: a reserved SPI, IPv6, an unknown suite; no room. */
	sa.spi = 255;
	assert_int_equal(nl_xfrm_probe_sa_build(msg(XFRM_MSG_NEWSA), sizeof(buf), &sa), -EINVAL);
	sa = probe_sa(NL_XFRM_PROBE_GCM);
	sa.dst = addr("2001:db8::2");
	assert_int_equal(nl_xfrm_probe_sa_build(msg(XFRM_MSG_NEWSA), sizeof(buf), &sa), -EINVAL);
	sa = probe_sa((enum nl_xfrm_probe_alg)7);
	assert_int_equal(nl_xfrm_probe_sa_build(msg(XFRM_MSG_NEWSA), sizeof(buf), &sa), -EINVAL);
	sa = probe_sa(NL_XFRM_PROBE_GCM);
	assert_int_equal(nl_xfrm_probe_sa_build(msg(XFRM_MSG_NEWSA), 300, &sa), -EMSGSIZE);
	assert_int_equal(nl_xfrm_probe_sa_build(msg(XFRM_MSG_NEWSA), 200, &sa), -EMSGSIZE);
}

static void test_sa_del_build(void **state)
{
	struct ip_addr dst = addr("192.0.2.2");
	const struct xfrm_usersa_id *id;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = msg(XFRM_MSG_DELSA);
	assert_int_equal(nl_xfrm_sa_del_build(nlh, sizeof(buf), &dst, 0x1234abcd), 0);
	assert_int_equal(nlh->nlmsg_len, NLMSG_HDRLEN + sizeof(*id));
	id = mnl_nlmsg_get_payload(nlh);
	assert_xaddr(id->daddr, "192.0.2.2");
	assert_int_equal(id->spi, htonl(0x1234abcd));
	assert_int_equal(id->family, AF_INET);
	assert_int_equal(id->proto, IPPROTO_ESP);

	memset(&dst, 0, sizeof(dst));
	assert_int_equal(nl_xfrm_sa_del_build(msg(XFRM_MSG_DELSA), sizeof(buf), &dst, 0x1234abcd),
			 -EINVAL);
}

/* ---- decoding dump messages built as the kernel builds them ---- */

static uint8_t kbuf[4096] __attribute__((aligned(8)));

/* A dumped policy: the info with the kernel's index, no templates yet. */
static struct nlmsghdr *kpolicy(uint8_t *at, const char *src, const char *dst, uint8_t plen,
				uint8_t dir)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(at);
	struct xfrm_userpolicy_info info;

	memset(&info, 0, sizeof(info));
	info.sel.saddr = xaddr(src);
	info.sel.daddr = xaddr(dst);
	info.sel.prefixlen_s = plen;
	info.sel.prefixlen_d = plen;
	info.sel.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	info.lft.soft_byte_limit = XFRM_INF;
	info.lft.hard_byte_limit = XFRM_INF;
	info.lft.soft_packet_limit = XFRM_INF;
	info.lft.hard_packet_limit = XFRM_INF;
	info.index = 0x100 + dir + 8;
	info.dir = dir;
	nlh->nlmsg_type = XFRM_MSG_NEWPOLICY;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = SEQ;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(info)), &info, sizeof(info));
	return nlh;
}

static struct xfrm_user_tmpl ktmpl(const char *src, const char *dst, uint8_t proto, uint8_t mode,
				   uint32_t reqid)
{
	struct xfrm_user_tmpl t;

	memset(&t, 0, sizeof(t));
	t.id.daddr = xaddr(dst);
	t.id.proto = proto;
	t.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	t.saddr = xaddr(src);
	t.reqid = reqid;
	t.mode = mode;
	t.aalgos = ~0u;
	t.ealgos = ~0u;
	t.calgos = ~0u;
	return t;
}

/* What dump_one_policy adds after the templates (CONFIG_XFRM_SUB_POLICY). */
static void kptype(struct nlmsghdr *nlh, uint8_t type)
{
	struct xfrm_userpolicy_type t;

	memset(&t, 0, sizeof(t));
	t.type = type;
	mnl_attr_put(nlh, XFRMA_POLICY_TYPE, sizeof(t), &t);
}

/* Ours as the kernel dumps it, but for XFRMA_POLICY_TYPE: the out policy
 * of peer[0]. */
static struct nlmsghdr *kours_untyped(void)
{
	struct nlmsghdr *nlh;
	struct xfrm_user_tmpl t =
		ktmpl("192.168.50.1", "192.168.50.2", IPPROTO_ESP, XFRM_MODE_TUNNEL, NL_XFRM_REQID);

	memset(kbuf, 0, sizeof(kbuf));
	nlh = kpolicy(kbuf, "10.244.1.0", "10.244.2.0", 24, XFRM_POLICY_OUT);
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
	return nlh;
}

/* Ours as the kernel dumps it. */
static struct nlmsghdr *kours(void)
{
	struct nlmsghdr *nlh = kours_untyped();

	kptype(nlh, XFRM_POLICY_TYPE_MAIN);
	return nlh;
}

static struct nl_xfrm_policy parse_ok(const struct nlmsghdr *nlh)
{
	struct nl_xfrm_policy p;
	struct err e = {""};

	memset(&p, 0xee, sizeof(p));
	if (nl_xfrm_policy_parse(nlh, &p, &e) != 0)
		fail_msg("parse: %s", e.msg);
	return p;
}

static void parse_fails(const struct nlmsghdr *nlh, int code, const char *msgpart)
{
	struct nl_xfrm_policy p;
	struct err e = {""};
	int ret;

	memset(&p, 0xee, sizeof(p));
	ret = nl_xfrm_policy_parse(nlh, &p, &e);
	if (ret != code)
		fail_msg("\"%s\" case: %d, expected %d (%s)", msgpart, ret, code, e.msg);
	if (!strstr(e.msg, msgpart))
		fail_msg("error \"%s\" lacks \"%s\"", e.msg, msgpart);
	/* Nothing was handed out. */
	assert_int_equal(((uint8_t *)&p)[0], 0xee);
	assert_int_equal(nl_xfrm_policy_parse(nlh, &p, NULL), code);
}

static void test_parse_ours(void **state)
{
	struct nl_xfrm_policy p;
	struct nlmsghdr *nlh;

	(void)state;
	peer_v4();
	p = parse_ok(kours());
	check_policy(&p, NL_XFRM_OUT, "10.244.1.0/24", "10.244.2.0/24", "192.168.50.1",
		     "192.168.50.2");
	assert_int_equal(p.index, 0x100 + XFRM_POLICY_OUT + 8);
	assert_int_equal(p.ntmpl, 1);
	assert_true(p.esp_tunnel);
	assert_false(p.extra);
	assert_true(nl_xfrm_policy_is_ours(&p, NL_XFRM_REQID));
	assert_false(nl_xfrm_policy_is_ours(&p, 12));
	assert_true(nl_xfrm_policy_same(&p, &peer[0]));
	assert_false(nl_xfrm_policy_same(&p, &peer[1]));
	p.priority = 1;
	assert_false(nl_xfrm_policy_same(&p, &peer[0]));

	/* A zero mark is no mark; attributes we do not know are skipped,
	 * also an unpadded last one. */
	nlh = kours();
	mnl_attr_put(nlh, XFRMA_MARK, sizeof(struct xfrm_mark), &(struct xfrm_mark){0, 0});
	mnl_attr_put_u32(nlh, XFRMA_IF_ID, 0);
	mnl_attr_put_u8(nlh, 200, 1);
	nlh->nlmsg_len -= 3;
	p = parse_ok(nlh);
	assert_true(nl_xfrm_policy_same(&p, &peer[0]));

	/* A notification (UPDPOLICY) reads the same. */
	nlh = kours();
	nlh->nlmsg_type = XFRM_MSG_UPDPOLICY;
	p = parse_ok(nlh);
	assert_true(nl_xfrm_policy_same(&p, &peer[0]));
}

/* What nl_xfrm_policy_build sends, turned into a dump message, decodes to
 * what it was built from: for each of the peer's three. */
static void test_parse_round_trip(void **state)
{
	struct nl_xfrm_policy p;
	struct nlmsghdr *nlh;

	(void)state;
	peer_v4();
	for (int i = 0; i < NL_XFRM_PEER_POLICIES; i++) {
		nlh = msg(XFRM_MSG_UPDPOLICY);
		assert_int_equal(nl_xfrm_policy_build(nlh, sizeof(buf), &peer[i]), 0);
		nlh->nlmsg_type = XFRM_MSG_NEWPOLICY;
		p = parse_ok(nlh);
		assert_true(nl_xfrm_policy_same(&p, &peer[i]));
		assert_true(nl_xfrm_policy_is_ours(&p, NL_XFRM_REQID));
	}
}

static void test_parse_templates(void **state)
{
	struct xfrm_user_tmpl t[2];
	struct nl_xfrm_policy p;
	struct nlmsghdr *nlh;

	(void)state;
	/* No template at all (a plain allow policy), and an empty XFRMA_TMPL. */
	memset(kbuf, 0, sizeof(kbuf));
	nlh = kpolicy(kbuf, "10.1.0.0", "10.2.0.0", 16, XFRM_POLICY_IN);
	kptype(nlh, XFRM_POLICY_TYPE_MAIN);
	p = parse_ok(nlh);
	assert_int_equal(p.ntmpl, 0);
	assert_false(p.esp_tunnel);
	assert_int_equal(p.tmpl_src.family, 0);
	assert_int_equal(p.src.len, 16);
	assert_false(nl_xfrm_policy_is_ours(&p, NL_XFRM_REQID));

	memset(kbuf, 0, sizeof(kbuf));
	nlh = kpolicy(kbuf, "10.1.0.0", "10.2.0.0", 16, XFRM_POLICY_IN);
	mnl_attr_put(nlh, XFRMA_TMPL, 0, kbuf);
	p = parse_ok(nlh);
	assert_int_equal(p.ntmpl, 0);
	assert_false(nl_xfrm_policy_is_ours(&p, NL_XFRM_REQID));

	/* Two templates (ESP and IPcomp): the first one's fields, not ours. */
	t[0] = ktmpl("192.168.50.2", "192.168.50.1", IPPROTO_ESP, XFRM_MODE_TUNNEL, NL_XFRM_REQID);
	t[1] = ktmpl("192.168.50.2", "192.168.50.1", IPPROTO_COMP, XFRM_MODE_TRANSPORT, 5);
	memset(kbuf, 0, sizeof(kbuf));
	nlh = kpolicy(kbuf, "10.244.2.0", "10.244.1.0", 24, XFRM_POLICY_FWD);
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), t);
	kptype(nlh, XFRM_POLICY_TYPE_MAIN);
	p = parse_ok(nlh);
	assert_int_equal(p.ntmpl, 2);
	assert_true(p.esp_tunnel);
	assert_int_equal(p.reqid, NL_XFRM_REQID);
	check_policy(&p, NL_XFRM_FWD, "10.244.2.0/24", "10.244.1.0/24", "192.168.50.2",
		     "192.168.50.1");
	assert_false(nl_xfrm_policy_is_ours(&p, NL_XFRM_REQID));

	/* Someone else's: another reqid; transport mode; AH. */
	for (int i = 0; i < 3; i++) {
		t[0] = ktmpl("192.168.50.1", "192.168.50.2", i == 2 ? IPPROTO_AH : IPPROTO_ESP,
			     i == 1 ? XFRM_MODE_TRANSPORT : XFRM_MODE_TUNNEL,
			     i == 0 ? 12 : NL_XFRM_REQID);
		memset(kbuf, 0, sizeof(kbuf));
		nlh = kpolicy(kbuf, "10.244.1.0", "10.244.2.0", 24, XFRM_POLICY_OUT);
		mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t[0]), &t[0]);
		p = parse_ok(nlh);
		assert_int_equal(p.ntmpl, 1);
		assert_int_equal(p.esp_tunnel, i == 0);
		assert_false(p.extra);
		assert_false(nl_xfrm_policy_is_ours(&p, NL_XFRM_REQID));
	}

	/* A template family of zero stands for the policy's. */
	t[0] = ktmpl("192.168.50.1", "192.168.50.2", IPPROTO_ESP, XFRM_MODE_TUNNEL, NL_XFRM_REQID);
	t[0].family = 0;
	memset(kbuf, 0, sizeof(kbuf));
	nlh = kpolicy(kbuf, "10.244.1.0", "10.244.2.0", 24, XFRM_POLICY_OUT);
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t[0]), &t[0]);
	p = parse_ok(nlh);
	assert_int_equal(p.tmpl_src.family, AF_INET);
	assert_true(nl_xfrm_policy_is_ours(&p, NL_XFRM_REQID));
}

static void test_parse_ipv6(void **state)
{
	struct xfrm_user_tmpl t =
		ktmpl("2001:db8::1", "2001:db8::2", IPPROTO_ESP, XFRM_MODE_TUNNEL, NL_XFRM_REQID);
	struct ip_prefix s = prefix("fd00:1::/64"), d = prefix("fd00:2::/48");
	struct ip_addr ts = addr("2001:db8::1"), td = addr("2001:db8::2");
	struct nl_xfrm_policy p;
	struct nlmsghdr *nlh;

	(void)state;
	memset(kbuf, 0, sizeof(kbuf));
	nlh = kpolicy(kbuf, "fd00:1::", "fd00:2::", 64, XFRM_POLICY_OUT);
	((struct xfrm_userpolicy_info *)mnl_nlmsg_get_payload(nlh))->sel.prefixlen_d = 48;
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
	kptype(nlh, XFRM_POLICY_TYPE_MAIN);
	p = parse_ok(nlh);
	assert_int_equal(p.src.addr.family, AF_INET6);
	assert_true(ip_prefix_equal(&p.src, &s));
	assert_true(ip_prefix_equal(&p.dst, &d));
	assert_true(ip_addr_equal(&p.tmpl_src, &ts));
	assert_true(ip_addr_equal(&p.tmpl_dst, &td));
	assert_true(nl_xfrm_policy_is_ours(&p, NL_XFRM_REQID));

	/* An IPv4-in-IPv6 tunnel: the template keeps its own family. */
	t = ktmpl("2001:db8::1", "2001:db8::2", IPPROTO_ESP, XFRM_MODE_TUNNEL, NL_XFRM_REQID);
	memset(kbuf, 0, sizeof(kbuf));
	nlh = kpolicy(kbuf, "10.244.1.0", "10.244.2.0", 24, XFRM_POLICY_OUT);
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
	p = parse_ok(nlh);
	assert_int_equal(p.src.addr.family, AF_INET);
	assert_true(ip_addr_equal(&p.tmpl_dst, &td));
}

/* Each of these makes a policy not one weft installed. */
static void extra_mark(struct nlmsghdr *nlh)
{
	mnl_attr_put(nlh, XFRMA_MARK, sizeof(struct xfrm_mark), &(struct xfrm_mark){1, ~0u});
}
static void extra_mask(struct nlmsghdr *nlh)
{
	mnl_attr_put(nlh, XFRMA_MARK, sizeof(struct xfrm_mark), &(struct xfrm_mark){0, 0xff});
}
static void extra_if_id(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, XFRMA_IF_ID, 7);
}
static void extra_sub(struct nlmsghdr *nlh)
{
	nlh = kours_untyped();
	kptype(nlh, XFRM_POLICY_TYPE_SUB);
}
static void extra_ctx(struct nlmsghdr *nlh)
{
	struct xfrm_user_sec_ctx c = {.len = sizeof(c), .exttype = XFRMA_SEC_CTX};

	mnl_attr_put(nlh, XFRMA_SEC_CTX, sizeof(c), &c);
}
static struct xfrm_userpolicy_info *info_of(struct nlmsghdr *nlh)
{
	return mnl_nlmsg_get_payload(nlh);
}
static struct xfrm_user_tmpl *tmpl_of(struct nlmsghdr *nlh)
{
	return mnl_attr_get_payload(first_attr(nlh, sizeof(struct xfrm_userpolicy_info)));
}
/* The first attribute of a dumped policy (the template), writable. */
static struct nlattr *tmpl_attr(struct nlmsghdr *nlh)
{
	return (struct nlattr *)((uint8_t *)mnl_nlmsg_get_payload(nlh) +
				 NLMSG_ALIGN(sizeof(struct xfrm_userpolicy_info)));
}
static void extra_block(struct nlmsghdr *nlh)
{
	info_of(nlh)->action = XFRM_POLICY_BLOCK;
}
static void extra_flags(struct nlmsghdr *nlh)
{
	info_of(nlh)->flags = XFRM_POLICY_ICMP;
}
static void extra_proto(struct nlmsghdr *nlh)
{
	info_of(nlh)->sel.proto = IPPROTO_UDP;
}
static void extra_port(struct nlmsghdr *nlh)
{
	info_of(nlh)->sel.dport = htons(53);
}
static void extra_host_bits(struct nlmsghdr *nlh)
{
	info_of(nlh)->sel.saddr.a4 = inet_addr("10.244.1.1");
}
static void extra_ifindex(struct nlmsghdr *nlh)
{
	info_of(nlh)->sel.ifindex = 2;
}
static void extra_optional(struct nlmsghdr *nlh)
{
	tmpl_of(nlh)->optional = 1;
}
static void extra_spi(struct nlmsghdr *nlh)
{
	tmpl_of(nlh)->id.spi = htonl(0x1000);
}
static void extra_algos(struct nlmsghdr *nlh)
{
	tmpl_of(nlh)->ealgos = 1u << 12;
}

static void test_parse_extra(void **state)
{
	static void (*const edits[])(struct nlmsghdr *) = {
		extra_mark,	extra_mask,  extra_if_id, extra_sub,	   extra_ctx,
		extra_block,	extra_flags, extra_proto, extra_port,	   extra_ifindex,
		extra_optional, extra_spi,   extra_algos, extra_host_bits,
	};
	struct nl_xfrm_policy p;
	struct nlmsghdr *nlh;

	(void)state;
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		nlh = kours();
		edits[i](nlh);
		/* extra_sub builds its own message in kbuf. */
		p = parse_ok((struct nlmsghdr *)kbuf);
		if (!p.extra)
			fail_msg("edit %zu: not marked extra", i);
		assert_int_equal(p.ntmpl, 1);
		assert_true(p.esp_tunnel);
		assert_false(nl_xfrm_policy_is_ours(&p, NL_XFRM_REQID));
	}
}

static void bad_type(struct nlmsghdr *nlh)
{
	nlh->nlmsg_type = XFRM_MSG_NEWSA;
}
static void bad_short(struct nlmsghdr *nlh)
{
	nlh->nlmsg_len = NLMSG_HDRLEN + 100;
}
static void bad_cut_tmpl(struct nlmsghdr *nlh)
{
	/* The message ends inside the template. */
	nlh->nlmsg_len = NLMSG_HDRLEN + sizeof(struct xfrm_userpolicy_info) + 40;
}
static void bad_attr_len_small(struct nlmsghdr *nlh)
{
	tmpl_attr(nlh)->nla_len = 3;
}
static void bad_attr_len_big(struct nlmsghdr *nlh)
{
	tmpl_attr(nlh)->nla_len = 2000;
}
static void bad_tmpl_len(struct nlmsghdr *nlh)
{
	/* 65 bytes of templates: the kernel only ever sends whole ones. */
	struct xfrm_user_tmpl t[2];

	memset(kbuf, 0, sizeof(kbuf));
	memset(t, 0, sizeof(t));
	nlh = kpolicy(kbuf, "10.244.1.0", "10.244.2.0", 24, XFRM_POLICY_OUT);
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t[0]) + 1, t);
}
static void bad_mark_len(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, XFRMA_MARK, 1);
}
static void bad_ptype_len(struct nlmsghdr *nlh)
{
	nlh = kours_untyped();
	mnl_attr_put_u8(nlh, XFRMA_POLICY_TYPE, XFRM_POLICY_TYPE_SUB);
}
static void bad_if_id_len(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, XFRMA_IF_ID, 1);
}
static void bad_stray(struct nlmsghdr *nlh)
{
	nlh->nlmsg_len += 2;
}
static void bad_prefix(struct nlmsghdr *nlh)
{
	info_of(nlh)->sel.prefixlen_d = 33;
}
static void bad_family(struct nlmsghdr *nlh)
{
	info_of(nlh)->sel.family = AF_UNSPEC;
}
static void bad_family_99(struct nlmsghdr *nlh)
{
	info_of(nlh)->sel.family = 99;
}
static void bad_tmpl_family(struct nlmsghdr *nlh)
{
	tmpl_of(nlh)->family = 99;
}
static void bad_socket(struct nlmsghdr *nlh)
{
	info_of(nlh)->dir = XFRM_POLICY_MAX + XFRM_POLICY_OUT;
}
static void bad_dir_mask(struct nlmsghdr *nlh)
{
	info_of(nlh)->dir = XFRM_POLICY_MASK;
}

static void test_parse_errors(void **state)
{
	static const struct {
		void (*edit)(struct nlmsghdr *);
		int code;
		const char *msg;
	} cases[] = {
		{bad_type, -EINVAL, "no policy"},
		{bad_short, -EBADMSG, "short message"},
		{bad_cut_tmpl, -EBADMSG, "attribute 5"},
		{bad_attr_len_small, -EBADMSG, "length 3"},
		{bad_attr_len_big, -EBADMSG, "length 2000"},
		{bad_tmpl_len, -EBADMSG, "XFRMA_TMPL: 65 bytes"},
		{bad_mark_len, -EBADMSG, "XFRMA_MARK: 4 bytes"},
		{bad_ptype_len, -EBADMSG, "XFRMA_POLICY_TYPE: 1 bytes"},
		{bad_if_id_len, -EBADMSG, "XFRMA_IF_ID: 2 bytes"},
		{bad_stray, -EBADMSG, "2 stray bytes"},
		{bad_prefix, -EBADMSG, "prefix lengths 24 and 33"},
		{bad_family, -EAFNOSUPPORT, "selector family 0"},
		{bad_family_99, -EAFNOSUPPORT, "selector family 99"},
		{bad_tmpl_family, -EAFNOSUPPORT, "template family 99"},
		{bad_socket, -EOPNOTSUPP, "socket policy (dir 4)"},
		{bad_dir_mask, -EOPNOTSUPP, "socket policy (dir 3)"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nlmsghdr *nlh = kours();

		cases[i].edit(nlh);
		/* Some edits build their own message in kbuf. */
		parse_fails((struct nlmsghdr *)kbuf, cases[i].code, cases[i].msg);
	}
}

/* ---- a fake kernel: dump and probe through the real request path ---- */

#define MAX_REQ 16

struct fake {
	/* Answers to requests, in order: an error code (0: ACK), and the
	 * extended ACK text to send with it. */
	int code[MAX_REQ];
	const char *text[MAX_REQ];
	size_t n_code;
	/* A dump request is answered with these messages and NLMSG_DONE. */
	const uint8_t *dump;
	size_t dump_len;

	/* What was sent. */
	uint8_t req[MAX_REQ][1024];
	size_t n_req;

	uint8_t reply[8192] __attribute__((aligned(8)));
	size_t reply_len;
};

static struct fake fk;

static const struct nlmsghdr *sent(size_t i)
{
	assert_true(i < fk.n_req);
	return (const struct nlmsghdr *)fk.req[i];
}

static void fake_ack(const struct nlmsghdr *req, int code, const char *text)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(fk.reply + fk.reply_len);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED;
	nlh->nlmsg_seq = req->nlmsg_seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = code;
	e->msg = *req;
	if (text) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
	}
	fk.reply_len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static int fake_send(void *arg, const void *data, size_t len)
{
	const struct nlmsghdr *req = data;
	struct nlmsghdr *nlh;
	size_t i = fk.n_req;

	(void)arg;
	assert_true(len <= sizeof(fk.req[0]) && fk.n_req < MAX_REQ);
	memcpy(fk.req[fk.n_req++], data, len);
	fk.reply_len = 0;
	if (req->nlmsg_flags & NLM_F_DUMP) {
		memcpy(fk.reply, fk.dump, fk.dump_len);
		for (size_t off = 0; off < fk.dump_len; off += NLMSG_ALIGN(nlh->nlmsg_len)) {
			nlh = (struct nlmsghdr *)(fk.reply + off);
			nlh->nlmsg_seq = req->nlmsg_seq;
		}
		fk.reply_len = fk.dump_len;
		nlh = mnl_nlmsg_put_header(fk.reply + fk.reply_len);
		nlh->nlmsg_type = NLMSG_DONE;
		nlh->nlmsg_flags = NLM_F_MULTI;
		nlh->nlmsg_seq = req->nlmsg_seq;
		*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = 0;
		fk.reply_len += nlh->nlmsg_len;
		return 0;
	}
	/* No answer for requests past the script: nl.c times out. */
	if (i < fk.n_code)
		fake_ack(req, fk.code[i], fk.text[i]);
	return 0;
}

static long fake_recv(void *arg, void *data, size_t cap, bool dontwait)
{
	size_t n = fk.reply_len;

	(void)arg;
	(void)dontwait;
	if (!n)
		return -EAGAIN; /* nothing queued: a test that waits fails fast */
	assert_true(n <= cap);
	memcpy(data, fk.reply, n);
	fk.reply_len = 0;
	return (long)n;
}

static const struct nl_io fake_io = {.send = fake_send, .recv = fake_recv};

static struct nl_xfrm *fake_open(void)
{
	struct nl_xfrm *x = NULL;
	struct err e = {""};
	int ret;

	memset(&fk, 0, sizeof(fk));
	/* A real socket (any user may open one), then the fake behind it. */
	ret = nl_xfrm_open(&x, &e);
	if (ret == -EPROTONOSUPPORT) {
		assert_non_null(strstr(e.msg, "CONFIG_XFRM_USER"));
		printf("# no NETLINK_XFRM in this kernel: fake-kernel tests not run\n");
		return NULL;
	}
	assert_int_equal(ret, 0);
	nl_set_io(nl_xfrm_nl(x), &fake_io);
	return x;
}

static int collect(const struct nl_xfrm_policy *p, void *arg)
{
	struct nl_xfrm_policy *got = arg;

	for (int i = 0; i < 4; i++) {
		if (got[i].dir == 0xff) {
			got[i] = *p;
			return 0;
		}
	}
	return -E2BIG;
}

static void test_dump_fake(void **state)
{
	static uint8_t dump[2048] __attribute__((aligned(8)));
	struct xfrm_user_tmpl t =
		ktmpl("192.168.50.2", "192.168.50.1", IPPROTO_ESP, XFRM_MODE_TUNNEL, 12);
	struct nl_xfrm_policy got[4];
	struct nl_xfrm *x = fake_open();
	struct nlmsghdr *nlh;
	size_t len = 0;
	unsigned skipped = 99;
	struct err e = {""};

	(void)state;
	if (!x)
		return;
	peer_v4();
	/* Ours, a socket policy, a cut one, someone else's: two decoded,
	 * two skipped. */
	nlh = kours();
	memcpy(dump + len, nlh, nlh->nlmsg_len);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	info_of(nlh)->dir = XFRM_POLICY_MAX + XFRM_POLICY_IN;
	memcpy(dump + len, nlh, nlh->nlmsg_len);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = kours();
	bad_attr_len_big(nlh);
	memcpy(dump + len, nlh, nlh->nlmsg_len);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = kpolicy(dump + len, "10.244.2.0", "10.244.1.0", 24, XFRM_POLICY_IN);
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
	len += NLMSG_ALIGN(nlh->nlmsg_len);
	fk.dump = dump;
	fk.dump_len = len;

	memset(got, 0xff, sizeof(got));
	assert_int_equal(nl_xfrm_policy_dump(x, collect, got, &skipped, &e), 0);
	assert_int_equal(skipped, 2);
	assert_true(nl_xfrm_policy_same(&got[0], &peer[0]));
	assert_int_equal(got[1].dir, NL_XFRM_IN);
	assert_int_equal(got[1].reqid, 12);
	assert_false(nl_xfrm_policy_is_ours(&got[1], NL_XFRM_REQID));
	assert_int_equal(got[2].dir, 0xff);

	/* The request: a bare GETPOLICY header asking for a dump. */
	assert_int_equal(fk.n_req, 1);
	assert_int_equal(sent(0)->nlmsg_type, XFRM_MSG_GETPOLICY);
	assert_int_equal(sent(0)->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP);
	assert_int_equal(sent(0)->nlmsg_len, NLMSG_HDRLEN);

	/* The callback's error stops the dump and comes back. */
	memset(got, 0, sizeof(got));
	assert_int_equal(nl_xfrm_policy_dump(x, collect, got, NULL, &e), -E2BIG);
	assert_non_null(strstr(e.msg, "dumping xfrm policies"));
	nl_xfrm_close(x);
}

static void test_update_del_fake(void **state)
{
	struct nl_xfrm *x = fake_open();
	struct nl_xfrm_policy bad;
	struct err e = {""};

	(void)state;
	if (!x)
		return;
	peer_v4();
	fk.code[0] = 0;
	fk.code[1] = -ENOENT;
	fk.code[2] = -EPERM;
	fk.text[2] = "no way";
	fk.n_code = 3;
	assert_int_equal(nl_xfrm_policy_update(x, &peer[1], &e), 0);
	assert_int_equal(sent(0)->nlmsg_type, XFRM_MSG_UPDPOLICY);
	assert_int_equal(sent(0)->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(nl_xfrm_policy_del(x, &peer[1], &e), -ENOENT);
	assert_int_equal(sent(1)->nlmsg_type, XFRM_MSG_DELPOLICY);
	assert_non_null(strstr(e.msg, "deleting xfrm policy in 10.244.2.0/24 -> 10.244.1.0/24"));
	assert_int_equal(nl_xfrm_policy_update(x, &peer[0], &e), -EPERM);
	assert_non_null(strstr(e.msg, "updating xfrm policy out 10.244.1.0/24 -> 10.244.2.0/24"));
	assert_non_null(strstr(e.msg, "no way"));

	/* A policy that cannot be built is not sent. */
	bad = peer[0];
	bad.dir = 9;
	assert_int_equal(nl_xfrm_policy_update(x, &bad, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "bad xfrm policy bad-dir"));
	assert_int_equal(nl_xfrm_policy_del(x, &bad, &e), -EINVAL);
	assert_int_equal(fk.n_req, 3);
	nl_xfrm_close(x);
}

/* The SPI (host order) of a NEWSA or DELSA that was sent. */
static uint32_t sent_spi(size_t i)
{
	const struct nlmsghdr *nlh = sent(i);

	if (nlh->nlmsg_type == XFRM_MSG_NEWSA)
		return ntohl(((const struct xfrm_usersa_info *)mnl_nlmsg_get_payload(nlh))->id.spi);
	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_DELSA);
	return ntohl(((const struct xfrm_usersa_id *)mnl_nlmsg_get_payload(nlh))->spi);
}

static uint16_t sent_alg(size_t i)
{
	const struct nlmsghdr *nlh = sent(i);

	assert_int_equal(nlh->nlmsg_type, XFRM_MSG_NEWSA);
	return mnl_attr_get_type(first_attr(nlh, sizeof(struct xfrm_usersa_info)));
}

/* Run the probe against answers; the requests are in fk. */
static int probe(struct err *e, int n, ...)
{
	struct nl_xfrm *x = fake_open();
	va_list ap;
	int ret;

	assert_non_null(x);
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		fk.code[i] = va_arg(ap, int);
		fk.text[i] = va_arg(ap, const char *);
	}
	va_end(ap);
	fk.n_code = (size_t)n;
	memset(e, 0, sizeof(*e));
	ret = nl_xfrm_esp_probe(x, e);
	nl_xfrm_close(x);
	return ret;
}

#define NOTYPE -EPROTONOSUPPORT, "Requested type not found"
#define NOAEAD -ENOSYS, "Requested AEAD algorithm not found"
#define ACK 0, NULL

static void assert_msg(const struct err *e, const char *part)
{
	if (!strstr(e->msg, part))
		fail_msg("\"%s\" lacks \"%s\"", e->msg, part);
}

static void test_probe_fake(void **state)
{
	struct err e;

	(void)state;
	{
		struct nl_xfrm *x = fake_open();

		if (!x)
			return;
		nl_xfrm_close(x);
	}
	/* ESP there: the SA goes, and is deleted by its SPI at once. */
	assert_int_equal(probe(&e, 2, ACK, ACK), 1);
	assert_int_equal(fk.n_req, 2);
	assert_int_equal(sent_alg(0), XFRMA_ALG_AEAD);
	assert_true(sent_spi(0) >= 256);
	assert_int_equal(sent_spi(1), sent_spi(0));
	assert_xaddr(((const struct xfrm_usersa_id *)mnl_nlmsg_get_payload(sent(1)))->daddr,
		     "192.0.2.2");
	assert_int_equal(((const struct xfrm_usersa_id *)mnl_nlmsg_get_payload(sent(1)))->proto,
			 IPPROTO_ESP);
	assert_true(((const struct xfrm_usersa_info *)mnl_nlmsg_get_payload(sent(0)))
			    ->lft.hard_add_expires_seconds == 30);

	/* No ESP type: 0, nothing to delete. */
	assert_int_equal(probe(&e, 1, NOTYPE), 0);
	assert_int_equal(fk.n_req, 1);
	assert_msg(&e, "no ESP");
	assert_msg(&e, "Requested type not found");

	/* No GCM (this machine): asked again with cbc/hmac, which finds no
	 * ESP either. */
	assert_int_equal(probe(&e, 2, NOAEAD, NOTYPE), 0);
	assert_int_equal(fk.n_req, 2);
	assert_int_equal(sent_alg(0), XFRMA_ALG_AEAD);
	assert_int_equal(sent_alg(1), XFRMA_ALG_CRYPT);
	assert_msg(&e, "no ESP");

	/* ESP without GCM: -ENOSYS, and the cbc/hmac SA deleted. */
	assert_int_equal(probe(&e, 3, NOAEAD, ACK, ACK), -ENOSYS);
	assert_int_equal(fk.n_req, 3);
	assert_int_equal(sent_spi(2), sent_spi(1));
	assert_msg(&e, "has ESP but no rfc4106(gcm(aes))");

	/* Neither suite: cannot tell. */
	assert_int_equal(probe(&e, 2, NOAEAD, NOAEAD), -ENOSYS);
	assert_msg(&e, "cannot be told");

	/* An SA of that SPI exists (not ours): another SPI, the right one
	 * deleted. */
	assert_int_equal(probe(&e, 3, -EEXIST, NULL, ACK, ACK), 1);
	assert_int_equal(fk.n_req, 3);
	assert_int_equal(sent_spi(2), sent_spi(1));
	assert_int_equal(probe(&e, 4, -EEXIST, NULL, -EEXIST, NULL, -EEXIST, NULL, -EEXIST, NULL),
			 -EEXIST);
	assert_int_equal(fk.n_req, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(sent(i)->nlmsg_type, XFRM_MSG_NEWSA);

	/* Not allowed: that error, nothing to delete. */
	assert_int_equal(probe(&e, 1, -EPERM, NULL), -EPERM);
	assert_int_equal(fk.n_req, 1);
	assert_msg(&e, "adding a probe ESP SA");

	/* The delete fails: an error naming the SA left behind. */
	assert_int_equal(probe(&e, 2, ACK, -EPERM, NULL), -EPERM);
	assert_msg(&e, "deleting the probe ESP SA 192.0.2.1 -> 192.0.2.2 spi 0x");
	assert_msg(&e, "drops it after 30 s");

	/* Already gone (someone flushed): fine. */
	assert_int_equal(probe(&e, 2, ACK, -ESRCH, NULL), 1);

	/* The kernel does not answer (here: nothing queued): an error, not
	 * a hang. */
	assert_int_equal(probe(&e, 0), -ETIMEDOUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_policies),	 cmocka_unit_test(test_policy_build),
		cmocka_unit_test(test_policy_del_build), cmocka_unit_test(test_probe_sa_build),
		cmocka_unit_test(test_sa_del_build),	 cmocka_unit_test(test_parse_ours),
		cmocka_unit_test(test_parse_round_trip), cmocka_unit_test(test_parse_templates),
		cmocka_unit_test(test_parse_ipv6),	 cmocka_unit_test(test_parse_extra),
		cmocka_unit_test(test_parse_errors),	 cmocka_unit_test(test_dump_fake),
		cmocka_unit_test(test_update_del_fake),	 cmocka_unit_test(test_probe_fake),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
