// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the CNI plugin's strict subnet.env reader
 * (cni/conf.c flannel_env_parse, not the daemon's tolerant one in
 * src/subnet), and for the delegate configuration built from what it accepts.
 * Invariants: no crash, leak or undefined behaviour; an accepted file has
 * what ADD needs (a network, a subnet, an MTU, the masquerade flag), its
 * prefixes have no host bits, no list holds a prefix twice, and the delegate
 * built from it encodes to JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../cni/conf.h"
#include "../../cni/delegate.h"
#include "../../cni/result.h"
#include "core/buf.h"
#include "core/ipnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_prefix(const struct ip_prefix *p)
{
	if (!ip_addr_is_aligned(&p->addr, p->len))
		abort();
}

static void check_list(const struct ip_prefix *l, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		check_prefix(&l[i]);
		for (unsigned k = 0; k < i; k++)
			if (ip_prefix_equal(&l[k], &l[i]))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char stdin_conf[] = "{\"name\":\"cbr0\",\"cniVersion\":\"0.3.1\","
					 "\"delegate\":{\"hairpinMode\":true},\"ipam\":{"
					 "\"routes\":[{\"dst\":\"10.96.0.0/12\"}]}}";
	struct cni_error e = {0};
	struct flannel_env env;
	struct cni_conf c;
	struct buf out;
	json_t *d = NULL, *j;

	if (size > FLANNEL_ENV_MAX_SIZE)
		return 0; /* flannel_env_load refuses more before parsing */
	if (flannel_env_parse("subnet.env", (const char *)data, size, &env, &e) < 0) {
		if (e.code != CNI_ERR_INVALID_CONFIG || !e.msg[0] || env.nws || env.ip6_nws)
			abort();
		return 0;
	}
	if ((!env.n_nws && !env.n_ip6_nws) || (!env.has_sn && !env.has_ip6_sn) || !env.has_mtu ||
	    !env.has_ipmasq)
		abort();
	check_list(env.nws, env.n_nws);
	check_list(env.ip6_nws, env.n_ip6_nws);
	if (env.has_sn)
		check_prefix(&env.sn);
	if (env.has_ip6_sn)
		check_prefix(&env.ip6_sn);

	if (cni_conf_parse(stdin_conf, sizeof(stdin_conf) - 1, &c, &e) < 0)
		abort();
	buf_init(&out, DELEGATE_MAX_SIZE);
	if (delegate_build(&c, &env, &d, &e) < 0 || delegate_encode(d, &out, &e) < 0)
		abort(); /* nothing in an accepted subnet.env can make ADD fail here */
	j = json_loadb(out.data, out.len, 0, NULL);
	if (!json_is_object(j))
		abort();
	json_decref(j);
	json_decref(d);
	buf_free(&out);
	cni_conf_free(&c);
	flannel_env_free(&env);
	return 0;
}
