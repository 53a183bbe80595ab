// SPDX-License-Identifier: Apache-2.0
/*
 * The traffic-rules object: picks the mode at creation and dispatches to
 * iptables.c or nftables.c; plus the small text helpers both share.
 */
#include "nft/traffic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "nft/traffic_int.h"

int traffic_fam_index(int af)
{
	if (af == AF_INET)
		return 0;
	if (af == AF_INET6)
		return 1;
	return -1;
}

static bool fam_on(const struct traffic_params *p, int fi)
{
	return fi == 0 ? p->ipv4 : p->ipv6;
}

bool traffic_set_on(const struct traffic_params *p, int fi, enum traffic_set set)
{
	if (!fam_on(p, fi))
		return false;
	return set == TRAFFIC_MASQ ? p->masq : p->forward;
}

static int norm_prefix(const struct ip_prefix *in, int af, char out[IP_PREFIX_STRLEN])
{
	struct ip_prefix p;

	if (in->addr.family != af || ip_prefix_make(&in->addr, in->len, &p) < 0)
		return -EINVAL;
	ip_prefix_format(&p, out);
	return 0;
}

int traffic_prefixes(const struct traffic_params *p, int fi, enum traffic_set set,
		     char net[IP_PREFIX_STRLEN], char pod[IP_PREFIX_STRLEN])
{
	int af = fi == 0 ? AF_INET : AF_INET6;

	if (fi < 0 || fi >= TRAFFIC_NFAM)
		return -EINVAL;
	if (norm_prefix(fi == 0 ? &p->network : &p->network6, af, net) < 0)
		return -EINVAL;
	if (set == TRAFFIC_MASQ && pod &&
	    norm_prefix(fi == 0 ? &p->subnet : &p->subnet6, af, pod) < 0)
		return -EINVAL;
	return 0;
}

bool traffic_params_equal(const struct traffic_params *a, const struct traffic_params *b)
{
	return a->ipv4 == b->ipv4 && a->ipv6 == b->ipv6 && a->masq == b->masq &&
	       a->forward == b->forward && a->fully_random_disable == b->fully_random_disable &&
	       ip_prefix_equal(&a->network, &b->network) &&
	       ip_prefix_equal(&a->subnet, &b->subnet) &&
	       ip_prefix_equal(&a->network6, &b->network6) &&
	       ip_prefix_equal(&a->subnet6, &b->subnet6);
}

int traffic_bprintf(struct buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -E2BIG;
	return buf_append(b, line, (size_t)n);
}

void traffic_note(char *what, size_t len, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!what || len == 0)
		return;
	used = strnlen(what, len);
	if (used >= len - 1)
		return;
	if (used > 0) {
		snprintf(what + used, len - used, "; ");
		used = strnlen(what, len);
	}
	va_start(ap, fmt);
	vsnprintf(what + used, len - used, fmt, ap);
	va_end(ap);
}

