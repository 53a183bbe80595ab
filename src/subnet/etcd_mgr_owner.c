// SPDX-License-Identifier: Apache-2.0
/*
 * Who holds a lease. flannel's lease value has no room for it (its bytes are
 * the wire contract) and flannel finds its old lease by public address alone,
 * so two nodes with one public address would share a lease. weft writes, next
 * to its lease and with the same etcd lease, an owner record outside
 * <prefix>/subnets/ (which is all flannel reads):
 *
 *   <prefix>/weft/owners/<subnet key>  {"NodeID":"...","Hostname":"..."}
 *
 * The node's identity is $WEFT_NODE_ID, else /etc/machine-id, else the host
 * name.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/xmalloc.h"
#include "subnet/etcd_mgr_int.h"

#define NODE_ID_MAX 253
#define OWNER_VALUE_MAX 4096
#define MACHINE_ID_FILE "/etc/machine-id"

/* Printable ASCII without spaces, 1 to NODE_ID_MAX bytes. */
static bool id_valid(const char *s, size_t len)
{
	if (len == 0 || len > NODE_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* The machine id, trimmed; -ENOENT when absent, empty or unusable. */
static int read_machine_id(char **ret)
{
	char buf[NODE_ID_MAX + 2];
	ssize_t n;
	int fd = open(MACHINE_ID_FILE, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (!id_valid(buf, (size_t)n))
		return -ENOENT;
	buf[n] = '\0';
	*ret = xstrdup(buf);
	return 0;
}

int etcd_mgr_node_id(char **ret, struct err *err)
{
	const char *env = getenv("WEFT_NODE_ID");
	char host[256];

	if (env && *env) {
		if (!id_valid(env, strlen(env)))
			return err_set(err, -EINVAL,
				       "WEFT_NODE_ID: 1 to %d printable characters without spaces",
				       NODE_ID_MAX);
		*ret = xstrdup(env);
		return 0;
	}
	if (read_machine_id(ret) == 0)
		return 0;
	if (gethostname(host, sizeof(host)) < 0)
		return err_set(err, -errno, "no node identity: no %s and no host name",
			       MACHINE_ID_FILE);
	host[sizeof(host) - 1] = '\0';
	if (!id_valid(host, strlen(host)))
		return err_set(err, -EINVAL, "no node identity: no %s and no usable host name",
			       MACHINE_ID_FILE);
	*ret = xstrdup(host);
	return 0;
}

char *etcd_mgr_owner_encode(const char *node_id, const char *hostname)
{
	json_t *j = json_pack("{s:s, s:s}", "NodeID", node_id, "Hostname", hostname);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	char *ret;

	json_decref(j);
	if (!text)
		abort(); /* out of memory, or not UTF-8: both ours to prevent */
	ret = xstrdup(text);
	free(text);
	return ret;
}

static int str_member(json_t *j, const char *name, char **ret, struct err *err)
{
	json_t *v = json_object_get(j, name);

	if (!v || json_is_null(v)) {
		*ret = xstrdup("");
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) > NODE_ID_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return err_set(err, -EINVAL, "owner record: %s: not a string of at most %d bytes",
			       name, NODE_ID_MAX);
	*ret = xstrdup(json_string_value(v));
	return 0;
}

int etcd_mgr_owner_decode(const char *value, size_t len, char **node_id, char **hostname,
			  struct err *err)
{
	json_error_t je;
	json_t *j;
	int rc;

	*node_id = *hostname = NULL;
	if (len > OWNER_VALUE_MAX)
		return err_set(err, -EINVAL, "owner record: %zu bytes (at most %d)", len,
			       OWNER_VALUE_MAX);
	j = json_loadb(value, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return err_set(err, -EINVAL, "owner record: %s", je.text);
	if (!json_is_object(j)) {
		rc = err_set(err, -EINVAL, "owner record: not a JSON object");
		goto out;
	}
	rc = str_member(j, "NodeID", node_id, err);
	if (rc == 0)
		rc = str_member(j, "Hostname", hostname, err);
	if (rc == 0 && !**node_id)
		rc = err_set(err, -EINVAL, "owner record: no NodeID");
out:
	json_decref(j);
	if (rc < 0) {
		free(*node_id);
		free(*hostname);
		*node_id = *hostname = NULL;
	}
	return rc;
}

char *etcd_mgr_owner_key(const struct etcd_mgr *m, const char *name)
{
	char *k;

	xasprintf(&k, "%s%s", m->owners_prefix, name);
	return k;
}
