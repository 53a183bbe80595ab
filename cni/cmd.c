// SPDX-License-Identifier: Apache-2.0
/*
 * ADD stores the delegate configuration before delegating and removes it
 * again when the delegate fails, so a failed ADD leaves nothing behind. DEL
 * delegates with the stored bytes and removes them only once the delegate
 * succeeded, so that the runtime's retry of a failed DEL still finds them
 * (upstream removes them regardless). CHECK, STATUS and GC, which upstream
 * leaves to the library defaults, are delegated too.
 */
#include "cmd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/json_ci.h"
#include "core/xmalloc.h"
#include "delegate.h"
#include "exec.h"
#include "gojson.h"
#include "result.h"
#include "state.h"

/* Build and encode the delegate configuration from stdin and subnet.env. */
static int make_delegate(struct cni_ctx *ctx, json_t **ret_d, struct cni_error *e)
{
	struct flannel_env env;
	int r;

	*ret_d = NULL;
	if ((r = delegate_check(&ctx->conf, e)) < 0)
		return r;
	if ((r = flannel_env_load(ctx->conf.subnet_file, &env, e)) < 0)
		return r;
	r = delegate_build(&ctx->conf, &env, ret_d, e);
	flannel_env_free(&env);
	return r;
}

int cmd_add(struct cni_ctx *ctx, struct cni_error *e)
{
	struct state st = {.dfd = -1};
	struct exec_result res = {0};
	bool stored = false;
	char *plugin = NULL;
	json_t *d = NULL, *result;
	struct buf conf;
	int r;

	buf_init(&conf, DELEGATE_MAX_SIZE);
	if ((r = make_delegate(ctx, &d, e)) < 0 || (r = delegate_encode(d, &conf, e)) < 0)
		goto out;
	/* Look for the plugin first: a missing one leaves no file behind. */
	if ((r = exec_find(delegate_type(d), ctx->cni_path, &plugin, e)) < 0)
		goto out;
	if ((r = state_open(&st, ctx->conf.data_dir, true, false, e)) < 0 ||
	    (r = state_store(&st, ctx->container_id, conf.data, conf.len, e)) < 0)
		goto out;
	stored = true;
	fprintf(stderr, "delegateAdd: netconf sent to delegate plugin:\n%s\n", conf.data);
	if ((r = exec_call(plugin, "ADD", conf.data, conf.len, &res, e)) < 0)
		goto out;
	result = json_loadb(res.out.data ? res.out.data : "", res.out.len, 0, NULL);
	if (!json_is_object(result)) {
		/* The delegate did its work: keep the file so that DEL can undo it. */
		stored = false;
		r = cni_fail(e, CNI_ERR_INTERNAL,
			     "failed to delegate add: plugin %s printed no result object", plugin);
		json_decref(result);
		goto out;
	}
	json_decref(result);
	fwrite(res.out.data, 1, res.out.len, ctx->out);
	stored = false;
out:
	if (stored && state_remove(&st, ctx->container_id) < 0)
		fprintf(stderr, "failed to remove %s/%s after the failed ADD: %s\n",
			ctx->conf.data_dir, ctx->container_id, strerror(errno));
	state_close(&st);
	exec_result_free(&res);
	free(plugin);
	buf_free(&conf);
	json_decref(d);
	return r;
}

