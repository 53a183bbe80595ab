// SPDX-License-Identifier: Apache-2.0
/*
 * nftables mode (flannel spec 8.3), through libnftables: table `ip
 * flannel-ipv4` / `ip6 flannel-ipv6` with base chains postrtg (nat,
 * postrouting, srcnat) and forward (filter, forward, filter). Each table is
 * written in one transaction: add + flush + add chains + add rules, so
 * packets see the old rule set or the new one, never a mix.
 *
 * Unlike upstream, the table is also checked every resync period: listed
 * and compared as text with what we wrote. After each write the table is
 * read back; if it is not exactly our text (a foreign chain that survived
 * the flush, a stale comment), it is recreated (add + delete + add, still
 * one transaction), and if the text still differs, the read-back becomes
 * the reference, so that printing differences of other nft versions never
 * cause a rewrite every period.
 *
 * The overlay peer set's elements are not part of that text (the table is
 * listed terse, and stateless for the drop counter): they are listed on their
 * own and only the difference is added or deleted, as on a peer change
 * (traffic_peers), so that a thousand peers never mean a thousand-line
 * rewrite.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "core/container_of.h"
#include "core/xmalloc.h"
#include "nft/nftables_int.h"
#include "nft/rules.h"
#include "nft/text.h"
#include "nft/traffic_int.h"

#define NFTM_OUT_MAX (1u << 20)

struct nftm_mode {
	struct traffic_mode base;
	struct nft_ctx *ctx; /* NULL when libnftables failed, or was released */
	unsigned int out_flags; /* the context's output flags as created */
	bool probed[TRAFFIC_NFAM];
	bool fully_random[TRAFFIC_NFAM];
	/* What the table read back as after our write, when that is not our
	 * text (see above). */
	char *ref[TRAFFIC_NFAM];
};

/* ---- libnftables ---- */

/*
 * libnftables is loaded when needed, not linked: with its dependencies it is
 * about 1 MB resident, and iptables mode only uses it once at start (to remove
 * nftables-mode leftovers) before unloading it.
 */
static struct {
	void *handle;
	unsigned users;
	struct nft_ctx *(*ctx_new)(uint32_t flags);
	void (*ctx_free)(struct nft_ctx *ctx);
	int (*ctx_buffer_output)(struct nft_ctx *ctx);
	int (*ctx_buffer_error)(struct nft_ctx *ctx);
	int (*run_cmd_from_buffer)(struct nft_ctx *ctx, const char *buf);
	const char *(*ctx_get_output_buffer)(struct nft_ctx *ctx);
	const char *(*ctx_get_error_buffer)(struct nft_ctx *ctx);
	void (*ctx_set_dry_run)(struct nft_ctx *ctx, bool dry);
	unsigned int (*ctx_output_get_flags)(struct nft_ctx *ctx);
	void (*ctx_output_set_flags)(struct nft_ctx *ctx, unsigned int flags);
} api;

static int api_load(struct err *err)
{
	static const char *const names[] = {
		"nft_ctx_new", "nft_ctx_free", "nft_ctx_buffer_output", "nft_ctx_buffer_error",
		"nft_run_cmd_from_buffer", "nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer",
		"nft_ctx_set_dry_run", "nft_ctx_output_get_flags", "nft_ctx_output_set_flags",
	};
	void **slots[] = {
		(void **)&api.ctx_new, (void **)&api.ctx_free, (void **)&api.ctx_buffer_output,
		(void **)&api.ctx_buffer_error, (void **)&api.run_cmd_from_buffer,
		(void **)&api.ctx_get_output_buffer, (void **)&api.ctx_get_error_buffer,
		(void **)&api.ctx_set_dry_run, (void **)&api.ctx_output_get_flags,
		(void **)&api.ctx_output_set_flags,
	};

	if (api.users++)
		return 0;
	api.handle = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!api.handle) {
		api.users = 0;
		return err_set(err, -ENOENT, "cannot load libnftables.so.1: %s", dlerror());
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		*slots[i] = dlsym(api.handle, names[i]);
		if (!*slots[i]) {
			err_set(err, -ENOENT, "libnftables.so.1 lacks %s", names[i]);
			dlclose(api.handle);
			api.handle = NULL;
			api.users = 0;
			return -ENOENT;
		}
	}
	return 0;
}

