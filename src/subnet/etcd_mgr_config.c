// SPDX-License-Identifier: Apache-2.0
/* The etcd manager's network config: fetched and validated, retried until it is. */
#include "core/err.h"
#include "core/log.h"
#include "etcd/etcd.h"
#include "subnet/etcd_mgr_int.h"

#define CONFIG_RETRY_MS 1000

static void config_fetch(struct etcd_mgr *m);

static void config_got(void *arg, int rc, const struct etcd_range_result *res)
{
	struct etcd_mgr *m = arg;
	struct err err = { 0 };
	struct netconf nc;

	if (rc < 0) {
		log_warnx("cannot read %s: %s; retrying in 1s", m->config_key,
			  etcd_strerror(m->etcd));
		goto retry;
	}
	if (res->n == 0) {
		log_warnx("network config %s not found in etcd (create it with the v3 API, e.g. "
			  "weftctl config put); retrying in 1s",
			  m->config_key);
		goto retry;
	}
	if (netconf_load(res->kvs[0].value, res->kvs[0].value_len, &nc, &err) < 0) {
		log_warnx("invalid network config %s: %s; retrying in 1s", m->config_key, err.msg);
		goto retry;
	}
	m->nc = nc;
	m->have_config = true;
	if (m->base.cbs.config)
		m->base.cbs.config(m->base.cbs.arg, &m->nc);
	return;
retry:
	etcd_mgr_schedule(m, CONFIG_RETRY_MS, config_fetch);
}

static void config_fetch(struct etcd_mgr *m)
{
	if (etcd_get(m->etcd, m->config_key, config_got, m) < 0)
		etcd_mgr_schedule(m, CONFIG_RETRY_MS, config_fetch);
}

int etcd_mgr_start(struct subnet_mgr *base)
{
	config_fetch(etcd_mgr_of(base));
	return 0;
}
