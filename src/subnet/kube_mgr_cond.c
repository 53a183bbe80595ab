// SPDX-License-Identifier: Apache-2.0
/*
 * The NetworkUnavailable=False condition (reason FlannelIsUp) on our Node,
 * set once watch() was called (--set-node-network-unavailable), through the
 * retrying status patch of kube_mgr_annot.c.
 */
#include <time.h>

#include "core/log.h"
#include "kube/node.h"
#include "subnet/kube_mgr_int.h"

static char *cond_body(struct kube_mgr *m)
{
	(void)m;
	return kube_condition_patch(time(NULL));
}

static void cond_done(struct kube_mgr *m, const char *why, int64_t retry_ms)
{
	if (!why)
		log_info("node %s: condition NetworkUnavailable=False (FlannelIsUp) set",
			 m->node_name);
	else
		log_warnx("setting NetworkUnavailable=False on node %s: %s; retrying in %lldms",
			  m->node_name, why, (long long)retry_ms);
}

void kube_mgr_cond_init(struct kube_mgr *m)
{
	m->cond = (struct status_patch){ .m = m, .body = cond_body, .done = cond_done };
}
