/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_IPSEC_CONF_H
#define WEFT_BACKEND_IPSEC_CONF_H

/*
 * The ipsec backend's options and per-peer naming (flannel.md §7.6): what
 * the config's Backend says, the MTU left for pods, and the names upstream
 * gives a peer's IKE connection and child, which operators see in swanctl
 * and logs. Pure functions: no I/O, no logging.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/ipnet.h"

struct err;

#define IPSEC_OVERHEAD 77	    /* outer IP, ESP header, IV, padding, trailer, ICV */
#define IPSEC_UDP_ENCAP_OVERHEAD 8  /* the UDP header of NAT-T */
#define IPSEC_MIN_PSK_LEN 96
#define IPSEC_DEFAULT_ESP_PROPOSAL "aes128gcm16-sha256-prfsha256-ecp256"
#define IPSEC_IKE_PROPOSAL "aes256-sha256-modp4096"
#define IPSEC_REQID 11
#define IPSEC_PROPOSAL_MAX 255

struct ipsec_conf {
	char *psk; /* malloc'd; ipsec_conf_clear wipes it */
	bool udp_encap;
	char esp_proposal[IPSEC_PROPOSAL_MAX + 1];
};

/*
 * Backend (JSON text, NULL = absent) into *ret, with upstream's defaults.
 * Errors name the key: a PSK shorter than 96 characters (upstream's
 * "config error, password is too short"), a UDPEncap that is not a
 * boolean, an ESPProposal that is empty, too long or not made of letters,
 * digits, '-' and '_'. The PSK never appears in err.
 */
int ipsec_conf_parse(const char *json, struct ipsec_conf *ret, struct err *err);
void ipsec_conf_clear(struct ipsec_conf *c);

/* FLANNEL_MTU: the interface's MTU less ESP's overhead, and less UDP's
 * when ESP is carried in UDP. 0 when nothing would be left. */
unsigned ipsec_mtu(unsigned iface_mtu, bool udp_encap);

/* What names a peer's connection: our and its subnet and public address. */
struct ipsec_peer_ids {
	struct ip_addr local_ip, remote_ip;
	struct ip_prefix local_net, remote_net;
};

#define IPSEC_NAME_MAX (2 * IP_ADDR_STRLEN + 2 * IP_PREFIX_STRLEN + 4)

/* "<localPublicIP>-<localSubnet>-<remoteSubnet>-<remotePublicIP>", as
 * upstream names the IKE connection. */
const char *ipsec_conn_name(const struct ipsec_peer_ids *p, char buf[IPSEC_NAME_MAX]);
/* "<localSubnet>-<remoteSubnet>": its child. */
const char *ipsec_child_name(const struct ipsec_peer_ids *p, char buf[IPSEC_NAME_MAX]);

#endif
