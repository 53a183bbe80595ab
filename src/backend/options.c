// SPDX-License-Identifier: Apache-2.0
/* Backend options judged without a host (options.h). */
#include "backend/options.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "backend/conf.h"
#include "backend/ext_cmd.h"
#include "backend/ipsec_conf.h"
#include "backend/wg_conf.h"
#include "core/err.h"
#include "core/json_ci.h"
#include "subnet/netconf.h"

int vxlan_options_parse(const char *json, struct vx_cfg *cfg, struct err *err)
{
	uint64_t vni = 0, port = 0, mtu = 0;
	const json_t *v;
	bool csum_off = false;
	json_t *o;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	o = backend_conf_object(json, err);
	if (!o)
		return -EINVAL;
	if ((rc = backend_conf_uint(o, "VNI", 0xffffff, &vni, err)) < 0 ||
	    (rc = backend_conf_uint(o, "Port", 65535, &port, err)) < 0 ||
	    (rc = backend_conf_uint(o, "MTU", 65535, &mtu, err)) < 0 ||
	    (rc = backend_conf_bool(o, "GBP", &cfg->gbp, err)) < 0 ||
	    (rc = backend_conf_bool(o, "Learning", &cfg->learning, err)) < 0 ||
	    (rc = backend_conf_bool(o, "DirectRouting", &cfg->direct_routing, err)) < 0 ||
	    (rc = backend_conf_bool(o, "DisableTxChecksumOffload", &csum_off, err)) < 0)
		goto out;
	v = json_get_ci(o, "DisableTxChecksumOffload");
	cfg->tx_csum_off = !v || json_is_null(v) ? -1 : csum_off;
	cfg->vni = vni ? (uint32_t)vni : 1;
	cfg->port = (uint16_t)port;
	cfg->mtu = (unsigned)mtu;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

int udp_options_parse(const char *json, struct udp_cfg *cfg, struct err *err)
{
	uint64_t port = 0;
	json_t *o;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->port = DEFAULT_UDP_PORT;
	cfg->fast_path = true;
	o = backend_conf_object(json, err);
	if (!o)
		return -EINVAL;
	if ((rc = backend_conf_uint(o, "Port", 65535, &port, err)) == 0 &&
	    (rc = backend_conf_bool(o, "FastPath", &cfg->fast_path, err)) == 0)
		rc = backend_conf_bool(o, "MatchPeerPort", &cfg->match_port, err);
	if (port)
		cfg->port = (uint16_t)port;
	json_decref(o);
	return rc;
}

int ipip_options_parse(const char *json, const struct netconf *nc, bool *ret_direct_routing,
		       struct err *err)
{
	json_t *o = backend_conf_object(json, err);
	int rc;

	*ret_direct_routing = false;
	if (!o)
		return -EINVAL;
	rc = backend_conf_bool(o, "DirectRouting", ret_direct_routing, err);
	json_decref(o);
	if (rc < 0)
		return rc;
	/* Upstream ignores EnableIPv6 here and then fails on the first IPv6
	 * lease event: refused up front instead. */
	if (nc->enable_ipv6)
		return err_set(err, -EINVAL,
			       "the ipip backend supports IPv4 only; EnableIPv6 must be false "
			       "(vxlan, host-gw and wireguard carry IPv6)");
	if (!nc->enable_ipv4)
		return err_set(err, -EINVAL, "the ipip backend needs EnableIPv4");
	return 0;
}

int ipsec_options_check_net(const struct netconf *nc, struct err *err)
{
	if (!nc->enable_ipv4 || nc->enable_ipv6)
		return err_set(err, -EINVAL, "the ipsec backend supports IPv4 only (EnableIPv6 "
			       "must be false)");
	return 0;
}

static int check_vxlan(const struct netconf *nc, struct err *err)
{
	struct vx_cfg c;

	return vxlan_options_parse(nc->backend_json, &c, err);
}

static int check_udp(const struct netconf *nc, struct err *err)
{
	struct udp_cfg c;

	return udp_options_parse(nc->backend_json, &c, err);
}

static int check_wireguard(const struct netconf *nc, struct err *err)
{
	struct wg_conf c;
	int rc = wg_conf_parse(nc->backend_json, 0, &c, err);

	explicit_bzero(&c, sizeof(c));
	return rc;
}

static int check_ipip(const struct netconf *nc, struct err *err)
{
	bool direct;

	return ipip_options_parse(nc->backend_json, nc, &direct, err);
}

static int check_ipsec(const struct netconf *nc, struct err *err)
{
	struct ipsec_conf c;
	int rc = ipsec_options_check_net(nc, err);

	if (rc < 0)
		return rc;
	rc = ipsec_conf_parse(nc->backend_json, &c, err);
	if (rc == 0)
		ipsec_conf_clear(&c);
	return rc;
}

static int check_extension(const struct netconf *nc, struct err *err)
{
	struct ext_conf c;
	int rc = ext_conf_parse(nc->backend_json, &c, err);

	if (rc == 0)
		ext_conf_free(&c);
	return rc;
}

static int check_none(const struct netconf *nc, struct err *err)
{
	(void)nc;
	(void)err;
	return 0;
}

/* Every type backend.c's table has, in the same spelling. */
static const struct {
	const char *type;
	int (*check)(const struct netconf *nc, struct err *err);
} checks[] = {
	{"vxlan", check_vxlan},	    {"host-gw", check_none},	    {"udp", check_udp},
	{"alloc", check_none},	    {"wireguard", check_wireguard}, {"ipsec", check_ipsec},
	{"ipip", check_ipip},	    {"extension", check_extension},
};

int backend_options_check(const char *type, const struct netconf *nc, struct err *err)
{
	if (!type)
		type = "";

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (!strcmp(checks[i].type, type))
			return checks[i].check(nc, err);
	return err_set(err, -ENOENT, "unknown backend type '%s'", type);
}
