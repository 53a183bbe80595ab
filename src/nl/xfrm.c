// SPDX-License-Identifier: Apache-2.0
/*
 * XFRM policies and the ESP probe over NETLINK_XFRM (linux/xfrm.h).
 *
 * The kernel keys a policy by type, direction, selector (compared whole,
 * padding included), mark, if_id and security context: UPDPOLICY replaces
 * the policy of the same key, DELPOLICY finds it by that key. Our selectors
 * hold addresses, prefix lengths and the family and are zero elsewhere, so
 * a policy built again from its decoded form has the same key.
 *
 * Kernel structs are assembled on the stack, zeroed whole (padding too),
 * and copied into the message: a builder may be handed a message that is
 * only 4-byte aligned, and the structs hold 64-bit fields.
 */
#include "nl/xfrm.h"

#include <errno.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/random.h"
#include "core/xmalloc.h"
#include "nl/build.h"
#include "nl/nl.h"

_Static_assert((int)NL_XFRM_IN == (int)XFRM_POLICY_IN && (int)NL_XFRM_OUT == (int)XFRM_POLICY_OUT &&
		       (int)NL_XFRM_FWD == (int)XFRM_POLICY_FWD,
	       "nl_xfrm_dir follows the kernel's numbering");

#define PROBE_LIFETIME_S 30 /* the kernel drops a probe SA we failed to delete */
#define PROBE_TRIES 4	    /* SPI collisions (EEXIST) before giving up */
#define PROBE_SPI_MIN 256   /* 1..255 are reserved (RFC 4303) */
#define GCM_KEY_LEN 20	    /* AES-128 key and 4-byte salt (RFC 4106) */
#define CBC_KEY_LEN 16
#define HMAC_KEY_LEN 32
#define ICV_BITS 128
#define DESC_LEN (2 * IP_PREFIX_STRLEN + 16)

_Static_assert(CBC_KEY_LEN + HMAC_KEY_LEN <= NL_XFRM_PROBE_KEY_MAX, "probe key room");
_Static_assert(GCM_KEY_LEN <= NL_XFRM_PROBE_KEY_MAX, "probe key room");

struct nl_xfrm {
	struct nl *nl;
};

/* ---- values ---- */

static const char *dir_name(uint8_t dir)
{
	switch (dir) {
	case NL_XFRM_IN:
		return "in";
	case NL_XFRM_OUT:
		return "out";
	case NL_XFRM_FWD:
		return "fwd";
	default:
		return "bad-dir";
	}
}

/* "out 10.244.1.0/24 -> 10.244.2.0/24", for error messages. */
static const char *describe(const struct nl_xfrm_policy *p, char *buf)
{
	char s[IP_PREFIX_STRLEN], d[IP_PREFIX_STRLEN];

	snprintf(buf, DESC_LEN, "%s %s -> %s", dir_name(p->dir), ip_prefix_format(&p->src, s),
		 ip_prefix_format(&p->dst, d));
	return buf;
}

static bool prefix_ok(const struct ip_prefix *p, int family)
{
	return p->addr.family == family && p->len <= ip_family_bits(family);
}

/* Direction and selector: all a delete needs. Host bits are allowed: a
 * policy someone else made may have them, and the kernel finds it only
 * by the same bytes. */
static bool selector_ok(const struct nl_xfrm_policy *p)
{
	int family = p->src.addr.family;

	return p->dir <= NL_XFRM_FWD && nl_addr_len(family) && prefix_ok(&p->src, family) &&
	       prefix_ok(&p->dst, family);
}

/* What we install: network addresses, one family throughout. */
static bool policy_ok(const struct nl_xfrm_policy *p)
{
	int family = p->src.addr.family;

	return selector_ok(p) && ip_addr_is_aligned(&p->src.addr, p->src.len) &&
	       ip_addr_is_aligned(&p->dst.addr, p->dst.len) && p->tmpl_src.family == family &&
	       p->tmpl_dst.family == family;
}

