/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_IPSEC_XFRM_H
#define WEFT_BACKEND_IPSEC_XFRM_H

/*
 * The ipsec backend's kernel ESP engine: the three XFRM policies of each
 * peer (flannel.md §7.6), installed when the peer arrives, removed when it
 * goes, and reconciled against the kernel: one deleted by hand comes back,
 * and ours that no peer wants (reqid 11, ESP tunnel template, both
 * selectors inside the Network) are removed. Policies of anyone else are
 * never touched. Logs what it changes.
 */
#include "backend/ipsec_conf.h"

struct backend_stats;
struct err;
struct ipsec_xfrm;

/* 1 when this kernel has the ESP transform, 0 when not, or -errno. */
int ipsec_xfrm_esp_probe(void);

int ipsec_xfrm_new(const struct ip_prefix *network, struct ipsec_xfrm **ret, struct err *err);
void ipsec_xfrm_free(struct ipsec_xfrm *x);

void ipsec_xfrm_add_peer(struct ipsec_xfrm *x, const struct ipsec_peer_ids *p);
void ipsec_xfrm_remove_peer(struct ipsec_xfrm *x, const struct ipsec_peer_ids *p);
/* Dump, add what is missing, remove stale ones of ours. */
void ipsec_xfrm_reconcile(struct ipsec_xfrm *x);
/* Policies in place, reconcile runs, corrections, errors. */
void ipsec_xfrm_report(const struct ipsec_xfrm *x, struct backend_stats *ret);

#endif
