// SPDX-License-Identifier: Apache-2.0
/*
 * The traffic-rules object: picks the mode at creation and dispatches to
 * iptables.c or nftables.c.
 */
#include "nft/traffic.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "core/xmalloc.h"
#include "nft/rules.h"
#include "nft/traffic_int.h"

struct traffic {
	struct traffic_mode *mode;  /* fixed at creation */
	struct traffic_mode *other; /* the mode not in use, for its leftovers */

	/* The parameters of the last apply or check; what the mode kept
	 * about its write goes when they change. */
	struct traffic_params applied;
	bool has_applied;
};

static bool params_equal(const struct traffic_params *a, const struct traffic_params *b)
{
	return a->ipv4 == b->ipv4 && a->ipv6 == b->ipv6 && a->masq == b->masq &&
	       a->forward == b->forward && a->fully_random_disable == b->fully_random_disable &&
	       a->overlay_proto == b->overlay_proto && a->overlay_port == b->overlay_port &&
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
	if (p->npeers && !p->peers)
		return err_set(err, -EINVAL, "traffic rules: %zu peers without addresses",
			       p->npeers);
	if (p->overlay_proto && p->overlay_proto != IPPROTO_UDP && p->overlay_proto != IPPROTO_IPIP)
		return err_set(err, -EINVAL, "traffic rules: overlay protocol %u not supported",
			       p->overlay_proto);
	if (p->overlay_proto == IPPROTO_UDP && p->overlay_port == 0)
		return err_set(err, -EINVAL, "traffic rules: overlay UDP port 0");
	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		/* The overlay rule names no prefix. */
		for (set = 0; set < TRAFFIC_OVERLAY; set++) {
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

/* A call that reports in `what` starts with it empty and p checked. */
static int start_report(const struct traffic_params *p, char *what, size_t len, struct err *err)
{
	if (what && len)
		what[0] = '\0';
	return params_valid(p, err);
}

static int mode_new(const struct traffic_mode_ops *ops, bool in_use, struct traffic_mode **ret,
		    struct err *err)
{
	int rc = ops->create(in_use, ret, err);

	if (rc < 0)
		return rc;
	(*ret)->ops = ops;
	(*ret)->cancel_fd = -1;
	return 0;
}

int traffic_new(bool nftables_mode, struct traffic **ret, struct err *err)
{
	const struct traffic_mode_ops *use = nftables_mode ? &traffic_nft_ops : &traffic_ipt_ops;
	const struct traffic_mode_ops *other = nftables_mode ? &traffic_ipt_ops : &traffic_nft_ops;
	struct traffic *t = xcalloc(1, sizeof(*t));
	int rc;

	rc = mode_new(use, true, &t->mode, err);
	if (rc == 0)
		rc = mode_new(other, false, &t->other, err);
	if (rc < 0) {
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
	if (t->mode)
		t->mode->ops->destroy(t->mode);
	if (t->other)
		t->other->ops->destroy(t->other);
	free(t);
}

void traffic_set_cancel_fd(struct traffic *t, int fd)
{
	t->mode->cancel_fd = fd;
	t->other->cancel_fd = fd;
}

int traffic_cleanup(struct traffic *t, const struct traffic_params *now,
		    const struct traffic_params *old, char *what, size_t len, struct err *err)
{
	int rc;

	rc = start_report(now, what, len, err);
	if (rc < 0)
		return rc;
	t->other->ops->remove_leftovers(t->other, what, len);
	rc = t->mode->ops->cleanup(t->mode, now, old, what, len, err);
	if (rc < 0)
		return rc;
	return what && len && what[0] ? 1 : 0;
}

/* What a mode kept about its last write describes the parameters of that
 * write: it goes when they change, and before every new write. */
static void use_params(struct traffic *t, const struct traffic_params *p, bool writing)
{
	if (!writing && t->has_applied && params_equal(&t->applied, p))
		return;
	t->mode->ops->forget(t->mode);
	t->applied = *p;
	t->has_applied = true;
}

int traffic_apply(struct traffic *t, const struct traffic_params *p, struct err *err)
{
	int rc;

	rc = params_valid(p, err);
	if (rc < 0)
		return rc;
	use_params(t, p, true);
	return t->mode->ops->apply(t->mode, p, err);
}

int traffic_check(struct traffic *t, const struct traffic_params *p, char *what, size_t len,
		  struct err *err)
{
	int rc;

	rc = start_report(p, what, len, err);
	if (rc < 0)
		return rc;
	use_params(t, p, false);
	return t->mode->ops->check(t->mode, p, what, len, err);
}

int traffic_peers(struct traffic *t, const struct traffic_params *p, char *what, size_t len,
		  struct err *err)
{
	int rc;

	rc = start_report(p, what, len, err);
	if (rc < 0)
		return rc;
	use_params(t, p, false);
	return t->mode->ops->peers(t->mode, p, what, len, err);
}
