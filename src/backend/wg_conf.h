/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_WG_CONF_H
#define WEFT_BACKEND_WG_CONF_H

/*
 * The wireguard backend's options and lease data (flannel.md §7.7, §4.2):
 * what the config's Backend says, what our lease's BackendData carries
 * ({"PublicKey":"<base64>","Port":<n>}, byte for byte as upstream writes
 * it), a peer's BackendData read back, and the `auto` mode's choice of a
 * peer's endpoint. Pure functions: no I/O, no logging.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/ipnet.h"
#include "wg/crypto.h"

struct err;

#define WG_OVERHEAD 80 /* FLANNEL_MTU = MTU - 80, as upstream */
#define WG_DEFAULT_PORT 51820
#define WG_DEFAULT_PORT_V6 51821

enum wg_mode {
	WG_MODE_SEPARATE, /* flannel-wg for IPv4, flannel-wg-v6 for IPv6 */
	WG_MODE_AUTO,	  /* one device, each peer's endpoint chosen (wg_auto_family) */
	WG_MODE_IPV4,	  /* one device, peers reached over IPv4 */
	WG_MODE_IPV6,	  /* one device, peers reached over IPv6 */
};

struct wg_conf {
	uint16_t port;	  /* ListenPort: the IPv4 device, or the single one */
	uint16_t port_v6; /* ListenPortV6: the IPv6 device in separate mode */
	bool has_psk;
	uint8_t psk[WG_KEY_LEN];
	unsigned mtu;		/* the device MTU: MTU, else the external interface's */
	uint32_t keepalive_s;	/* PersistentKeepaliveInterval, 0 = off */
	enum wg_mode mode;
};

/*
 * Backend (JSON text, NULL = absent) into *ret, with upstream's defaults;
 * iface_mtu is the external interface's. Errors name the key: a port of 0
 * or above 65535, a PSK that is not the base64 of 32 bytes, a Mode other
 * than separate/auto/ipv4/ipv6, an MTU that leaves no room for a packet.
 * The PSK never appears in err.
 */
int wg_conf_parse(const char *json, unsigned iface_mtu, struct wg_conf *ret, struct err *err);

/* Mode as written in the config. */
const char *wg_mode_name(enum wg_mode mode);

/* Our lease's BackendData / BackendV6Data: {"PublicKey":"<base64>","Port":<port>}
 * (malloc'd). */
char *wg_lease_data(const uint8_t pub[WG_KEY_LEN], uint16_t port);

/*
 * A peer's BackendData: its public key and port (a Port of 0 or none means
 * own_port, as upstream: older leases carry none). -EINVAL with err saying
 * what is wrong (not JSON, no PublicKey, not the base64 of 32 bytes, a port
 * out of range).
 */
int wg_peer_data_parse(const char *json, uint16_t own_port, uint8_t ret_pub[WG_KEY_LEN],
		       uint16_t *ret_port, struct err *err);

/*
 * `auto` mode: the family of the peer's endpoint (AF_INET or AF_INET6),
 * flannel.md §7.7: IPv4 when the peer has no IPv6 address, or its IPv4
 * address is not RFC 1918 and we have an IPv4 address; else IPv6 when
 * neither its IPv6 address nor ours is a ULA (fc00::/7); else IPv4.
 */
int wg_auto_family(const struct ip_addr *peer_v4, const struct ip_addr *peer_v6,
		   const struct ip_addr *own_v4, const struct ip_addr *own_v6);

#endif