static void api_unload(void)
{
	if (api.users && --api.users == 0) {
		dlclose(api.handle);
		api.handle = NULL;
	}
}

static int open_ctx(struct nftm_mode *m, struct err *err)
{
	int rc = api_load(err);

	if (rc < 0)
		return rc;
	m->ctx = api.ctx_new(NFT_CTX_DEFAULT);
	if (!m->ctx) {
		api_unload();
		return err_set(err, -ENOMEM, "libnftables: cannot create a context");
	}
	/* Buffered: nothing of libnftables reaches our stdout or stderr. */
	if (api.ctx_buffer_output(m->ctx) < 0 || api.ctx_buffer_error(m->ctx) < 0) {
		api.ctx_free(m->ctx);
		m->ctx = NULL;
		api_unload();
		return err_set(err, -ENOMEM, "libnftables: cannot buffer output");
	}
	m->out_flags = api.ctx_output_get_flags(m->ctx);
	return 0;
}

/* Unloads libnftables once no object uses it. */
static void release_ctx(struct nftm_mode *m)
{
	if (!m->ctx)
		return;
	api.ctx_free(m->ctx);
	m->ctx = NULL;
	api_unload();
}

static struct nftm_mode *to_nftm(struct traffic_mode *base)
{
	return container_of(base, struct nftm_mode, base);
}

static int nftm_create(bool in_use, struct traffic_mode **ret, struct err *err)
{
	struct nftm_mode *m = xcalloc(1, sizeof(*m));
	int rc;

	rc = open_ctx(m, in_use ? err : NULL);
	/* iptables mode only needs libnftables to remove nftables-mode
	 * leftovers, and says so when it cannot. */
	if (rc < 0 && in_use) {
		free(m);
		return rc;
	}
	*ret = &m->base;
	return 0;
}

static void nftm_forget(struct traffic_mode *base)
{
	struct nftm_mode *m = to_nftm(base);
	int fi;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		free(m->ref[fi]);
		m->ref[fi] = NULL;
	}
}

static void nftm_destroy(struct traffic_mode *base)
{
	struct nftm_mode *m = to_nftm(base);

	nftm_forget(base);
	release_ctx(m);
	free(m);
}

/* The error text on one line, without nft's caret lines. */
static void error_line(const char *e, char *s, size_t len)
{
	size_t j = 0;
	const char *nl;

	s[0] = '\0';
	if (!e)
		return;
	if (strncmp(e, "Error: ", 7) == 0)
		e += 7;
	nl = strchr(e, '\n');
	j = nl ? (size_t)(nl - e) : strlen(e);
	if (j >= len)
		j = len - 1;
	memcpy(s, e, j);
	s[j] = '\0';
}

/*
 * Run commands (one transaction); their output is appended to out when out
 * is not NULL. On failure err holds nft's first error line and the code is
 * -ENOENT for "No such file or directory", else -EPERM or -EIO.
 */
static int nftm_run(struct nftm_mode *m, const char *cmd, struct buf *out, struct err *err)
{
	const char *o, *e;
	char msg[200];
	int rc;

	if (!m->ctx)
		return err_set(err, -ENOTSUP, "libnftables unavailable");
	rc = api.run_cmd_from_buffer(m->ctx, cmd);
	/* Fetching a buffer also rewinds it for the next command. */
	o = api.ctx_get_output_buffer(m->ctx);
	e = api.ctx_get_error_buffer(m->ctx);
	if (rc == 0) {
		if (out && o && buf_append(out, o, strlen(o)) < 0)
			return err_set(err, -E2BIG, "nft output larger than %u bytes",
				       NFTM_OUT_MAX);
		return 0;
	}
	error_line(e, msg, sizeof(msg));
	if (strstr(msg, "No such file or directory"))
		rc = -ENOENT;
	else if (strstr(msg, "Operation not permitted"))
		rc = -EPERM;
	else
		rc = -EIO;
	return err_set(err, rc, "nft: %s", msg[0] ? msg : "command failed");
}

