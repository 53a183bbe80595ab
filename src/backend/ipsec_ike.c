// SPDX-License-Identifier: Apache-2.0
/*
 * The messages of handle_charon.go, in VICI's encoding (ipsec/vici.h).
 * Connection and child keys are swanctl.conf's names, which VICI takes.
 */
#include "backend/ipsec_ike.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "ipsec/vici.h"

int ike_load_shared(struct buf *out, const char *id, const char *psk, const char *owner)
{
	struct vici_builder b;

	vici_build_begin(&b, out, VICI_CMD_REQUEST, "load-shared");
	vici_build_str(&b, "id", id);
	vici_build_str(&b, "type", "IKE");
	vici_build_str(&b, "data", psk);
	vici_build_list(&b, "owners");
	vici_build_item_str(&b, owner);
	vici_build_list_end(&b);
	return vici_build_finish(&b);
}

int ike_unload_shared(struct buf *out, const char *id)
{
	struct vici_builder b;

	vici_build_begin(&b, out, VICI_CMD_REQUEST, "unload-shared");
	vici_build_str(&b, "id", id);
	return vici_build_finish(&b);
}

static void list1(struct vici_builder *b, const char *key, const char *value)
{
	vici_build_list(b, key);
	vici_build_item_str(b, value);
	vici_build_list_end(b);
}

int ike_load_conn(struct buf *out, const struct ipsec_conf *c, const struct ipsec_peer_ids *p,
		  bool userspace)
{
	char name[IPSEC_NAME_MAX], child[IPSEC_NAME_MAX];
	char li[IP_ADDR_STRLEN], ri[IP_ADDR_STRLEN], ln[IP_PREFIX_STRLEN], rn[IP_PREFIX_STRLEN];
	char reqid[16];
	struct vici_builder b;

	snprintf(reqid, sizeof(reqid), "%d", IPSEC_REQID);
	vici_build_begin(&b, out, VICI_CMD_REQUEST, "load-conn");
	vici_build_section(&b, ipsec_conn_name(p, name));
	vici_build_str(&b, "version", "2");
	list1(&b, "local_addrs", ip_addr_format(&p->local_ip, li));
	list1(&b, "remote_addrs", ip_addr_format(&p->remote_ip, ri));
	list1(&b, "proposals", IPSEC_IKE_PROPOSAL);
	vici_build_str(&b, "keyingtries", "0");
	/* libipsec cannot receive plain ESP: it always goes in UDP. */
	vici_build_str(&b, "encap", c->udp_encap || userspace ? "yes" : "no");
	vici_build_section(&b, "local");
	vici_build_str(&b, "auth", "psk");
	vici_build_section_end(&b);
	vici_build_section(&b, "remote");
	vici_build_str(&b, "auth", "psk");
	vici_build_section_end(&b);
	vici_build_section(&b, "children");
	vici_build_section(&b, ipsec_child_name(p, child));
	list1(&b, "local_ts", ip_prefix_format(&p->local_net, ln));
	list1(&b, "remote_ts", ip_prefix_format(&p->remote_net, rn));
	list1(&b, "esp_proposals", c->esp_proposal);
	vici_build_str(&b, "start_action", "start");
	vici_build_str(&b, "close_action", "trap");
	vici_build_str(&b, "dpd_action", "restart");
	vici_build_str(&b, "mode", "tunnel");
	/* libipsec finds an outbound SA by reqid alone: with one reqid for
	 * all peers it would send to any of them. The kernel also matches
	 * the template's address, so there upstream's fixed reqid 11 stays. */
	if (!userspace)
		vici_build_str(&b, "reqid", reqid);
	vici_build_str(&b, "rekey_time", "1h");
	vici_build_str(&b, "policies", userspace ? "yes" : "no");
	vici_build_section_end(&b);
	vici_build_section_end(&b);
	vici_build_section_end(&b);
	return vici_build_finish(&b);
}

int ike_unload_conn(struct buf *out, const char *name)
{
	struct vici_builder b;

	vici_build_begin(&b, out, VICI_CMD_REQUEST, "unload-conn");
	vici_build_str(&b, "name", name);
	return vici_build_finish(&b);
}

int ike_terminate(struct buf *out, const char *name)
{
	struct vici_builder b;

	vici_build_begin(&b, out, VICI_CMD_REQUEST, "terminate");
	vici_build_str(&b, "ike", name);
	vici_build_str(&b, "force", "yes");
	vici_build_str(&b, "timeout", "-1");
	return vici_build_finish(&b);
}

int ike_initiate(struct buf *out, const char *ike, const char *child)
{
	struct vici_builder b;

	vici_build_begin(&b, out, VICI_CMD_REQUEST, "initiate");
	vici_build_str(&b, "child", child);
	vici_build_str(&b, "ike", ike);
	vici_build_str(&b, "timeout", "-1"); /* answer at once; list-sas shows the outcome */
	return vici_build_finish(&b);
}

int ike_command(struct buf *out, const char *cmd)
{
	struct vici_builder b;

	vici_build_begin(&b, out, VICI_CMD_REQUEST, cmd);
	if (!strcmp(cmd, "list-sas"))
		vici_build_str(&b, "noblock", "yes");
	return vici_build_finish(&b);
}

int ike_reply_status(const struct vici_node *reply, char *errmsg, size_t len)
{
	char ok[8];

	if (reply && vici_get_str(reply, "success", ok, sizeof(ok)) == 0 && !strcmp(ok, "yes"))
		return 0;
	if (!reply || vici_get_str(reply, "errmsg", errmsg, len) < 0 || !*errmsg)
		snprintf(errmsg, len, "no reason given");
	return -EIO;
}
