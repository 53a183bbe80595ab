/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_EXT_CMD_H
#define WEFT_BACKEND_EXT_CMD_H

/*
 * The extension backend's commands (flannel.md §7.9) as upstream's
 * pkg/backend/extension runs them since "Don't use shell invocations in
 * extensions backend" (2026-03): the configured string is split on white
 * space (Go's strings.Fields), each field has $VAR / ${VAR} expanded (Go's
 * os.Expand) from the daemon's environment plus the command's own variables,
 * and the first field is the program, looked up on PATH as Go's
 * exec.Command does and run without a shell. Also the lease data around
 * them: the PreStartupCommand's output as our BackendData, a peer's
 * BackendData as a command's stdin. Pure functions (ext_cmd_lookpath
 * excepted: it looks at the file system), no logging.
 */
#include <stdbool.h>
#include <stddef.h>

struct buf;
struct err;

/* The four commands of the config's Backend; NULL = not configured
 * (absent, null or ""), as upstream's len(cmd) > 0. */
enum ext_cmd_kind {
	EXT_PRE_STARTUP,
	EXT_POST_STARTUP,
	EXT_SUBNET_ADD,
	EXT_SUBNET_REMOVE,
	EXT_CMD_KINDS
};

struct ext_conf {
	char *cmd[EXT_CMD_KINDS]; /* malloc'd */
};

/* The key of a command in the config ("PreStartupCommand", ...). */
const char *ext_cmd_key(enum ext_cmd_kind kind);

/*
 * Backend (JSON text, NULL = absent) into *ret. Keys as Go's encoding/json
 * matches them (case-insensitively, the last one wins); errors name the key:
 * a value that is not a string or null, a command with no program (only
 * white space: upstream indexes past the end of its field list and panics).
 */
int ext_conf_parse(const char *json, struct ext_conf *ret, struct err *err);
void ext_conf_free(struct ext_conf *c);

/*
 * Go's strings.Fields: the fields of s (len bytes, any content) between runs
 * of Unicode white space (unicode.IsSpace: \t \n \v \f \r space, U+0085,
 * U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000,
 * each only in its valid UTF-8 form). A NULL-terminated, malloc'd vector of
 * malloc'd strings in *ret (each field may hold NUL bytes if s does; its
 * length is in (*ret_len)[i] when ret_len is not NULL, malloc'd too).
 * Returns the number of fields.
 */
size_t ext_cmd_fields(const char *s, size_t len, char ***ret, size_t **ret_len);
void ext_cmd_strv_free(char **v);

/*
 * Go's os.Expand(s, mapping), mapping a name to its value in env (n entries
 * "NAME=value"; the last entry of a name wins; an entry without '=' is a
 * name with an empty value; a name not there maps to ""). Go's rules, which
 * this follows byte for byte:
 *   $NAME       NAME is the longest run of [A-Za-z0-9_]
 *   ${NAME}     anything up to the first '}' is the name
 *   $$ $* $# $@ $! $? $- $0..$9   one-character "special" names (so "$$"
 *               and "$1" expand to the variable named "$" or "1", usually "")
 *   ${$} ${1}   likewise, in braces
 *   ${}         bad syntax: the three bytes vanish
 *   ${...       no '}': bad syntax, "${" vanishes and the rest stays
 *   $ at the end, or followed by anything else ("$/", "$ ", "$%"): kept
 * The result (malloc'd, NUL-terminated) has its length in *ret_len.
 */
char *ext_cmd_expand(const char *s, size_t len, const char *const *env, size_t n, size_t *ret_len);

/*
 * The environment Go's exec.Cmd hands the child for Env = append(base,
 * extra...): the last entry of each name is kept, at its position, earlier
 * ones dropped (so an extra variable overrides the daemon's and comes last);
 * entries without '=' are kept as they are, empty ones dropped. A malloc'd,
 * NULL-terminated vector of pointers into env (not copies).
 */
const char **ext_cmd_env(const char *const *env, size_t n);

/*
 * Go's exec.LookPath as exec.Command uses it, for a program name without
 * '/' (a name with one is run as it is; "" is "exec: no command"): the
 * first entry of path_env (the daemon's PATH; NULL or "" has none, an empty
 * entry means ".") holding a regular or other non-directory file that we may
 * execute (faccessat with AT_EACCESS; its mode bits where that is refused).
 * A hit in a relative directory is an error, as Go's ErrDot. 0 and the path
 * (malloc'd) in *ret, or -ENOENT / -EPERM with err in Go's words
 * (`exec: "x": executable file not found in $PATH`).
 */
int ext_cmd_lookpath(const char *name, const char *path_env, char **ret, struct err *err);

/* Go's strings.TrimSpace: [*start, *end) of s without leading and trailing
 * Unicode white space (the set of ext_cmd_fields). */
void ext_cmd_trim_space(const char *s, size_t len, size_t *start, size_t *end);

/*
 * Our lease's BackendData from the PreStartupCommand's combined output:
 * json.Marshal(strings.TrimSpace(output)), a JSON string byte-identical to
 * Go's (HTML characters escaped, invalid UTF-8 as \ufffd). Malloc'd.
 * -E2BIG when it would exceed max bytes.
 */
int ext_cmd_backend_data(const char *out, size_t len, size_t max, char **ret);

/*
 * A peer's BackendData (compact JSON text as a lease holds it; NULL or "" =
 * none) as upstream hands it to SubnetAdd/RemoveCommand: json.Unmarshal
 * into a Go string (none or null: ""; a string: its value, invalid UTF-8 and
 * lone surrogates as U+FFFD), then a newline. Anything else is -EINVAL with
 * Go's message ("json: cannot unmarshal object into Go value of type
 * string"): upstream logs it and skips the command. *ret is initialised
 * here (bounded by max); the caller frees it.
 */
int ext_cmd_peer_stdin(const char *backend_data, size_t max, struct buf *ret, struct err *err);

/* Up to max bytes of a command's output for a log line: printable ASCII as
 * it is, a newline as \n, a tab as \t, other bytes as \xNN, "..." after a
 * cut. Malloc'd. */
char *ext_cmd_log_text(const char *s, size_t len, size_t max);

#endif
