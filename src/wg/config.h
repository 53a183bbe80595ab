/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WG_CONFIG_H
#define WEFT_WG_CONFIG_H

/*
 * A WireGuard device's configuration as one value, shared by everything
 * that reads or writes it: the backend's desired state, a change to apply
 * (the same shape as the cross-platform protocol's "set" and the kernel's
 * WG_CMD_SET_DEVICE: flags say replace or remove), and a device's state
 * read back ("get", WG_CMD_GET_DEVICE, with the counters). Both engines,
 * the UAPI text and the generic-netlink messages convert to and from it.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/crypto.h"

struct err;

struct wg_allowed_ip {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	uint8_t cidr;
};

/* An endpoint: family AF_UNSPEC when none. IPv4 as sockaddr_in. */
union wg_endpoint {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

enum wg_peer_flags {
	WG_PEER_REMOVE = 1U << 0,		/* remove=true */
	WG_PEER_UPDATE_ONLY = 1U << 1,		/* update_only=true */
	WG_PEER_REPLACE_ALLOWED_IPS = 1U << 2,	/* replace_allowed_ips=true */
	WG_PEER_HAS_PSK = 1U << 3,		/* preshared_key given (all zero = remove) */
	WG_PEER_HAS_KEEPALIVE = 1U << 4,	/* persistent_keepalive_interval given */
};

struct wg_peer_config {
	uint8_t pub[WG_KEY_LEN];
	uint8_t psk[WG_KEY_LEN];
	unsigned flags;
	union wg_endpoint endpoint;
	uint16_t keepalive_s;
	struct wg_allowed_ip *allowed; /* malloc'd */
	size_t n_allowed;
	/* read back only */
	int64_t last_handshake_sec;
	long last_handshake_nsec;
	uint64_t rx_bytes, tx_bytes;
};

enum wg_dev_flags {
	WG_DEV_HAS_PRIVATE = 1U << 0, /* private_key given (all zero = remove) */
	WG_DEV_HAS_PORT = 1U << 1,
	WG_DEV_HAS_FWMARK = 1U << 2,
	WG_DEV_REPLACE_PEERS = 1U << 3,
};

struct wg_device_config {
	unsigned flags;
	uint8_t priv[WG_KEY_LEN];
	uint8_t pub[WG_KEY_LEN]; /* read back only (set when a private key is) */
	uint16_t port;
	uint32_t fwmark;
	struct wg_peer_config *peers; /* malloc'd */
	size_t n_peers;
};

/* Free what a config holds (not c itself) and wipe its keys. */
void wg_device_config_clear(struct wg_device_config *c);
/* Append a zeroed peer and return it (xrealloc). */
struct wg_peer_config *wg_device_config_add_peer(struct wg_device_config *c);
/* Append an allowed IP to a peer (xrealloc). */
void wg_peer_config_add_allowed(struct wg_peer_config *p, const struct wg_allowed_ip *a);
/* The peer with this public key, or NULL. */
struct wg_peer_config *wg_device_config_find(const struct wg_device_config *c,
					     const uint8_t pub[WG_KEY_LEN]);

/* The allowed IP in its network form (host bits cleared) and whether it was
 * already; "10.5.1.0/24" style text into buf. */
const char *wg_allowed_ip_format(const struct wg_allowed_ip *a, char *buf, size_t len);
const char *wg_endpoint_format(const union wg_endpoint *e, char *buf, size_t len);

/*
 * The change that makes a device whose state is `have` into `want` (a full
 * desired state: private key, port, every peer with its psk, endpoint,
 * keepalive and allowed IPs): into *ret, only what differs, never
 * REPLACE_PEERS (sessions of unchanged peers survive): the private key and
 * port when they differ, peers missing from `have` added, peers whose psk,
 * endpoint, keepalive or allowed IPs differ updated (allowed IPs replaced),
 * peers in `have` only removed. Returns the number of changed items (0 =
 * in sync).
 */
size_t wg_device_config_diff(const struct wg_device_config *want,
			     const struct wg_device_config *have, struct wg_device_config *ret);

#endif
