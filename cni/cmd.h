/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CNI_CMD_H
#define WEFT_CNI_CMD_H

/*
 * The CNI operations. main.c has checked the environment, decoded the
 * configuration and negotiated the version before any of these runs; each
 * prints its result (if any) on ctx->out and returns 0, or fills e.
 */
#include <stdio.h>

#include "conf.h"

struct cni_error;

struct cni_ctx {
	const char *command;
	const char *container_id; /* CNI_CONTAINERID */
	const char *netns;	  /* CNI_NETNS */
	const char *ifname;	  /* CNI_IFNAME */
	const char *cni_path;	  /* CNI_PATH */
	struct cni_conf conf;
	FILE *out;
};

int cmd_add(struct cni_ctx *ctx, struct cni_error *e);
int cmd_del(struct cni_ctx *ctx, struct cni_error *e);
int cmd_check(struct cni_ctx *ctx, struct cni_error *e);
int cmd_status(struct cni_ctx *ctx, struct cni_error *e);
int cmd_gc(struct cni_ctx *ctx, struct cni_error *e);

#endif