int nl_xfrm_peer_policies(const struct ip_prefix *our_subnet, const struct ip_addr *our_ip,
			  const struct ip_prefix *peer_subnet, const struct ip_addr *peer_ip,
			  uint32_t reqid, struct nl_xfrm_policy ret[NL_XFRM_PEER_POLICIES])
{
	struct nl_xfrm_policy out = {0}, in;

	out.dir = NL_XFRM_OUT;
	out.src = *our_subnet;
	out.dst = *peer_subnet;
	out.tmpl_src = *our_ip;
	out.tmpl_dst = *peer_ip;
	out.reqid = reqid;
	if (!policy_ok(&out))
		return -EINVAL;
	in = out;
	in.dir = NL_XFRM_IN;
	in.src = *peer_subnet;
	in.dst = *our_subnet;
	in.tmpl_src = *peer_ip;
	in.tmpl_dst = *our_ip;
	ret[0] = out;
	ret[1] = in;
	ret[2] = in;
	ret[2].dir = NL_XFRM_FWD;
	return 0;
}

bool nl_xfrm_policy_is_ours(const struct nl_xfrm_policy *p, uint32_t reqid)
{
	return p->ntmpl == 1 && p->esp_tunnel && p->reqid == reqid && !p->extra;
}

bool nl_xfrm_policy_same(const struct nl_xfrm_policy *have, const struct nl_xfrm_policy *want)
{
	return nl_xfrm_policy_is_ours(have, want->reqid) && have->dir == want->dir &&
	       have->priority == want->priority && ip_prefix_equal(&have->src, &want->src) &&
	       ip_prefix_equal(&have->dst, &want->dst) &&
	       ip_addr_equal(&have->tmpl_src, &want->tmpl_src) &&
	       ip_addr_equal(&have->tmpl_dst, &want->tmpl_dst);
}

/* ---- builders ---- */

static void put_xaddr(xfrm_address_t *x, const struct ip_addr *a)
{
	memcpy(x, a->b, nl_addr_len(a->family));
}

static void put_selector(struct xfrm_selector *sel, const struct nl_xfrm_policy *p)
{
	sel->family = p->src.addr.family;
	put_xaddr(&sel->saddr, &p->src.addr);
	sel->prefixlen_s = p->src.len;
	put_xaddr(&sel->daddr, &p->dst.addr);
	sel->prefixlen_d = p->dst.len;
}

/* No byte or packet limit (what iproute2 and flannel's library send). */
static void no_limits(struct xfrm_lifetime_cfg *lft)
{
	lft->soft_byte_limit = XFRM_INF;
	lft->hard_byte_limit = XFRM_INF;
	lft->soft_packet_limit = XFRM_INF;
	lft->hard_packet_limit = XFRM_INF;
}

static int put_header(struct nlmsghdr *nlh, size_t size, const void *h, size_t len)
{
	void *p = nl_put_header(nlh, size, len);

	if (!p)
		return -EMSGSIZE;
	memcpy(p, h, len);
	return 0;
}

int nl_xfrm_policy_build(struct nlmsghdr *nlh, size_t size, const struct nl_xfrm_policy *p)
{
	struct xfrm_userpolicy_info info;
	struct xfrm_user_tmpl t;
	int ret;

	if (!policy_ok(p))
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	put_selector(&info.sel, p);
	no_limits(&info.lft);
	info.priority = p->priority;
	info.dir = p->dir;
	info.action = XFRM_POLICY_ALLOW;
	info.share = XFRM_SHARE_ANY;
	ret = put_header(nlh, size, &info, sizeof(info));
	if (ret < 0)
		return ret;

	memset(&t, 0, sizeof(t));
	put_xaddr(&t.id.daddr, &p->tmpl_dst);
	t.id.proto = IPPROTO_ESP;
	t.family = p->tmpl_src.family;
	put_xaddr(&t.saddr, &p->tmpl_src);
	t.reqid = p->reqid;
	t.mode = XFRM_MODE_TUNNEL;
	/* Any algorithm: with a zero mask no SA would ever match the
	 * template on input. */
	t.aalgos = ~0u;
	t.ealgos = ~0u;
	t.calgos = ~0u;
	if (!mnl_attr_put_check(nlh, size, XFRMA_TMPL, sizeof(t), &t))
		return -EMSGSIZE;
	return 0;
}

