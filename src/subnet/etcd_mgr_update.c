// SPDX-License-Identifier: Apache-2.0
/*
 * Our lease's attributes changed while we hold it (a new public address after
 * the external interface changed): our key is written again with the new
 * value under the etcd lease it has, compared on the revision we last saw, so
 * that an operator's edit or deletion meanwhile is never overwritten. A lost
 * comparison (our own renewal, which already carries the new value, or an
 * edit the watch is bringing) or a failed request is retried after a pause;
 * renewals write the new value from now on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "etcd/etcd.h"
#include "subnet/etcd_mgr_int.h"

#define UPDATE_RETRY_MS 1000

static void update_put(struct etcd_mgr *m);

static int64_t update_fire(struct loop *loop, int64_t id, void *arg)
{
	struct etcd_mgr *m = arg;

	(void)loop;
	(void)id;
	m->update_timer = 0;
	update_put(m);
	return LOOP_TIMER_STOP;
}

static void update_done(void *arg, int rc, int64_t rev, bool ok)
{
	struct etcd_mgr *m = arg;
	char pub[IP_ADDR_STRLEN], pub6[IP_ADDR_STRLEN];

	m->updating = false;
	if (m->gone)
		return;
	if (rc == 0 && ok && m->update_again) {
		/* What we wrote is already old: write the newest now. */
		m->own.mod_revision = rev;
		m->update_again = false;
		update_put(m);
		return;
	}
	m->update_again = false;
	if (rc < 0 || !ok) {
		if (rc < 0)
			log_warnx("updating lease %s: %s; retrying in %dms", m->own.name,
				  etcd_strerror(m->etcd), UPDATE_RETRY_MS);
		else
			log_info("lease %s changed in etcd while updating it; retrying in %dms",
				 m->own.name, UPDATE_RETRY_MS);
		loop_timer_set(m->loop, &m->update_timer, UPDATE_RETRY_MS, update_fire, m);
		return;
	}
	m->own.mod_revision = rev;
	lease_attrs_free(&m->own.attrs);
	lease_attrs_copy(&m->own.attrs, &m->want);
	log_info("lease %s updated in etcd: PublicIP %s%s%s", m->own.name,
		 m->want.public_ip.family ? ip_addr_format(&m->want.public_ip, pub) : "(none)",
		 m->want.public_ipv6.family ? ", PublicIPv6 " : "",
		 m->want.public_ipv6.family ? ip_addr_format(&m->want.public_ipv6, pub6) : "");
}

static void update_put(struct etcd_mgr *m)
{
	char *key;
	int rc;

	if (m->updating || m->gone || !m->have_own)
		return;
	key = etcd_mgr_key_of(m, m->own.name);
	/* Under the etcd lease the key has now (0: a reservation stays one). */
	rc = etcd_replace(m->etcd, key, m->own.mod_revision, m->want_json, strlen(m->want_json),
			  m->own.store_lease, update_done, m);
	free(key);
	if (rc < 0) {
		update_done(m, rc, 0, false);
		return;
	}
	m->updating = true;
}

int etcd_mgr_update_attrs(struct subnet_mgr *base, const struct lease_attrs *attrs)
{
	struct etcd_mgr *m = etcd_mgr_of(base);
	char *json = NULL;
	int rc;

	if (!m->have_own || m->gone)
		return -ENOENT;
	rc = lease_attrs_encode(attrs, &json);
	if (rc < 0)
		return rc;
	lease_attrs_free(&m->want);
	lease_attrs_copy(&m->want, attrs);
	free(m->want_json);
	m->want_json = json;
	loop_timer_clear(m->loop, &m->update_timer);
	/* A write under way carries the old value: its answer writes again. */
	if (m->updating) {
		m->update_again = true;
		return 0;
	}
	update_put(m);
	return 0;
}