/*
 * Does the kernel take `masquerade fully-random`? Asked as upstream does,
 * with a check-only transaction (nothing is committed), once per family.
 */
static bool fully_random(struct nftm_mode *m, int fi, const struct traffic_params *p)
{
	char cmd[320];
	const char *f = nftm_family[fi];

	if (p->fully_random_disable || !m->ctx)
		return false;
	if (m->probed[fi])
		return m->fully_random[fi];
	snprintf(cmd, sizeof(cmd),
		 "add table %s weft-probe\n"
		 "add chain %s weft-probe masqueradeTest { " NFTM_POSTRTG_SPEC " ; }\n"
		 "add rule %s weft-probe masqueradeTest masquerade fully-random\n", f, f, f);
	api.ctx_set_dry_run(m->ctx, true);
	m->fully_random[fi] = nftm_run(m, cmd, NULL, NULL) == 0;
	api.ctx_set_dry_run(m->ctx, false);
	m->probed[fi] = true;
	return m->fully_random[fi];
}

/* A listing, with the output flags given (terse: no set elements;
 * stateless: no counter values) for this command only. */
static int nftm_list(struct nftm_mode *m, const char *cmd, unsigned int flags, struct buf *out,
		     struct err *err)
{
	int rc;

	buf_reset(out);
	if (!m->ctx)
		return nftm_run(m, cmd, out, err);
	api.ctx_output_set_flags(m->ctx, m->out_flags | flags);
	rc = nftm_run(m, cmd, out, err);
	api.ctx_output_set_flags(m->ctx, m->out_flags);
	return rc;
}

/* The table as traffic_nft_table_text has it: the peer set's elements are
 * compared on their own (sync_peers), counters never. */
static int list_table(struct nftm_mode *m, int fi, struct buf *out, struct err *err)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "list table %s %s", nftm_family[fi], nftm_table[fi]);
	return nftm_list(m, cmd, NFT_CTX_OUTPUT_TERSE | NFT_CTX_OUTPUT_STATELESS, out, err);
}

static int apply_family(struct nftm_mode *m, const struct traffic_params *p, int fi,
			struct err *err)
{
	int af = fi ? AF_INET6 : AF_INET, rc, round;
	bool fr = fully_random(m, fi, p);
	struct buf cmd, want, got;

	free(m->ref[fi]);
	m->ref[fi] = NULL;
	buf_init(&cmd, NFTM_OUT_MAX);
	buf_init(&want, NFTM_OUT_MAX);
	buf_init(&got, NFTM_OUT_MAX);
	rc = traffic_nft_table_text(p, af, fr, &want);
	if (rc < 0) {
		err_set(err, rc, "nft table %s: bad network or subnet", nftm_table[fi]);
		goto out;
	}
	for (round = 0; round < 2; round++) {
		buf_reset(&cmd);
		rc = traffic_nft_apply_text(p, af, fr, round == 1, &cmd);
		if (rc == 0)
			rc = nftm_run(m, cmd.data, NULL, err);
		/* Something of the same name in the way (a set of another
		 * type): the recreate clears it. */
		if (rc < 0 && rc != -E2BIG && round == 0)
			continue;
		if (rc < 0) {
			err_prefix(err, rc, "writing table %s %s", nftm_family[fi], nftm_table[fi]);
			goto out;
		}
		/* A failed read-back is not a failed write: keep no reference,
		 * the next check will tell. */
		if (list_table(m, fi, &got, NULL) < 0 ||
		    strcmp(traffic_text(&got), traffic_text(&want)) == 0)
			goto out;
	}
	m->ref[fi] = xstrdup(traffic_text(&got));
out:
	buf_free(&cmd);
	buf_free(&want);
	buf_free(&got);
	return rc;
}

