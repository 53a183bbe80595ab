// SPDX-License-Identifier: Apache-2.0
#include "subnet/peer_check.h"

#include <errno.h>
#include <sys/socket.h>

#include "core/err.h"
#include "subnet/netconf.h"

static int check_family(const struct ip_prefix *net, const struct ip_prefix *own, bool have_own,
			const struct ip_prefix *peer, const char *what, struct err *err)
{
	char a[IP_PREFIX_STRLEN], b[IP_PREFIX_STRLEN];

	if (!ip_prefix_contains_prefix(net, peer))
		return err_set(err, -EDOM, "%s %s is outside the network %s", what,
			       ip_prefix_format(peer, a), ip_prefix_format(net, b));
	if (have_own && ip_prefix_overlaps(own, peer))
		return err_set(err, -EDOM, "%s %s overlaps our subnet %s", what,
			       ip_prefix_format(peer, a), ip_prefix_format(own, b));
	return 0;
}

int peer_subnet_check(const struct netconf *nc, const struct subnet_key *own,
		      const struct subnet_key *peer, struct err *err)
{
	int rc;

	if (nc->enable_ipv4 && subnet_key_has_v4(peer)) {
		rc = check_family(&nc->network, own ? &own->v4 : NULL,
				  own && subnet_key_has_v4(own), &peer->v4, "subnet", err);
		if (rc < 0)
			return rc;
	}
	if (nc->enable_ipv6 && peer->has_v6) {
		rc = check_family(&nc->ipv6_network, own ? &own->v6 : NULL, own && own->has_v6,
				  &peer->v6, "IPv6 subnet", err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
