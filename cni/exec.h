/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CNI_EXEC_H
#define WEFT_CNI_EXEC_H

/*
 * Running another CNI plugin the way libcni's invoke package does: found by
 * name in CNI_PATH, started with execve (no shell) and our environment with
 * CNI_COMMAND replaced, the configuration on its stdin, its stdout and stderr
 * captured up to a hard limit.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct cni_error;

#define EXEC_MAX_OUTPUT (1024 * 1024) /* per stream */

struct exec_result {
	int status; /* from waitpid() */
	struct buf out, err;
	bool overflow; /* the plugin wrote more than EXEC_MAX_OUTPUT: killed */
};

/*
 * The first directory of cni_path (':'-separated) holding a regular,
 * executable file named type. *ret_path is malloc'd. On failure (code 7):
 * 'failed to find plugin "bridge" in path [/opt/cni/bin /usr/lib/cni]'.
 */
int exec_find(const char *type, const char *cni_path, char **ret_path, struct cni_error *e);

/* Run path with CNI_COMMAND=command and input on stdin; waits for it. 0, or
 * -errno when it could not be started (execve's errno included). Retries a
 * few times on ETXTBSY (a plugin binary being replaced), as libcni does. */
int exec_run(const char *path, const char *command, const char *input, size_t len,
	     struct exec_result *ret);
void exec_result_free(struct exec_result *r);

/* 0 when the plugin exited 0. Otherwise e gets its error object as is when
 * stdout holds one, else a code-999 error quoting its stderr (libcni's
 * wording: "netplugin failed: ..."). */
int exec_check(const struct exec_result *r, struct cni_error *e);

/* Run and check path (exec_run + exec_check); the plugin's stderr is
 * copied to ours. */
int exec_call(const char *path, const char *command, const char *input, size_t len,
	      struct exec_result *ret, struct cni_error *e);
/* exec_find + exec_call. */
int exec_plugin(const char *type, const char *cni_path, const char *command, const char *input,
		size_t len, struct exec_result *ret, struct cni_error *e);

#endif
