// SPDX-License-Identifier: Apache-2.0
/*
 * The ipsec backend's options, read as upstream's pkg/backend/ipsec reads
 * them (Go's encoding/json into {UDPEncap bool, ESPProposal, PSK string}),
 * and the names it gives each peer's connection (handle_charon.go).
 */
#include "backend/ipsec_conf.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "backend/conf.h"
#include "core/err.h"
#include "core/xmalloc.h"

/* strongSwan's proposal keywords joined by '-' ("aes128gcm16-sha256-...");
 * anything else could only fail later, inside charon. */
static bool proposal_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > IPSEC_PROPOSAL_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

int ipsec_conf_parse(const char *json, struct ipsec_conf *ret, struct err *err)
{
	const char *psk = NULL, *esp = NULL;
	bool encap = false;
	json_t *o;
	int rc;

	memset(ret, 0, sizeof(*ret));
	o = backend_conf_object(json, err);
	if (!o)
		return -EINVAL;
	if ((rc = backend_conf_bool(o, "UDPEncap", &encap, err)) < 0 ||
	    (rc = backend_conf_string(o, "ESPProposal", &esp, err)) < 0 ||
	    (rc = backend_conf_string(o, "PSK", &psk, err)) < 0)
		goto out;
	if (!psk || strlen(psk) < IPSEC_MIN_PSK_LEN) {
		rc = err_set(err, -EINVAL,
			     "config error, password is too short: Backend.PSK must have at "
			     "least %d characters (it has %zu)",
			     IPSEC_MIN_PSK_LEN, psk ? strlen(psk) : (size_t)0);
		goto out;
	}
	if (!esp)
		esp = IPSEC_DEFAULT_ESP_PROPOSAL;
	if (!proposal_ok(esp)) {
		rc = err_set(err, -EINVAL,
			     "Backend.ESPProposal must be a strongSwan proposal such as %s: "
			     "algorithm keywords joined by '-', at most %d characters",
			     IPSEC_DEFAULT_ESP_PROPOSAL, IPSEC_PROPOSAL_MAX);
		goto out;
	}
	ret->psk = xstrdup(psk);
	ret->udp_encap = encap;
	snprintf(ret->esp_proposal, sizeof(ret->esp_proposal), "%s", esp);
	rc = 0;
out:
	json_decref(o);
	return rc;
}

void ipsec_conf_clear(struct ipsec_conf *c)
{
	if (c->psk) {
		explicit_bzero(c->psk, strlen(c->psk));
		free(c->psk);
	}
	memset(c, 0, sizeof(*c));
}

unsigned ipsec_mtu(unsigned iface_mtu, bool udp_encap)
{
	unsigned over = IPSEC_OVERHEAD + (udp_encap ? IPSEC_UDP_ENCAP_OVERHEAD : 0);

	return iface_mtu > over + 68 ? iface_mtu - over : 0;
}

const char *ipsec_conn_name(const struct ipsec_peer_ids *p, char buf[IPSEC_NAME_MAX])
{
	char li[IP_ADDR_STRLEN], ri[IP_ADDR_STRLEN], ln[IP_PREFIX_STRLEN], rn[IP_PREFIX_STRLEN];

	snprintf(buf, IPSEC_NAME_MAX, "%s-%s-%s-%s", ip_addr_format(&p->local_ip, li),
		 ip_prefix_format(&p->local_net, ln), ip_prefix_format(&p->remote_net, rn),
		 ip_addr_format(&p->remote_ip, ri));
	return buf;
}

const char *ipsec_child_name(const struct ipsec_peer_ids *p, char buf[IPSEC_NAME_MAX])
{
	char ln[IP_PREFIX_STRLEN], rn[IP_PREFIX_STRLEN];

	snprintf(buf, IPSEC_NAME_MAX, "%s-%s", ip_prefix_format(&p->local_net, ln),
		 ip_prefix_format(&p->remote_net, rn));
	return buf;
}