int nl_xfrm_policy_del_build(struct nlmsghdr *nlh, size_t size, const struct nl_xfrm_policy *p)
{
	struct xfrm_userpolicy_id id;

	if (!selector_ok(p))
		return -EINVAL;
	memset(&id, 0, sizeof(id));
	put_selector(&id.sel, p);
	id.dir = p->dir;
	return put_header(nlh, size, &id, sizeof(id));
}

/* struct xfrm_algo / xfrm_algo_aead / xfrm_algo_auth: hdr (whose name and
 * key length are set) followed by the key, as one attribute. */
static int put_alg(struct nlmsghdr *nlh, size_t size, uint16_t type, const void *hdr, size_t hdrlen,
		   const uint8_t *key, size_t keylen)
{
	uint8_t buf[sizeof(struct xfrm_algo_auth) + NL_XFRM_PROBE_KEY_MAX];

	if (hdrlen + keylen > sizeof(buf))
		return -EINVAL;
	memcpy(buf, hdr, hdrlen);
	memcpy(buf + hdrlen, key, keylen);
	if (!mnl_attr_put_check(nlh, size, type, hdrlen + keylen, buf))
		return -EMSGSIZE;
	return 0;
}

static int put_probe_algs(struct nlmsghdr *nlh, size_t size, const struct nl_xfrm_probe_sa *sa)
{
	struct xfrm_algo_aead aead;
	struct xfrm_algo crypt;
	struct xfrm_algo_auth auth;
	int ret;

	switch (sa->alg) {
	case NL_XFRM_PROBE_GCM:
		memset(&aead, 0, sizeof(aead));
		snprintf(aead.alg_name, sizeof(aead.alg_name), "rfc4106(gcm(aes))");
		aead.alg_key_len = GCM_KEY_LEN * 8;
		aead.alg_icv_len = ICV_BITS;
		return put_alg(nlh, size, XFRMA_ALG_AEAD, &aead,
			       offsetof(struct xfrm_algo_aead, alg_key), sa->key, GCM_KEY_LEN);
	case NL_XFRM_PROBE_CBC_HMAC:
		memset(&crypt, 0, sizeof(crypt));
		snprintf(crypt.alg_name, sizeof(crypt.alg_name), "cbc(aes)");
		crypt.alg_key_len = CBC_KEY_LEN * 8;
		ret = put_alg(nlh, size, XFRMA_ALG_CRYPT, &crypt,
			      offsetof(struct xfrm_algo, alg_key), sa->key, CBC_KEY_LEN);
		if (ret < 0)
			return ret;
		memset(&auth, 0, sizeof(auth));
		snprintf(auth.alg_name, sizeof(auth.alg_name), "hmac(sha256)");
		auth.alg_key_len = HMAC_KEY_LEN * 8;
		auth.alg_trunc_len = ICV_BITS; /* RFC 4868 */
		return put_alg(nlh, size, XFRMA_ALG_AUTH_TRUNC, &auth,
			       offsetof(struct xfrm_algo_auth, alg_key), sa->key + CBC_KEY_LEN,
			       HMAC_KEY_LEN);
	default:
		return -EINVAL;
	}
}

int nl_xfrm_probe_sa_build(struct nlmsghdr *nlh, size_t size, const struct nl_xfrm_probe_sa *sa)
{
	struct xfrm_usersa_info info;
	int ret;

	if (sa->src.family != AF_INET || sa->dst.family != AF_INET || sa->spi < PROBE_SPI_MIN)
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	info.sel.family = AF_INET; /* any to any */
	put_xaddr(&info.id.daddr, &sa->dst);
	info.id.spi = htonl(sa->spi);
	info.id.proto = IPPROTO_ESP;
	put_xaddr(&info.saddr, &sa->src);
	no_limits(&info.lft);
	info.lft.hard_add_expires_seconds = sa->lifetime_s;
	info.family = AF_INET;
	info.mode = XFRM_MODE_TUNNEL;
	ret = put_header(nlh, size, &info, sizeof(info));
	if (ret < 0)
		return ret;
	return put_probe_algs(nlh, size, sa);
}