bool traffic_has_line(const char *text, const char *line, size_t linelen)
{
	const char *p = text, *nl;

	while (p && *p) {
		nl = strchr(p, '\n');
		if ((size_t)(nl ? nl - p : (ptrdiff_t)strlen(p)) == linelen &&
		    memcmp(p, line, linelen) == 0)
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

/* Lines of `a` that `b` lacks. */
static unsigned lines_missing(const char *a, const char *b)
{
	const char *p = a, *nl;
	unsigned n = 0;
	size_t l;

	while (p && *p) {
		nl = strchr(p, '\n');
		l = nl ? (size_t)(nl - p) : strlen(p);
		if (l > 0 && !traffic_has_line(b, p, l))
			n++;
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

void traffic_describe_diff(const char *want, const char *got, char *out, size_t len)
{
	unsigned missing = lines_missing(want, got), extra = lines_missing(got, want);

	if (missing && extra)
		snprintf(out, len, "%u line%s missing, %u unexpected", missing,
			 missing == 1 ? "" : "s", extra);
	else if (missing)
		snprintf(out, len, "%u line%s missing", missing, missing == 1 ? "" : "s");
	else if (extra)
		snprintf(out, len, "%u unexpected line%s", extra, extra == 1 ? "" : "s");
	else
		snprintf(out, len, "lines reordered or repeated");
}

/* Every set a family enables must have usable prefixes of that family. */
static int params_valid(const struct traffic_params *p, struct err *err)
{
	char net[IP_PREFIX_STRLEN], pod[IP_PREFIX_STRLEN];
	int fi, set;

	if (!p)
		return err_set(err, -EINVAL, "traffic rules: no parameters");
	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		for (set = 0; set < TRAFFIC_NSET; set++) {
			if (!traffic_set_on(p, fi, (enum traffic_set)set))
				continue;
			if (traffic_prefixes(p, fi, (enum traffic_set)set, net, pod) < 0)
				return err_set(err, -EINVAL,
					       "traffic rules: %s %s needs an %s network%s",
					       fi ? "IPv6" : "IPv4",
					       set == TRAFFIC_MASQ ? "masquerading" : "forwarding",
					       fi ? "IPv6" : "IPv4",
					       set == TRAFFIC_MASQ ? " and subnet" : "");
		}
	}
	return 0;
}

static void refs_clear(struct traffic *t);

int traffic_new(bool nftables_mode, struct traffic **ret, struct err *err)
{
	struct traffic *t = xcalloc(1, sizeof(*t));
	int rc;

	t->nft_mode = nftables_mode;
	t->cancel_fd = -1;
	ipt_init(t);
	rc = nftm_init(t, err);
	/* iptables mode only needs libnftables to remove nftables-mode
	 * leftovers, and says so when it cannot. */
	if (rc < 0 && nftables_mode) {
		traffic_free(t);
		return rc;
	}
	*ret = t;
	return 0;
}

void traffic_free(struct traffic *t)
{
	if (!t)
		return;
	refs_clear(t);
	ipt_fini(t);
	nftm_fini(t);
	free(t);
}

void traffic_set_cancel_fd(struct traffic *t, int fd)
{
	t->cancel_fd = fd;
}

int traffic_cleanup(struct traffic *t, const struct traffic_params *now,
		    const struct traffic_params *old, char *what, size_t len, struct err *err)
{
	bool fam[TRAFFIC_NFAM];
	int rc;

	if (what && len)
		what[0] = '\0';
	rc = params_valid(now, err);
	if (rc < 0)
		return rc;
	if (t->nft_mode) {
		ipt_remove_leftovers(t, what, len);
		/* Our own table of a family that is now off. */
		fam[0] = !now->ipv4;
		fam[1] = !now->ipv6;
		nftm_remove_tables(t, fam, "family disabled", what, len);
	} else {
		fam[0] = fam[1] = true;
		nftm_remove_tables(t, fam, "left by nftables mode", what, len);
		/* Done with libnftables for good in this mode: unload it. */
		nftm_fini(t);
		rc = ipt_cleanup_old(t, now, old, what, len, err);
		if (rc < 0)
			return rc;
	}
	return what && len && what[0] ? 1 : 0;
}

/* References describe what the last apply wrote; drop them when the
 * parameters change. */
static void refs_clear(struct traffic *t)
{
	int fi, set;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		for (set = 0; set < TRAFFIC_NSET; set++) {
			free(t->ipt_ref[fi][set]);
			free(t->ipt_ref_jump[fi][set]);
			t->ipt_ref[fi][set] = t->ipt_ref_jump[fi][set] = NULL;
		}
		free(t->nft_ref[fi]);
		t->nft_ref[fi] = NULL;
	}
}

static void use_params(struct traffic *t, const struct traffic_params *p)
{
	if (t->has_applied && traffic_params_equal(&t->applied, p))
		return;
	refs_clear(t);
	t->applied = *p;
	t->has_applied = true;
}

int traffic_apply(struct traffic *t, const struct traffic_params *p, struct err *err)
{
	int rc;

	rc = params_valid(p, err);
	if (rc < 0)
		return rc;
	refs_clear(t);
	t->applied = *p;
	t->has_applied = true;
	return t->nft_mode ? nftm_apply(t, p, err) : ipt_apply(t, p, err);
}

int traffic_check(struct traffic *t, const struct traffic_params *p, char *what, size_t len,
		  struct err *err)
{
	int rc;

	if (what && len)
		what[0] = '\0';
	rc = params_valid(p, err);
	if (rc < 0)
		return rc;
	use_params(t, p);
	return t->nft_mode ? nftm_check(t, p, what, len, err) : ipt_check(t, p, what, len, err);
}