int cmd_del(struct cni_ctx *ctx, struct cni_error *e)
{
	struct state st = {.dfd = -1};
	struct exec_result res = {0};
	json_error_t jerr;
	const char *type;
	json_t *d = NULL;
	struct buf conf;
	int r;

	buf_init(&conf, DELEGATE_MAX_SIZE);
	if ((r = state_open(&st, ctx->conf.data_dir, false, false, e)) < 0)
		goto out;
	r = state_read(&st, ctx->container_id, &conf, e);
	if (r == -ENOENT) {
		r = 0; /* never added, or already deleted: DEL is idempotent */
		goto out;
	}
	if (r < 0)
		goto out;
	d = json_loadb(conf.data ? conf.data : "", conf.len, 0, &jerr);
	type = d ? delegate_type(d) : NULL;
	if (!type) {
		struct cni_error ignored = { 0 };

		/* Torn, e.g. empty after a power loss (the file is not fsync'ed):
		 * the delegate configuration is rebuilt as ADD built it, so that
		 * host-local still releases the address (it goes by container id). */
		fprintf(stderr, "failed to parse netconf %s/%s: %s; ", ctx->conf.data_dir,
			ctx->container_id, d ? "no \"type\"" : jerr.text);
		json_decref(d);
		buf_reset(&conf);
		if (make_delegate(ctx, &d, &ignored) < 0 || delegate_encode(d, &conf, &ignored) < 0) {
			/* Nothing can be delegated: the interface goes with the
			 * netns, the address only with a reboot (upstream: the same). */
			fprintf(stderr, "cannot rebuild it either (%s); removing it\n", ignored.msg);
			state_remove(&st, ctx->container_id);
			r = 0;
			goto out;
		}
		fprintf(stderr, "deleting with the configuration rebuilt from stdin and %s\n",
			ctx->conf.subnet_file);
		type = delegate_type(d);
	}
	if ((r = exec_plugin(type, ctx->cni_path, "DEL", conf.data, conf.len, &res, e)) < 0)
		goto out; /* kept for the runtime's retry */
	if (state_remove(&st, ctx->container_id) < 0)
		fprintf(stderr, "failed to remove %s/%s: %s\n", ctx->conf.data_dir,
			ctx->container_id, strerror(errno));
out:
	state_close(&st);
	exec_result_free(&res);
	buf_free(&conf);
	json_decref(d);
	return r;
}

int cmd_check(struct cni_ctx *ctx, struct cni_error *e)
{
	struct state st = {.dfd = -1};
	struct exec_result res = {0};
	struct buf stored, conf;
	json_error_t jerr;
	json_t *d = NULL;
	int r;

	buf_init(&stored, DELEGATE_MAX_SIZE);
	buf_init(&conf, DELEGATE_MAX_SIZE);
	if ((r = state_open(&st, ctx->conf.data_dir, false, false, e)) < 0)
		goto out;
	r = state_read(&st, ctx->container_id, &stored, e);
	if (r == -ENOENT) {
		r = cni_fail(e, CNI_ERR_UNKNOWN_CONTAINER,
			     "no delegate configuration stored for container %s in %s (no ADD, "
			     "or DEL already done)",
			     ctx->container_id, ctx->conf.data_dir);
		goto out;
	}
	if (r < 0)
		goto out;
	d = gojson_loadb(stored.data ? stored.data : "", stored.len, &jerr);
	if (!json_is_object(d) || !delegate_type(d)) {
		r = cni_fail(e, CNI_ERR_DECODE, "failed to parse netconf %s/%s: %s",
			     ctx->conf.data_dir, ctx->container_id, d ? "no \"type\"" : jerr.text);
		goto out;
	}
	/* The delegate checks against the result the runtime cached. */
	if (ctx->conf.prev_result && json_object_set(d, "prevResult", ctx->conf.prev_result) < 0) {
		r = cni_fail(e, CNI_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = delegate_encode(d, &conf, e)) < 0)
		goto out;
	r = exec_plugin(delegate_type(d), ctx->cni_path, "CHECK", conf.data, conf.len, &res, e);
out:
	state_close(&st);
	exec_result_free(&res);
	buf_free(&stored);
	buf_free(&conf);
	json_decref(d);
	return r;
}

/* Does the plugin speak this version (its VERSION answer)? STATUS and GC
 * only exist from 1.1.0 on, and older plugins reject the command. */
static bool plugin_supports(const char *plugin, const char *version)
{
	struct exec_result res = {0};
	struct cni_error e = {0};
	json_t *j = NULL, *list;
	bool yes = false;
	struct buf in;

	buf_init(&in, 256);
	buf_append(&in, "{\"cniVersion\":", 14);
	gojson_encode_string(&in, version, strlen(version));
	buf_append(&in, "}", 1);
	if (exec_call(plugin, "VERSION", in.data, in.len, &res, &e) == 0)
		j = json_loadb(res.out.data ? res.out.data : "", res.out.len, 0, NULL);
	list = json_object_get(j, "supportedVersions");
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *v = json_string_value(json_array_get(list, i));

		yes = yes || (v && !strcmp(v, version));
	}
	json_decref(j);
	cni_error_free(&e);
	exec_result_free(&res);
	buf_free(&in);
	return yes;
}