static int nftm_apply(struct traffic_mode *base, const struct traffic_params *p, struct err *err)
{
	struct nftm_mode *m = to_nftm(base);
	int fi, rc;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		if (!(fi == 0 ? p->ipv4 : p->ipv6))
			continue;
		rc = apply_family(m, p, fi, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * The peer set of family fi: only the elements that differ, added and
 * deleted in one transaction; the table whole when the set cannot be read
 * or changed. 0 (nothing to do), 1 (what says what changed) or -errno.
 */
static int sync_peers(struct nftm_mode *m, const struct traffic_params *p, int fi, char *what,
		      size_t len, struct err *err)
{
	struct buf got, cmd;
	struct err e = { { 0 } };
	unsigned added = 0, removed = 0;
	char lst[96];
	int rc;

	if (!traffic_set_on(p, fi, TRAFFIC_OVERLAY))
		return 0;
	buf_init(&got, NFTM_OUT_MAX);
	buf_init(&cmd, NFTM_OUT_MAX);
	snprintf(lst, sizeof(lst), "list set %s %s " NFTM_PEER_SET, nftm_family[fi],
		 nftm_table[fi]);
	rc = nftm_list(m, lst, NFT_CTX_OUTPUT_STATELESS, &got, &e);
	if (rc < 0) {
		traffic_note(what, len, "nft set %s %s " NFTM_PEER_SET " unreadable (%s)",
			     nftm_family[fi], nftm_table[fi], e.msg);
		goto whole;
	}
	rc = traffic_nft_peers_text(p, fi ? AF_INET6 : AF_INET, traffic_text(&got), &cmd, &added,
				    &removed);
	if (rc == -E2BIG) {
		err_set(err, rc, "nft set " NFTM_PEER_SET ": update larger than %u bytes",
			NFTM_OUT_MAX);
		goto out;
	}
	if (rc < 0) {
		traffic_note(what, len, "nft set %s %s " NFTM_PEER_SET " holds foreign elements",
			     nftm_family[fi], nftm_table[fi]);
		goto whole;
	}
	if (added + removed == 0)
		goto out;
	rc = nftm_run(m, cmd.data, NULL, &e);
	if (rc == 0) {
		traffic_note(what, len, "%s peers: %u added, %u removed", fi ? "IPv6" : "IPv4",
			     added, removed);
		rc = 1;
		goto out;
	}
	traffic_note(what, len, "%s peer update failed (%s)", fi ? "IPv6" : "IPv4", e.msg);
whole:
	rc = apply_family(m, p, fi, err);
	if (rc == 0) {
		traffic_note(what, len, "nft table %s %s rewritten", nftm_family[fi],
			     nftm_table[fi]);
		rc = 1;
	}
out:
	buf_free(&got);
	buf_free(&cmd);
	return rc;
}

static int nftm_peers(struct traffic_mode *base, const struct traffic_params *p, char *what,
		      size_t len, struct err *err)
{
	struct nftm_mode *m = to_nftm(base);
	int fi, rc, changed = 0;

	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		rc = sync_peers(m, p, fi, what, len, err);
		if (rc < 0)
			return rc;
		changed |= rc;
	}
	return changed;
}

static int nftm_check(struct traffic_mode *base, const struct traffic_params *p, char *what,
		      size_t len, struct err *err)
{
	struct nftm_mode *m = to_nftm(base);
	struct buf want, got;
	struct err e;
	char diff[96];
	int fi, rc = 0, restored = 0;

	buf_init(&want, NFTM_OUT_MAX);
	buf_init(&got, NFTM_OUT_MAX);
	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		if (!(fi == 0 ? p->ipv4 : p->ipv6))
			continue;
		buf_reset(&want);
		rc = traffic_nft_table_text(p, fi ? AF_INET6 : AF_INET, fully_random(m, fi, p),
					    &want);
		if (rc < 0) {
			err_set(err, rc, "nft table %s: bad network or subnet", nftm_table[fi]);
			goto out;
		}
		rc = list_table(m, fi, &got, &e);
		if (rc == -ENOENT) {
			traffic_note(what, len, "nft table %s %s missing", nftm_family[fi],
				     nftm_table[fi]);
		} else if (rc < 0) {
			traffic_note(what, len, "nft table %s %s unreadable (%s)", nftm_family[fi],
				     nftm_table[fi], e.msg);
		} else {
			const char *ref = m->ref[fi] ? m->ref[fi] : traffic_text(&want);

			if (strcmp(traffic_text(&got), ref) == 0) {
				rc = sync_peers(m, p, fi, what, len, err);
				if (rc < 0)
					goto out;
				restored |= rc;
				continue;
			}
			traffic_describe_diff(ref, traffic_text(&got), diff, sizeof(diff));
			traffic_note(what, len, "nft table %s %s altered (%s)", nftm_family[fi],
				     nftm_table[fi], diff);
		}
		rc = apply_family(m, p, fi, err);
		if (rc < 0)
			goto out;
		restored = 1;
	}
	rc = restored;
out:
	buf_free(&want);
	buf_free(&got);
	return rc;
}

