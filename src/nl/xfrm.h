/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NL_XFRM_H
#define WEFT_NL_XFRM_H

/*
 * The kernel's IPsec security policy database over NETLINK_XFRM, for the
 * ipsec backend: the policies that send a peer's traffic through ESP.
 * charon (strongSwan) negotiates and installs the SAs; weft installs and
 * reconciles the policies, as flannel's ipsec backend does, three per peer:
 *
 *   out   selector our subnet -> peer subnet, template our IP -> peer IP
 *   in    selector peer subnet -> our subnet, template peer IP -> our IP
 *   fwd   as in
 *
 * each with one template: ESP, tunnel mode, reqid NL_XFRM_REQID, any
 * algorithm; priority 0, no mark, main policy type. Every request is ACKed
 * (nl.c). The builders and the parser are pure, for tests and the fuzzer.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ipnet.h"
#include "nl/nl.h"

struct err;
struct nl;
struct nlmsghdr;
struct nl_xfrm;

/* The reqid flannel's ipsec backend gives its templates (and charon its
 * CHILD_SAs, through the connection's reqid), so that SAs and policies meet. */
#define NL_XFRM_REQID 11

/* Policy directions, the kernel's XFRM_POLICY_IN/OUT/FWD. */
enum nl_xfrm_dir {
	NL_XFRM_IN = 0,
	NL_XFRM_OUT = 1,
	NL_XFRM_FWD = 2,
};

struct nl_xfrm_policy {
	uint8_t dir;		 /* enum nl_xfrm_dir */
	struct ip_prefix src;	 /* selector: traffic from */
	struct ip_prefix dst;	 /* selector: traffic to */
	struct ip_addr tmpl_src; /* template: tunnel source (outer saddr) */
	struct ip_addr tmpl_dst; /* template: tunnel destination (id.daddr) */
	uint32_t reqid;		 /* template */
	uint32_t priority;

	/* What a dump found besides; the builders ignore these. */
	uint32_t index;	 /* the kernel's id of the policy */
	unsigned ntmpl;	 /* templates; tmpl_* and reqid are the first one's */
	bool esp_tunnel; /* the first template is ESP in tunnel mode */
	bool extra;	 /* something weft never sets: host bits in a selector
			  * prefix, a selector protocol, port, interface or user,
			  * a block action, policy flags, a mark,
			  * an if_id, a security context, a sub policy, or a first
			  * template with an SPI, share, optional flag or algorithm
			  * mask other than "any" */
};

/* The three policies of a peer (flannel's, see above) into ret: [0] out,
 * [1] in, [2] fwd. -EINVAL unless both subnets and both addresses are of
 * one family (AF_INET, or AF_INET6) and the subnets are network addresses. */
#define NL_XFRM_PEER_POLICIES 3
int nl_xfrm_peer_policies(const struct ip_prefix *our_subnet, const struct ip_addr *our_ip,
			  const struct ip_prefix *peer_subnet, const struct ip_addr *peer_ip,
			  uint32_t reqid, struct nl_xfrm_policy ret[NL_XFRM_PEER_POLICIES]);

/* A dumped policy is one weft installed: one template, ESP tunnel, this
 * reqid, nothing extra. */
bool nl_xfrm_policy_is_ours(const struct nl_xfrm_policy *p, uint32_t reqid);
/* have (dumped) is exactly what installing want would leave. */
bool nl_xfrm_policy_same(const struct nl_xfrm_policy *have, const struct nl_xfrm_policy *want);

/* A NETLINK_XFRM socket. -EPROTONOSUPPORT (err says so) when the kernel has
 * no xfrm netlink (CONFIG_XFRM_USER). */
NL_MUST_CHECK int nl_xfrm_open(struct nl_xfrm **ret, struct err *err);
void nl_xfrm_close(struct nl_xfrm *x);
/* The socket underneath (tests give it a fake kernel with nl_set_io). */
struct nl *nl_xfrm_nl(struct nl_xfrm *x);

/* Add or replace (XFRM_MSG_UPDPOLICY) the policy of p's direction and
 * selector: the kernel keeps one per direction, selector and mark. */
NL_MUST_CHECK int nl_xfrm_policy_update(struct nl_xfrm *x, const struct nl_xfrm_policy *p,
					struct err *err);
/* Delete the policy of p's direction and selector (the rest of p is not
 * looked at: whoever's it is). -ENOENT when there is none. */
