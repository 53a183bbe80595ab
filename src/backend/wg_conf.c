// SPDX-License-Identifier: Apache-2.0
/*
 * The wireguard backend's options and lease data, as upstream's
 * pkg/backend/wireguard reads and writes them (flannel.md §7.7). Where
 * upstream would go on with a value that cannot work (a listen port of 0,
 * which WireGuard turns into a random one that peers cannot know), this
 * says so instead.
 */
#include "backend/wg_conf.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "backend/conf.h"
#include "core/base64.h"
#include "core/err.h"
#include "core/json_ci.h"
#include "core/xmalloc.h"

static const char *const mode_names[] = {
	[WG_MODE_SEPARATE] = "separate",
	[WG_MODE_AUTO] = "auto",
	[WG_MODE_IPV4] = "ipv4",
	[WG_MODE_IPV6] = "ipv6",
};

const char *wg_mode_name(enum wg_mode mode)
{
	return (unsigned)mode < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[mode] : "?";
}

/* A WireGuard key as wg and upstream write it: the padded base64 of 32 bytes. */
static int key_parse(const char *s, size_t len, uint8_t ret[WG_KEY_LEN])
{
	uint8_t tmp[WG_KEY_LEN + 4];
	long n;

	if (len != 44)
		return -EINVAL;
	n = base64_decode(s, len, tmp);
	if (n != WG_KEY_LEN)
		return -EINVAL;
	memcpy(ret, tmp, WG_KEY_LEN);
	return 0;
}

static int get_port(const json_t *o, const char *key, uint16_t *ret, struct err *err)
{
	const json_t *v = json_get_ci(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
		return err_set(err, -EINVAL, "Backend.%s must be an integer between 1 and 65535",
			       key);
	*ret = (uint16_t)json_integer_value(v);
	return 0;
}

static int get_mode(const json_t *o, enum wg_mode *ret, struct err *err)
{
	const char *s = NULL;
	int rc = backend_conf_string(o, "Mode", &s, err);

	if (rc < 0 || !s)
		return rc;
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (!strcmp(s, mode_names[i])) {
			*ret = (enum wg_mode)i;
			return 0;
		}
	}
	return err_set(err, -EINVAL, "Backend.Mode must be one of separate, auto, ipv4, ipv6");
}

int wg_conf_parse(const char *json, unsigned iface_mtu, struct wg_conf *ret, struct err *err)
{
	struct wg_conf c = {
		.port = WG_DEFAULT_PORT,
		.port_v6 = WG_DEFAULT_PORT_V6,
		.mode = WG_MODE_SEPARATE,
	};
	uint64_t mtu = 0, keepalive = 0;
	const char *psk = NULL;
	json_t *o;
	int rc;

	memset(ret, 0, sizeof(*ret));
	o = backend_conf_object(json, err);
	if (!o)
		return -EINVAL;
	if ((rc = get_port(o, "ListenPort", &c.port, err)) < 0 ||
	    (rc = get_port(o, "ListenPortV6", &c.port_v6, err)) < 0 ||
	    (rc = backend_conf_uint(o, "MTU", 65535, &mtu, err)) < 0 ||
	    (rc = backend_conf_uint(o, "PersistentKeepaliveInterval", 65535, &keepalive, err)) <
		    0 ||
	    (rc = get_mode(o, &c.mode, err)) < 0 ||
	    (rc = backend_conf_string(o, "PSK", &psk, err)) < 0)
		goto out;
	if (psk) {
		/* The key itself stays out of the message. */
		if (key_parse(psk, strlen(psk), c.psk) < 0) {
			rc = err_set(err, -EINVAL, "Backend.PSK must be a WireGuard key: the base64 "
				     "of 32 bytes, as 'wg genpsk' prints it");
			goto out;
		}
		c.has_psk = true;
	}
	c.mtu = mtu ? (unsigned)mtu : iface_mtu;
	/* iface_mtu 0: no host to ask (weftctl config check); only a given MTU counts. */
	if ((mtu || iface_mtu) && c.mtu <= WG_OVERHEAD + 68) {
		rc = err_set(err, -EINVAL, "MTU %u is too small for WireGuard", c.mtu);
		goto out;
	}
	c.keepalive_s = (uint32_t)keepalive;
	*ret = c;
	rc = 0;
out:
	explicit_bzero(&c, sizeof(c));
	json_decref(o);
	return rc;
}

char *wg_lease_data(const uint8_t pub[WG_KEY_LEN], uint16_t port)
{
	char key[64], *s;

	base64_encode(pub, WG_KEY_LEN, key);
	xasprintf(&s, "{\"PublicKey\":\"%s\",\"Port\":%u}", key, port);
	return s;
}

int wg_peer_data_parse(const char *json, uint16_t own_port, uint8_t ret_pub[WG_KEY_LEN],
		       uint16_t *ret_port, struct err *err)
{
	json_t *o = json ? json_loads(json, 0, NULL) : NULL;
	const json_t *key, *port;
	int rc = 0;

	if (!json_is_object(o)) {
		rc = err_set(err, -EINVAL, "BackendData is not a JSON object");
		goto out;
	}
	key = json_get_ci(o, "PublicKey");
	port = json_get_ci(o, "Port");
	if (!json_is_string(key) ||
	    key_parse(json_string_value(key), json_string_length(key), ret_pub) < 0) {
		rc = err_set(err, -EINVAL, "BackendData has no PublicKey of 32 bytes in base64");
		goto out;
	}
	if (port && !json_is_null(port) &&
	    (!json_is_integer(port) || json_integer_value(port) < 0 ||
	     json_integer_value(port) > 65535)) {
		rc = err_set(err, -EINVAL, "BackendData.Port must be an integer between 0 and 65535");
		goto out;
	}
	*ret_port = json_is_integer(port) && json_integer_value(port) ?
			    (uint16_t)json_integer_value(port) : own_port;
out:
	json_decref(o);
	return rc;
}

static bool is_rfc1918(const struct ip_addr *a)
{
	return a->b[0] == 10 || (a->b[0] == 172 && (a->b[1] & 0xf0) == 16) ||
	       (a->b[0] == 192 && a->b[1] == 168);
}

static bool is_ula(const struct ip_addr *a)
{
	return (a->b[0] & 0xfe) == 0xfc;
}

int wg_auto_family(const struct ip_addr *peer_v4, const struct ip_addr *peer_v6,
		   const struct ip_addr *own_v4, const struct ip_addr *own_v6)
{
	bool p4 = peer_v4 && peer_v4->family == AF_INET && !ip_addr_is_unset(peer_v4);
	bool p6 = peer_v6 && peer_v6->family == AF_INET6;
	bool o4 = own_v4 && own_v4->family == AF_INET && !ip_addr_is_unset(own_v4);
	bool o6 = own_v6 && own_v6->family == AF_INET6;

	if (!p6)
		return AF_INET;
	if (!p4)
		return AF_INET6;
	if (!is_rfc1918(peer_v4) && o4)
		return AF_INET;
	if (!is_ula(peer_v6) && o6 && !is_ula(own_v6))
		return AF_INET6;
	return AF_INET;
}