/* Delete the tables flannel-ipv4 (fam[0]) / flannel-ipv6 (fam[1]) when
 * present. Never fails: what it could not do becomes a note. */
static void remove_tables(struct nftm_mode *m, const bool fam[TRAFFIC_NFAM], const char *why,
			  char *what, size_t len)
{
	struct buf tables;
	struct err e;
	char line[64], cmd[64];
	int fi;

	if (!fam[0] && !fam[1])
		return;
	buf_init(&tables, NFTM_OUT_MAX);
	if (nftm_run(m, "list tables", &tables, &e) < 0) {
		traffic_note(what, len, "nftables unavailable (%s), not looking for "
			     "nftables-mode leftovers", e.msg);
		goto out;
	}
	for (fi = 0; fi < TRAFFIC_NFAM; fi++) {
		if (!fam[fi])
			continue;
		snprintf(line, sizeof(line), "table %s %s", nftm_family[fi], nftm_table[fi]);
		if (!traffic_has_line(traffic_text(&tables), line, strlen(line)))
			continue;
		snprintf(cmd, sizeof(cmd), "delete table %s %s", nftm_family[fi], nftm_table[fi]);
		if (nftm_run(m, cmd, NULL, &e) < 0)
			traffic_note(what, len, "could not delete nft table %s %s (%s), ignoring",
				     nftm_family[fi], nftm_table[fi], e.msg);
		else
			traffic_note(what, len, "deleted nft table %s %s (%s)", nftm_family[fi],
				     nftm_table[fi], why);
	}
out:
	buf_free(&tables);
}

/* Our own table of a family that is now off. */
static int nftm_cleanup(struct traffic_mode *base, const struct traffic_params *now,
			const struct traffic_params *old, char *what, size_t len, struct err *err)
{
	struct nftm_mode *m = to_nftm(base);
	bool fam[TRAFFIC_NFAM] = { !now->ipv4, !now->ipv6 };

	(void)old;
	(void)err;
	remove_tables(m, fam, "family disabled", what, len);
	return 0;
}

static void nftm_remove_leftovers(struct traffic_mode *base, char *what, size_t len)
{
	struct nftm_mode *m = to_nftm(base);
	static const bool fam[TRAFFIC_NFAM] = { true, true };

	remove_tables(m, fam, "left by nftables mode", what, len);
	/* Done with libnftables for good in iptables mode: unload it. */
	release_ctx(m);
}

const struct traffic_mode_ops traffic_nft_ops = {
	.create = nftm_create,
	.destroy = nftm_destroy,
	.forget = nftm_forget,
	.cleanup = nftm_cleanup,
	.remove_leftovers = nftm_remove_leftovers,
	.apply = nftm_apply,
	.check = nftm_check,
	.peers = nftm_peers,
};
