// SPDX-License-Identifier: Apache-2.0
/*
 * The traffic-rules object: picks the mode at creation and dispatches to
 * iptables.c or nftables.c.
 */
#include "nft/traffic.h"

#include <errno.h>
#include <stdlib.h>

#include "core/xmalloc.h"
#include "nft/traffic_int.h"

static bool params_equal(const struct traffic_params *a, const struct traffic_params *b)
{
	return a->ipv4 == b->ipv4 && a->ipv6 == b->ipv6 && a->masq == b->masq &&
	       a->forward == b->forward && a->fully_random_disable == b->fully_random_disable &&
	       ip_prefix_equal(&a->network, &b->network) &&
	       ip_prefix_equal(&a->subnet, &b->subnet) &&
	       ip_prefix_equal(&a->network6, &b->network6) &&
	       ip_prefix_equal(&a->subnet6, &b->subnet6);
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
	if (t->has_applied && params_equal(&t->applied, p))
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