int nl_xfrm_sa_del_build(struct nlmsghdr *nlh, size_t size, const struct ip_addr *dst, uint32_t spi)
{
	struct xfrm_usersa_id id;

	if (!nl_addr_len(dst->family))
		return -EINVAL;
	memset(&id, 0, sizeof(id));
	put_xaddr(&id.daddr, dst);
	id.spi = htonl(spi);
	id.family = dst->family;
	id.proto = IPPROTO_ESP;
	return put_header(nlh, size, &id, sizeof(id));
}

/* ---- the parser: kernel input, every length checked ---- */

/*
 * The attributes after hdrlen bytes of family header into tb[0..max] (the
 * first of a type; types above max skipped). Unlike mnl_attr_parse, which
 * stops quietly at the first attribute that does not fit, an attribute cut
 * short or bytes left over are an error: they mean a template could be
 * missing.
 */
static int parse_attrs(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
		       uint16_t max, struct err *err)
{
	const uint8_t *payload = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t len, off;
	uint16_t type;

	memset(tb, 0, sizeof(*tb) * ((size_t)max + 1));
	if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len - NLMSG_HDRLEN < hdrlen)
		return err_set(err, -EBADMSG, "short message: %u bytes, header needs %zu",
			       nlh->nlmsg_len, NLMSG_HDRLEN + hdrlen);
	len = nlh->nlmsg_len - NLMSG_HDRLEN;
	off = NLMSG_ALIGN(hdrlen);
	while (off + sizeof(*a) <= len) {
		a = (const struct nlattr *)(payload + off);
		type = a->nla_type & NLA_TYPE_MASK;
		if (a->nla_len < sizeof(*a) || a->nla_len > len - off)
			return err_set(err, -EBADMSG,
				       "attribute %u: length %u, but %zu bytes are left", type,
				       a->nla_len, len - off);
		if (type <= max && !tb[type])
			tb[type] = a;
		off += NLA_ALIGN(a->nla_len); /* past len only by the last one's padding */
	}
	if (off < len)
		return err_set(err, -EBADMSG, "%zu stray bytes after the attributes", len - off);
	return 0;
}

static int parse_selector(const struct xfrm_selector *sel, struct nl_xfrm_policy *p,
			  struct err *err)
{
	size_t alen = nl_addr_len(sel->family);

	if (!alen)
		return err_set(err, -EAFNOSUPPORT, "selector family %u", sel->family);
	if (sel->prefixlen_s > alen * 8 || sel->prefixlen_d > alen * 8)
		return err_set(err, -EBADMSG, "selector prefix lengths %u and %u for family %u",
			       sel->prefixlen_s, sel->prefixlen_d, sel->family);
	/* Kept as the kernel has them, host bits and all: a delete must
	 * send the same bytes. */
	p->src.addr.family = (uint8_t)sel->family;
	memcpy(p->src.addr.b, &sel->saddr, alen);
	p->src.len = sel->prefixlen_s;
	p->dst.addr.family = (uint8_t)sel->family;
	memcpy(p->dst.addr.b, &sel->daddr, alen);
	p->dst.len = sel->prefixlen_d;
	if (sel->dport || sel->dport_mask || sel->sport || sel->sport_mask || sel->proto ||
	    sel->ifindex || sel->user || !ip_addr_is_aligned(&p->src.addr, p->src.len) ||
	    !ip_addr_is_aligned(&p->dst.addr, p->dst.len))
		p->extra = true;
	return 0;
}

