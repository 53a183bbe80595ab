// SPDX-License-Identifier: Apache-2.0
/*
 * The run itself is core/proc's: stdin fed and both outputs drained in one
 * poll loop, so a plugin that writes a lot before reading cannot deadlock us;
 * each output capped, a plugin exceeding the cap killed; execve's errno
 * carried back when it fails. What is the CNI's here: the search in CNI_PATH,
 * the environment, the ETXTBSY retries and libcni's messages.
 */
#include "exec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "core/proc.h"
#include "core/xmalloc.h"
#include "result.h"

extern char **environ;

#define EXEC_TXTBSY_RETRIES 5

int exec_find(const char *type, const char *cni_path, char **ret_path, struct cni_error *e)
{
	char dirs[1024];
	const char *p = cni_path ? cni_path : "";

	*ret_path = NULL;
	if (!type || !*type)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, "no plugin name provided");
	/* A type is a file name inside CNI_PATH, never a path. */
	if (strchr(type, '/') || !strcmp(type, ".") || !strcmp(type, ".."))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, "invalid plugin name \"%s\"", type);
	while (*p) {
		size_t n = strcspn(p, ":");
		struct stat st;
		char *path;

		if (n > 0) {
			xasprintf(&path, "%.*s/%s", (int)n, p, type);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(path, X_OK) == 0) {
				*ret_path = path;
				return 0;
			}
			free(path);
		}
		p += n;
		if (*p == ':')
			p++;
	}
	/* Go prints the []string of directories as [a b c]. */
	snprintf(dirs, sizeof(dirs), "%s", cni_path ? cni_path : "");
	for (char *c = dirs; *c; c++)
		if (*c == ':')
			*c = ' ';
	return cni_fail(e, CNI_ERR_INVALID_CONFIG, "failed to find plugin \"%s\" in path [%s]",
			type, dirs);
}

int exec_run(const char *path, const char *command, const char *input, size_t len,
	     struct exec_result *ret)
{
	const char *argv[2] = {path, NULL}, **envp;
	struct proc_spec spec = {
		.argv = argv,
		.in = input,
		.inlen = len,
		.out = &ret->out,
		.err = &ret->err,
		.timeout_ms = PROC_NO_TIMEOUT, /* libcni sets none either */
		.cancel_fd = -1,
		.exec_errno = true,
		.wait_status = &ret->status,
	};
	size_t n = 0, k = 0;
	char *cmdvar;
	int r;

	memset(ret, 0, sizeof(*ret));
	buf_init(&ret->out, EXEC_MAX_OUTPUT);
	buf_init(&ret->err, EXEC_MAX_OUTPUT);

	for (char **p = environ; *p; p++)
		n++;
	envp = xcalloc(n + 2, sizeof(*envp));
	for (char **p = environ; *p; p++)
		if (strncmp(*p, "CNI_COMMAND=", 12))
			envp[k++] = *p;
	xasprintf(&cmdvar, "CNI_COMMAND=%s", command);
	envp[k++] = cmdvar;
	spec.envp = envp;

	for (int attempt = 0;; attempt++) {
		r = proc_run(&spec);
		if (r != -ETXTBSY || attempt == EXEC_TXTBSY_RETRIES)
			break;
		sleep(1);
	}
	if (r == -E2BIG) {
		ret->overflow = true; /* and killed */
		r = 0;
	} else if (r > 0) {
		r = 0; /* the status is in ret->status */
	}
	free(cmdvar);
	free(envp);
	return r;
}

void exec_result_free(struct exec_result *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
}

/* Go's os.ProcessState.String(). */
static void describe_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status)) {
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		const char *s = strsignal(WTERMSIG(status));

		snprintf(buf, size, "signal: %s", s ? s : "unknown");
		buf[8] = (char)tolower((unsigned char)buf[8]);
	} else {
		snprintf(buf, size, "status %d", status);
	}
}

int exec_check(const struct exec_result *r, struct cni_error *e)
{
	char q[1500], why[64];
	json_error_t jerr;
	json_t *j;

	if (r->overflow)
		return cni_fail(e, CNI_ERR_INTERNAL, "netplugin output exceeds %d bytes: killed",
				EXEC_MAX_OUTPUT);
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
		return 0;
	describe_status(r->status, why, sizeof(why));
	if (r->out.len > 0) {
		j = json_loadb(r->out.data, r->out.len, 0, &jerr);
		if (json_is_object(j)) {
			json_int_t code = json_integer_value(json_object_get(j, "code"));

			json_decref(j);
			/* passed through byte for byte; the code only tells our
			 * caller that an error is set */
			return cni_fail_raw(
				e, code > 0 && code < 100000 ? (unsigned)code : CNI_ERR_INTERNAL,
				r->out.data, r->out.len);
		}
		json_decref(j);
		cni_quote(q, sizeof(q), r->out.data, r->out.len);
		return cni_fail(e, CNI_ERR_INTERNAL,
				"netplugin failed but error parsing its diagnostic message %s: %s",
				q, j ? "not a JSON object" : jerr.text);
	}
	if (r->err.len > 0) {
		cni_quote(q, sizeof(q), r->err.data, r->err.len);
		return cni_fail(e, CNI_ERR_INTERNAL, "netplugin failed: %s", q);
	}
	return cni_fail(e, CNI_ERR_INTERNAL, "netplugin failed with no error message: %s", why);
}

int exec_call(const char *path, const char *command, const char *input, size_t len,
	      struct exec_result *ret, struct cni_error *e)
{
	int r = exec_run(path, command, input, len, ret);

	if (r < 0)
		return cni_fail(e, CNI_ERR_IO, "failed to run plugin %s: %s", path, strerror(-r));
	if (ret->err.len)
		fwrite(ret->err.data, 1, ret->err.len, stderr);
	return exec_check(ret, e);
}

int exec_plugin(const char *type, const char *cni_path, const char *command, const char *input,
		size_t len, struct exec_result *ret, struct cni_error *e)
{
	char *path;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = exec_find(type, cni_path, &path, e)) < 0)
		return r;
	r = exec_call(path, command, input, len, ret, e);
	free(path);
	return r;
}
