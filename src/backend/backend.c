// SPDX-License-Identifier: Apache-2.0
/*
 * The table of backends and the calls the agent makes on any of them. The
 * agent never names a backend: what one backend alone does (udp's data-path
 * counters, vxlan's MAC from the previous run) goes through its ops.
 */
#include "backend/backend.h"
#include "backend/options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/alloc.h"
#include "backend/extension.h"
#include "backend/hostgw.h"
#include "backend/ipip.h"
#include "backend/ipsec.h"
#include "backend/udp.h"
#include "backend/vxlan.h"
#include "backend/wireguard.h"
#include "core/err.h"
#include "core/log.h"

static const struct backend_ops *const backends[] = {
	&alloc_backend_ops,
	&vxlan_backend_ops,
	&hostgw_backend_ops,
	&udp_backend_ops,
	&wireguard_backend_ops,
	&ipsec_backend_ops,
	&ipip_backend_ops,
	&extension_backend_ops,
};

struct metrics_family *backend_counter_family(const struct backend_counter_families *f,
					      const char *name, const char **ret_label)
{
	if (!strcmp(name, "tx_packets") || !strcmp(name, "rx_packets")) {
		*ret_label = name[0] == 't' ? "tx" : "rx";
		return f->packets;
	}
	if (!strcmp(name, "tx_bytes") || !strcmp(name, "rx_bytes")) {
		*ret_label = name[0] == 't' ? "tx" : "rx";
		return f->bytes;
	}
	if (!strncmp(name, "drop_", 5)) {
		*ret_label = name + 5;
		return f->drops;
	}
	*ret_label = name;
	return f->events;
}

int backend_new(const char *type, const struct backend_params *p, struct backend **ret,
		struct err *err)
{
	const struct backend_ops *ops = NULL;
	struct backend *b;
	int rc;

	*ret = NULL;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]) && !ops; i++)
		if (type && !strcmp(backends[i]->type, type))
			ops = backends[i];
	if (!ops)
		return err_set(err, -ENOENT, "unknown backend type '%s'", type ? type : "");
	/* The validator weftctl config check runs too (options.h). */
	rc = backend_options_check(type, p->nc, err);
	if (rc < 0)
		return rc;
	rc = ops->create(p, &b, err);
	if (rc < 0)
		return rc;
	b->ops = ops;
	*ret = b;
	return 0;
}

int backend_prepare(struct backend *b, backend_done_fn *done, void *arg)
{
	if (b->ops->prepare)
		return b->ops->prepare(b, done, arg);
	done(arg, 0, NULL);
	return 0;
}

void backend_base_init(struct backend *b, const struct backend_params *p)
{
	b->loop = p->loop;
	b->ext = *p->ext;
	b->fail = p->fail;
	b->fail_arg = p->fail_arg;
}

void backend_fail(struct backend *b)
{
	if (b->fail)
		b->fail(b->fail_arg);
}

void backend_free(struct backend *b)
{
	if (b)
		b->ops->destroy(b);
}

void backend_peers(struct backend *b, const struct lease_event *ev, size_t n)
{
	if (b->ops->peers)
		b->ops->peers(b, ev, n);
}

int backend_start(struct backend *b)
{
	return b->ops->start ? b->ops->start(b) : 0;
}

void backend_dump(struct backend *b)
{
	if (b && b->ops->dump)
		b->ops->dump(b);
}

void backend_stats(struct backend *b, struct backend_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (b && b->ops->stats)
		b->ops->stats(b, ret);
}

int backend_metrics(struct backend *b, struct metrics *m)
{
	return b && b->ops->metrics ? b->ops->metrics(b, m) : 0;
}

int backend_ext_changed(struct backend *b, const struct ext_iface *ext, struct err *err)
{
	if (!b->ops->ext_changed)
		return err_set(err, -EOPNOTSUPP, "the %s backend cannot follow a new interface",
			       b->ops->type);
	return b->ops->ext_changed(b, ext, err);
}

enum backend_engine backend_engine_from_env(const char *name)
{
	const char *e = getenv(name);

	if (!e || !*e || !strcmp(e, "auto"))
		return BACKEND_ENGINE_AUTO;
	if (!strcmp(e, "kernel"))
		return BACKEND_ENGINE_KERNEL;
	if (!strcmp(e, "userspace"))
		return BACKEND_ENGINE_USERSPACE;
	log_warnx("ignoring %s=%s (auto, kernel or userspace)", name, e);
	return BACKEND_ENGINE_AUTO;
}