static int parse_tmpl(const struct nlattr *a, int family, struct nl_xfrm_policy *p, struct err *err)
{
	struct xfrm_user_tmpl t;
	size_t len, alen;
	int tfamily;

	if (!a)
		return 0; /* no templates: an allow or block policy */
	len = mnl_attr_get_payload_len(a);
	if (len % sizeof(t))
		return err_set(err, -EBADMSG, "XFRMA_TMPL: %zu bytes, not a multiple of %zu", len,
			       sizeof(t));
	p->ntmpl = (unsigned)(len / sizeof(t));
	if (!p->ntmpl)
		return 0;
	memcpy(&t, mnl_attr_get_payload(a), sizeof(t));
	/* Zero: the policy's family (the kernel fills it in on add). */
	tfamily = t.family ? t.family : family;
	alen = nl_addr_len(tfamily);
	if (!alen)
		return err_set(err, -EAFNOSUPPORT, "template family %u", t.family);
	p->tmpl_src.family = (uint8_t)tfamily;
	memcpy(p->tmpl_src.b, &t.saddr, alen);
	p->tmpl_dst.family = (uint8_t)tfamily;
	memcpy(p->tmpl_dst.b, &t.id.daddr, alen);
	p->reqid = t.reqid;
	p->esp_tunnel = t.id.proto == IPPROTO_ESP && t.mode == XFRM_MODE_TUNNEL;
	if (t.id.spi || t.share || t.optional || t.aalgos != ~0u || t.ealgos != ~0u ||
	    t.calgos != ~0u)
		p->extra = true;
	return 0;
}

/* A fixed-size attribute: absent (false), or present with exactly len
 * bytes copied to ret (true); any other length is -EBADMSG in *ret_err. */
static bool fixed_attr(const struct nlattr *a, const char *name, void *ret, size_t len,
		       int *ret_err, struct err *err)
{
	if (!a || *ret_err)
		return false;
	if (mnl_attr_get_payload_len(a) != len) {
		*ret_err = err_set(err, -EBADMSG, "%s: %u bytes, expected %zu", name,
				   (unsigned)mnl_attr_get_payload_len(a), len);
		return false;
	}
	memcpy(ret, mnl_attr_get_payload(a), len);
	return true;
}

int nl_xfrm_policy_parse(const struct nlmsghdr *nlh, struct nl_xfrm_policy *ret_policy,
			 struct err *err)
{
	const struct nlattr *tb[XFRMA_MAX + 1];
	struct xfrm_userpolicy_info info;
	struct xfrm_userpolicy_type type;
	struct xfrm_mark mark;
	struct nl_xfrm_policy p;
	uint32_t if_id;
	int ret = 0;

	if (nlh->nlmsg_type != XFRM_MSG_NEWPOLICY && nlh->nlmsg_type != XFRM_MSG_UPDPOLICY)
		return err_set(err, -EINVAL, "message type %u is no policy", nlh->nlmsg_type);
	ret = parse_attrs(nlh, sizeof(info), tb, XFRMA_MAX, err);
	if (ret < 0)
		return ret;
	memcpy(&info, mnl_nlmsg_get_payload(nlh), sizeof(info));
	if (info.dir > XFRM_POLICY_FWD)
		return err_set(err, -EOPNOTSUPP, "a socket policy (dir %u)", info.dir);

	memset(&p, 0, sizeof(p));
	p.dir = info.dir;
	p.priority = info.priority;
	p.index = info.index;
	if (info.action != XFRM_POLICY_ALLOW || info.flags)
		p.extra = true;
	ret = parse_selector(&info.sel, &p, err);
	if (ret < 0)
		return ret;
	ret = parse_tmpl(tb[XFRMA_TMPL], info.sel.family, &p, err);
	if (ret < 0)
		return ret;
	if (fixed_attr(tb[XFRMA_MARK], "XFRMA_MARK", &mark, sizeof(mark), &ret, err) &&
	    (mark.v || mark.m))
		p.extra = true;
	if (fixed_attr(tb[XFRMA_IF_ID], "XFRMA_IF_ID", &if_id, sizeof(if_id), &ret, err) && if_id)
		p.extra = true;
	if (fixed_attr(tb[XFRMA_POLICY_TYPE], "XFRMA_POLICY_TYPE", &type, sizeof(type), &ret,
		       err) &&
	    type.type != XFRM_POLICY_TYPE_MAIN)
		p.extra = true;
	if (ret < 0)
		return ret;
	if (tb[XFRMA_SEC_CTX])
		p.extra = true;
	*ret_policy = p;
	return 0;
}