int cmd_status(struct cni_ctx *ctx, struct cni_error *e)
{
	struct exec_result res = {0};
	char *plugin = NULL;
	json_t *d = NULL;
	struct buf conf;
	int r;

	buf_init(&conf, DELEGATE_MAX_SIZE);
	if ((r = delegate_check(&ctx->conf, e)) < 0)
		goto out;
	/* Ready means: ADD would find a complete subnet.env and its plugin. */
	if ((r = make_delegate(ctx, &d, e)) < 0 || (r = delegate_encode(d, &conf, e)) < 0 ||
	    (r = exec_find(delegate_type(d), ctx->cni_path, &plugin, e)) < 0) {
		char why[sizeof(e->msg)];

		memcpy(why, e->msg, sizeof(why));
		r = cni_fail(e, CNI_ERR_NOT_AVAILABLE, "plugin not available: %s", why);
		goto out;
	}
	if (plugin_supports(plugin, ctx->conf.cni_version))
		r = exec_call(plugin, "STATUS", conf.data, conf.len, &res, e);
out:
	exec_result_free(&res);
	free(plugin);
	buf_free(&conf);
	json_decref(d);
	return r;
}

int cmd_gc(struct cni_ctx *ctx, struct cni_error *e)
{
	struct state st = {.dfd = -1};
	struct exec_result res = {0};
	json_t *valid, *d = NULL;
	const char **keep = NULL;
	char *plugin = NULL;
	unsigned removed;
	struct buf conf;
	size_t i;
	int r;

	buf_init(&conf, DELEGATE_MAX_SIZE);
	/* Without the list every attachment would look stale: refuse. */
	valid = json_get_ci(ctx->conf.root, "cni.dev/valid-attachments");
	if (!json_is_array(valid)) {
		r = cni_fail(
			e, CNI_ERR_INVALID_CONFIG,
			"GC needs the list \"cni.dev/valid-attachments\" in the configuration");
		goto out;
	}
	keep = xcalloc(json_array_size(valid) + 1, sizeof(*keep));
	for (i = 0; i < json_array_size(valid); i++) {
		keep[i] = json_string_value(json_get_ci(json_array_get(valid, i), "containerID"));
		if (!keep[i]) {
			r = cni_fail(e, CNI_ERR_INVALID_CONFIG,
				     "cni.dev/valid-attachments[%zu] has no \"containerID\" string",
				     i);
			goto out;
		}
	}
	if ((r = state_open(&st, ctx->conf.data_dir, false, true, e)) < 0 ||
	    (r = state_gc(&st, keep, json_array_size(valid), &removed, e)) < 0)
		goto out;
	state_close(&st);
	if (removed)
		fprintf(stderr, "GC: removed %u stale delegate configuration(s) from %s\n", removed,
			ctx->conf.data_dir);

	/* Then the delegate's own leftovers (host-local reservations). */
	if ((r = delegate_check(&ctx->conf, e)) < 0)
		goto out;
	if (make_delegate(ctx, &d, e) < 0 ||
	    exec_find(delegate_type(d), ctx->cni_path, &plugin, e) < 0) {
		fprintf(stderr, "GC: not delegated: %s\n", e->msg);
		memset(e, 0, sizeof(*e));
		r = 0;
		goto out;
	}
	if (json_object_set(d, "cni.dev/valid-attachments", valid) < 0) {
		r = cni_fail(e, CNI_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if ((r = delegate_encode(d, &conf, e)) < 0)
		goto out;
	if (plugin_supports(plugin, ctx->conf.cni_version))
		r = exec_call(plugin, "GC", conf.data, conf.len, &res, e);
	else
		fprintf(stderr, "GC: plugin %s does not support CNI %s: not delegated\n", plugin,
			ctx->conf.cni_version);
out:
	state_close(&st);
	exec_result_free(&res);
	free(plugin);
	free(keep);
	buf_free(&conf);
	json_decref(d);
	return r;
}
