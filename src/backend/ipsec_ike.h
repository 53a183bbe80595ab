/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_IPSEC_IKE_H
#define WEFT_BACKEND_IPSEC_IKE_H

/*
 * The VICI requests the ipsec backend sends charon (flannel.md §7.6), built
 * as upstream's handle_charon.go fills them: the PSK (type IKE, owned by a
 * public IP), one IKE connection per peer with one child, and their
 * removal. Pure functions over struct buf; no I/O.
 */
#include <stdbool.h>
#include <stddef.h>

#include "backend/ipsec_conf.h"

struct buf;
struct vici_node;

/* load-shared: PSK for owner (a public IP), under id (so it can be
 * unloaded). */
int ike_load_shared(struct buf *out, const char *id, const char *psk, const char *owner);
int ike_unload_shared(struct buf *out, const char *id);

/*
 * load-conn of the peer's connection (ipsec_conn_name) with its child
 * (ipsec_child_name): IKEv2 between the public IPs, upstream's IKE
 * proposal, keyingtries 0, PSK on both sides, encap as configured (always
 * with userspace ESP), child with the subnets as traffic selectors, the
 * ESP proposal, start_action start, close_action trap, dpd_action restart,
 * tunnel mode, rekey_time 1h; reqid 11 and no policies with kernel ESP
 * (weft installs the kernel's itself, as upstream), charon's own reqids
 * and policies with userspace ESP.
 */
int ike_load_conn(struct buf *out, const struct ipsec_conf *c, const struct ipsec_peer_ids *p,
		  bool userspace);
int ike_unload_conn(struct buf *out, const char *name);
/* terminate the IKE_SA(s) of connection name, without waiting. */
int ike_terminate(struct buf *out, const char *name);
/* Start the CHILD_SA child of connection ike again, without waiting. */
int ike_initiate(struct buf *out, const char *ike, const char *child);
/* A request without arguments (list-sas takes noblock). */
int ike_command(struct buf *out, const char *cmd);

/* A command's reply: 0 when success = yes, else -EIO with errmsg copied
 * into errmsg (or "no reason given"). */
int ike_reply_status(const struct vici_node *reply, char *errmsg, size_t len);

#endif