/* ---- the socket ---- */

int nl_xfrm_open(struct nl_xfrm **ret_x, struct err *err)
{
	struct nl_xfrm *x = xcalloc(1, sizeof(*x));
	int ret;

	ret = nl_open_proto(NETLINK_XFRM, &x->nl);
	if (ret == -EPROTONOSUPPORT) {
		err_set(err, ret, "the kernel has no xfrm netlink (CONFIG_XFRM_USER)");
		goto out;
	}
	if (ret < 0) {
		err_set(err, ret, "xfrm netlink socket: %s", strerror(-ret));
		goto out;
	}
	*ret_x = x;
	x = NULL;
out:
	nl_xfrm_close(x);
	return ret;
}

void nl_xfrm_close(struct nl_xfrm *x)
{
	if (!x)
		return;
	nl_close(x->nl);
	free(x);
}

struct nl *nl_xfrm_nl(struct nl_xfrm *x)
{
	return x->nl;
}

/* nl_request, with err saying what was asked ("what: kernel's words"). */
static int request(struct nl_xfrm *x, struct nlmsghdr *nlh, const char *what, struct err *err)
{
	struct err e = {""};
	int ret;

	ret = nl_request(x->nl, nlh, &e);
	if (ret >= 0)
		return 0;
	if (!e.msg[0])
		err_set(&e, ret, "%s", strerror(-ret));
	return err_set(err, ret, "%s: %s", what, e.msg);
}

int nl_xfrm_policy_update(struct nl_xfrm *x, const struct nl_xfrm_policy *p, struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(x->nl, XFRM_MSG_UPDPOLICY, 0);
	char desc[DESC_LEN], what[DESC_LEN + 32];
	int ret;

	describe(p, desc);
	ret = nl_xfrm_policy_build(nlh, NL_MSG_MAX, p);
	if (ret < 0)
		return err_set(err, ret, "bad xfrm policy %s", desc);
	snprintf(what, sizeof(what), "updating xfrm policy %s", desc);
	return request(x, nlh, what, err);
}

int nl_xfrm_policy_del(struct nl_xfrm *x, const struct nl_xfrm_policy *p, struct err *err)
{
	struct nlmsghdr *nlh = nl_msg_start(x->nl, XFRM_MSG_DELPOLICY, 0);
	char desc[DESC_LEN], what[DESC_LEN + 32];
	int ret;

	describe(p, desc);
	ret = nl_xfrm_policy_del_build(nlh, NL_MSG_MAX, p);
	if (ret < 0)
		return err_set(err, ret, "bad xfrm policy %s", desc);
	snprintf(what, sizeof(what), "deleting xfrm policy %s", desc);
	return request(x, nlh, what, err);
}

struct dump {
	nl_xfrm_policy_cb *cb;
	void *arg;
	unsigned skipped;
};

static int dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;
	struct nl_xfrm_policy p;

	if (nl_xfrm_policy_parse(nlh, &p, NULL) < 0) {
		d->skipped++;
		return 0;
	}
	return d->cb(&p, d->arg);
}

int nl_xfrm_policy_dump(struct nl_xfrm *x, nl_xfrm_policy_cb *cb, void *arg, unsigned *ret_skipped,
			struct err *err)
{
	struct dump d = {.cb = cb, .arg = arg};
	struct nlmsghdr *nlh;
	int ret;

	/* A bare header: the kernel's policy dump takes no filter. */
	nlh = nl_msg_start(x->nl, XFRM_MSG_GETPOLICY, NLM_F_DUMP);
	ret = nl_dump(x->nl, nlh, dump_cb, &d);
	if (ret_skipped)
		*ret_skipped = d.skipped;
	if (ret < 0)
		return err_set(err, ret, "dumping xfrm policies: %s", strerror(-ret));
	return 0;
}

/* ---- the ESP probe ---- */

/* Add a probe SA with alg and delete it again: 0, or the add's -errno
 * (nothing was left), or the delete's (err names the SA). */