int nl_xfrm_policy_del(struct nl_xfrm *x, const struct nl_xfrm_policy *p, struct err *err);
/* Every main and sub policy of the SPD, decoded, to cb (0: go on, < 0: stop
 * with that error). Socket policies and entries that cannot be decoded
 * (nl_xfrm_policy_parse fails) are skipped and counted in *ret_skipped
 * (may be NULL). */
typedef int nl_xfrm_policy_cb(const struct nl_xfrm_policy *p, void *arg);
NL_MUST_CHECK int nl_xfrm_policy_dump(struct nl_xfrm *x, nl_xfrm_policy_cb *cb, void *arg,
				      unsigned *ret_skipped, struct err *err);

/*
 * Does this kernel have ESP? A throwaway SA (ESP, rfc4106(gcm(aes)) with a
 * random key, a random SPI, 192.0.2.1 -> 192.0.2.2 from documentation space,
 * a 30 s hard lifetime in case we die before the delete) is added and
 * deleted at once. 1: it could be added (and is gone again). 0: the kernel
 * has no ESP type (EPROTONOSUPPORT); err says why. The kernel attaches the
 * algorithms before it looks for the type, so a kernel without the AEAD
 * answers ENOSYS first: the probe then asks again with cbc(aes) and
 * hmac(sha256), and says 0 if that finds no ESP either, -ENOSYS if ESP is
 * there without rfc4106(gcm(aes)) (or if neither suite is there to tell).
 * Anything else (EPERM ...): that -errno. A probe SA that cannot be removed
 * is an error naming it.
 */
NL_MUST_CHECK int nl_xfrm_esp_probe(struct nl_xfrm *x, struct err *err);

/* ---- builders and parser: a message whose nlmsghdr is in place (type,
 * flags, seq), never written past size bytes from nlh; 0, -EINVAL for a
 * request that makes no sense, -EMSGSIZE when it does not fit ---- */

/* XFRM_MSG_UPDPOLICY (or NEWPOLICY): struct xfrm_userpolicy_info and one
 * XFRMA_TMPL. -EINVAL as for nl_xfrm_peer_policies, or for a bad dir. */
int nl_xfrm_policy_build(struct nlmsghdr *nlh, size_t size, const struct nl_xfrm_policy *p);
/* XFRM_MSG_DELPOLICY: struct xfrm_userpolicy_id (selector and dir; host
 * bits are sent as they are, as a dumped policy of someone else has them). */
int nl_xfrm_policy_del_build(struct nlmsghdr *nlh, size_t size, const struct nl_xfrm_policy *p);
/* One XFRM_MSG_NEWPOLICY (or UPDPOLICY) of a dump or notification; the
 * message's nlmsg_len bytes must be readable. -EINVAL for another message
 * type, -EOPNOTSUPP for a socket policy (dir not in/out/fwd),
 * -EAFNOSUPPORT for a family other than IPv4/IPv6, -EBADMSG for anything
 * malformed (short header, an attribute cut short or of the wrong length,
 * a prefix longer than the address); err names what. */
int nl_xfrm_policy_parse(const struct nlmsghdr *nlh, struct nl_xfrm_policy *ret, struct err *err);

/* The probe's SA. */
enum nl_xfrm_probe_alg {
	NL_XFRM_PROBE_GCM,	/* XFRMA_ALG_AEAD rfc4106(gcm(aes)), 128-bit key + salt, ICV 128 */
	NL_XFRM_PROBE_CBC_HMAC, /* XFRMA_ALG_CRYPT cbc(aes) 128 + XFRMA_ALG_AUTH_TRUNC
				 * hmac(sha256) 256, truncated to 128 */
};
#define NL_XFRM_PROBE_KEY_MAX 48 /* cbc(aes) key, then hmac(sha256) key */
struct nl_xfrm_probe_sa {
	struct ip_addr src, dst; /* AF_INET */
	uint32_t spi;		 /* host order */
	enum nl_xfrm_probe_alg alg;
	uint8_t key[NL_XFRM_PROBE_KEY_MAX]; /* GCM: the first 20 bytes */
	uint32_t lifetime_s;		    /* hard limit after adding; 0: none */
};
/* XFRM_MSG_NEWSA: struct xfrm_usersa_info (ESP, tunnel mode) and the
 * algorithm attributes. */
int nl_xfrm_probe_sa_build(struct nlmsghdr *nlh, size_t size, const struct nl_xfrm_probe_sa *sa);
/* XFRM_MSG_DELSA: struct xfrm_usersa_id (ESP, dst, spi). */
int nl_xfrm_sa_del_build(struct nlmsghdr *nlh, size_t size, const struct ip_addr *dst,
			 uint32_t spi);

#endif