static int probe_once(struct nl_xfrm *x, enum nl_xfrm_probe_alg alg, struct err *err)
{
	struct nl_xfrm_probe_sa sa;
	char what[128], s[IP_ADDR_STRLEN], d[IP_ADDR_STRLEN];
	struct nlmsghdr *nlh;
	uint32_t r;
	int ret = -EEXIST;

	memset(&sa, 0, sizeof(sa));
	sa.src.family = AF_INET;
	memcpy(sa.src.b, (const uint8_t[]){192, 0, 2, 1}, 4);
	sa.dst.family = AF_INET;
	memcpy(sa.dst.b, (const uint8_t[]){192, 0, 2, 2}, 4);
	sa.alg = alg;
	sa.lifetime_s = PROBE_LIFETIME_S;
	/* An SA of that SPI and address exists (someone else's probe):
	 * never touch it, take another SPI. */
	for (int i = 0; i < PROBE_TRIES && ret == -EEXIST; i++) {
		ret = random_bytes(&r, sizeof(r));
		if (ret == 0)
			ret = random_bytes(sa.key, sizeof(sa.key));
		if (ret < 0)
			return err_set(err, ret, "random bytes: %s", strerror(-ret));
		sa.spi = r < PROBE_SPI_MIN ? r + PROBE_SPI_MIN : r;
		nlh = nl_msg_start(x->nl, XFRM_MSG_NEWSA, 0);
		ret = nl_xfrm_probe_sa_build(nlh, NL_MSG_MAX, &sa);
		if (ret < 0)
			return err_set(err, ret, "building the probe SA");
		snprintf(what, sizeof(what), "adding a probe ESP SA with %s",
			 alg == NL_XFRM_PROBE_GCM ? "rfc4106(gcm(aes))" : "cbc(aes), hmac(sha256)");
		ret = request(x, nlh, what, err);
	}
	explicit_bzero(sa.key, sizeof(sa.key));
	if (ret < 0)
		return ret;

	nlh = nl_msg_start(x->nl, XFRM_MSG_DELSA, 0);
	ret = nl_xfrm_sa_del_build(nlh, NL_MSG_MAX, &sa.dst, sa.spi);
	if (ret < 0)
		return err_set(err, ret, "building the probe SA's delete");
	snprintf(what, sizeof(what),
		 "deleting the probe ESP SA %s -> %s spi 0x%08x (the kernel drops it after %u s)",
		 ip_addr_format(&sa.src, s), ip_addr_format(&sa.dst, d), sa.spi, PROBE_LIFETIME_S);
	ret = request(x, nlh, what, err);
	if (ret == -ESRCH)
		ret = 0; /* gone already: someone flushed the SAs */
	return ret;
}

int nl_xfrm_esp_probe(struct nl_xfrm *x, struct err *err)
{
	struct err e1 = {""}, e2 = {""};
	int ret;

	ret = probe_once(x, NL_XFRM_PROBE_GCM, &e1);
	if (ret == 0)
		return 1;
	if (ret == -EPROTONOSUPPORT) {
		err_set(err, 0, "the kernel has no ESP (%s)", e1.msg);
		return 0;
	}
	if (ret != -ENOSYS)
		return err_set(err, ret, "%s", e1.msg);
	/* No rfc4106(gcm(aes)). The kernel attaches the algorithms before
	 * it looks up the type, so this does not tell whether there is ESP:
	 * ask again with cbc(aes) and hmac(sha256). */
	ret = probe_once(x, NL_XFRM_PROBE_CBC_HMAC, &e2);
	if (ret == -EPROTONOSUPPORT) {
		err_set(err, 0, "the kernel has no ESP (%s), nor rfc4106(gcm(aes))", e2.msg);
		return 0;
	}
	if (ret == 0)
		return err_set(err, -ENOSYS, "the kernel has ESP but no rfc4106(gcm(aes)) (%s)",
			       e1.msg);
	if (ret == -ENOSYS)
		return err_set(err, -ENOSYS,
			       "the kernel has neither rfc4106(gcm(aes)) nor cbc(aes) with "
			       "hmac(sha256): whether it has ESP cannot be told (%s)",
			       e2.msg);
	return err_set(err, ret, "%s", e2.msg);
}
