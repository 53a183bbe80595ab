// SPDX-License-Identifier: Apache-2.0
/*
 * YAML to JSON through libyaml (kube/yaml.c) and kubeconfig resolution
 * (kube/kubeconfig.c): the shapes kubeadm, kubectl, kind and k3s write, the
 * precedence rules of client-go, in-cluster settings, and an error that
 * names the line or field for everything refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "kube/kubeconfig.h"
#include "kube/yaml.h"

/* Parse from an exact-size heap copy (ASan sees reads past the end) and
 * compare with the expected JSON. */
static void yaml_is(const char *yaml, const char *want_json)
{
	size_t n = strlen(yaml);
	char *copy = malloc(n ? n : 1);
	struct err err = { 0 };
	json_t *got = NULL, *want;
	int rc;

	assert_non_null(copy);
	memcpy(copy, yaml, n);
	rc = yaml_parse(copy, n, &got, &err);
	free(copy);
	if (rc < 0)
		fail_msg("yaml_parse failed: %s\n%s", err.msg, yaml);
	want = json_loads(want_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	assert_non_null(want);
	if (!json_equal(got, want)) {
		char *s = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);

		fail_msg("got %s, want %s\n%s", s, want_json, yaml);
	}
	json_decref(got);
	json_decref(want);
}

static void yaml_err(const char *yaml, const char *want)
{
	struct err err = { 0 };
	json_t *got = NULL;
	int rc = yaml_parse(yaml, strlen(yaml), &got, &err);

	if (rc != -EINVAL)
		fail_msg("yaml_parse returned %d, want -EINVAL\n%s", rc, yaml);
	assert_null(got);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

static const char kubeadm[] =
	"apiVersion: v1\n"
	"clusters:\n"
	"- cluster:\n"
	"    certificate-authority-data: Y2EK\n"
	"    server: https://10.0.0.1:6443\n"
	"  name: kubernetes\n"
	"contexts:\n"
	"- context:\n"
	"    cluster: kubernetes\n"
	"    user: kubernetes-admin\n"
	"  name: kubernetes-admin@kubernetes\n"
	"current-context: kubernetes-admin@kubernetes\n"
	"kind: Config\n"
	"preferences: {}\n"
	"users:\n"
	"- name: kubernetes-admin\n"
	"  user:\n"
	"    client-certificate-data: Y2VydAo=\n"
	"    client-key-data: a2V5Cg==\n";

static void test_yaml_kubeadm(void **state)
{
	(void)state;
	yaml_is(kubeadm,
		"{\"apiVersion\":\"v1\",\"clusters\":[{\"cluster\":{\"certificate-authority-data\":"
		"\"Y2EK\",\"server\":\"https://10.0.0.1:6443\"},\"name\":\"kubernetes\"}],"
		"\"contexts\":[{\"context\":{\"cluster\":\"kubernetes\",\"user\":\"kubernetes-admin\"},"
		"\"name\":\"kubernetes-admin@kubernetes\"}],\"current-context\":"
		"\"kubernetes-admin@kubernetes\",\"kind\":\"Config\",\"preferences\":{},\"users\":"
		"[{\"name\":\"kubernetes-admin\",\"user\":{\"client-certificate-data\":\"Y2VydAo=\","
		"\"client-key-data\":\"a2V5Cg==\"}}]}");
}

static void test_yaml_scalars(void **state)
{
	(void)state;
	yaml_is("a: plain text  # comment\nb: 'it''s # not'\nc: \"x\\ty\\\"z\\u00e9\\x41\"\n",
		"{\"a\":\"plain text\",\"b\":\"it's # not\",\"c\":\"x\\ty\\\"z\\u00e9A\"}");
	yaml_is("t: true\nf: False\nn: null\nt2: ~\ne:\nnum: 6443\nq: \"true\"\n",
		"{\"t\":true,\"f\":false,\"n\":null,\"t2\":null,\"e\":null,\"num\":\"6443\","
		"\"q\":\"true\"}");
	yaml_is("url: https://h:6443/p?x=1#frag\nkey#x: v\n",
		"{\"url\":\"https://h:6443/p?x=1#frag\",\"key#x\":\"v\"}");
	yaml_is("\"quoted key\": 1\n'single': 2\n", "{\"quoted key\":\"1\",\"single\":\"2\"}");
	yaml_is("", "null");
	yaml_is("# only a comment\n\n", "null");
	yaml_is("just a scalar\n", "\"just a scalar\"");
	/* Keys stay text whatever they look like; quoted values stay strings. */
	yaml_is("true: 1\n~: 2\n'': 3\nv: 'null'\n", "{\"true\":\"1\",\"~\":\"2\",\"\":\"3\",\"v\":\"null\"}");
	/* Block scalars and multi-line scalars (libyaml reads all of YAML's). */
	yaml_is("a: |\n  text\n  more\nb: >\n  folded\n  line\nc: |-\n  x\n",
		"{\"a\":\"text\\nmore\\n\",\"b\":\"folded line\\n\",\"c\":\"x\"}");
	yaml_is("a: \"one\n  two\"\nb: plain\n  continued\nc: 1\n  - b\n",
		"{\"a\":\"one two\",\"b\":\"plain continued\",\"c\":\"1 - b\"}");
	/* A NUL from an escape is kept, length-counted (kubeconfig refuses it). */
	yaml_is("a: \"x\\0y\"\n", "{\"a\":\"x\\u0000y\"}");
	/* A byte-order mark. */
	yaml_is("\xef\xbb\xbf" "a: 1\n", "{\"a\":\"1\"}");
}

static void test_yaml_structure(void **state)
{
	(void)state;
	/* Sequences indented under their key, and at the key's column. */
	yaml_is("a:\n  - x\n  - y\nb:\n- z\nc: [1, 'two', {k: v}, []]\nd: {a: b, c: [d]}\n",
		"{\"a\":[\"x\",\"y\"],\"b\":[\"z\"],\"c\":[\"1\",\"two\",{\"k\":\"v\"},[]],"
		"\"d\":{\"a\":\"b\",\"c\":[\"d\"]}}");
	/* Nested sequences and "- key:" mappings with more keys below. */
	yaml_is("- - a\n  - b\n- k: 1\n  l:\n    m: 2\n-\n  x: y\n-\n",
		"[[\"a\",\"b\"],{\"k\":\"1\",\"l\":{\"m\":\"2\"}},{\"x\":\"y\"},null]");
	/* Document markers, CRLF line ends, a directive. */
	yaml_is("%YAML 1.2\n---\r\na: b\r\n...\n# after the end\n", "{\"a\":\"b\"}");
	yaml_is("--- {a: 1}\n", "{\"a\":\"1\"}");
	yaml_is("---\n", "null");
	yaml_is("--- \n...\n", "null");
	/* An explicit key that is a scalar is an ordinary key. */
	yaml_is("? complex\n: key\n", "{\"complex\":\"key\"}");
	/* Deeper indentation for values, comments between entries. */
	yaml_is("top:\n    # comment\n    k: v\n\n    k2: v2\nnext: 1\n",
		"{\"top\":{\"k\":\"v\",\"k2\":\"v2\"},\"next\":\"1\"}");
}

static void test_yaml_errors(void **state)
{
	(void)state;
	/* libyaml says "found character that cannot start any token". */
	yaml_err("a:\n\tb: c\n", "line 2: tab in indentation");
	yaml_err("a:\n  b:\n \tc: 2\n", "line 3: tab in indentation");
	yaml_err("\ta: 1\n", "line 1: tab in indentation");
	yaml_err("a: b\n\tc: d\n", "line 2: found a tab character that violates indentation");
	yaml_err("a: &x 1\nb: *x\n", "line 1: anchors and aliases are not supported");
	yaml_err("a: 1\nb: *x\n", "line 2: anchors and aliases are not supported");
	yaml_err("a: &x {b: 1}\n", "anchors and aliases");
	yaml_err("a: !!str 1\n", "line 1: tags are not supported");
	yaml_err("a: !!seq [b]\n", "tags are not supported");
	yaml_err("a: 1\na: 2\n", "line 2: duplicate key \"a\"");
	yaml_err("a: {b: 1, b: 2}\n", "duplicate key \"b\"");
	yaml_err("x:\n  y: 1\n  'y': 2\n", "line 3: duplicate key \"y\"");
	yaml_err("a: b\n  c: d\n", "line 2: mapping values are not allowed");
	yaml_err("a: \"open\n",
		 "line 2: found unexpected end of stream (while scanning a quoted scalar from line 1)");
	yaml_err("a: [1, 2\n", "did not find expected ',' or ']'");
	yaml_err("a: 1\n---\nb: 2\n", "line 2: several documents");
	yaml_err("a: 1\n...\nb: 2\n", "line 3: did not find expected <document start>");
	yaml_err("a: b: c\n", "line 1: mapping values are not allowed");
	yaml_err("a:\n  - x\n  y: z\n", "line 3: did not find expected '-' indicator");
	yaml_err("a: 1\n- b\n", "line 2: did not find expected key");
	yaml_err("? [a]\n: b\n", "line 1: complex keys are not supported");
	yaml_err("{[a]: b}\n", "complex keys are not supported");
	yaml_err("? {a: 1}\n: b\n", "complex keys are not supported");
	yaml_err("a: \"\\q\"\n", "line 1: found unknown escape character");
	yaml_err("a: \"\\ud800\"\n", "found invalid Unicode character escape code");
	yaml_err("a: \xff\n", "line 1: invalid leading UTF-8 octet");
	yaml_err("\"a\\0b\": 1\n", "line 1: a key contains a NUL byte");
}

static void test_yaml_limits(void **state)
{
	struct err err = { 0 };
	json_t *j = NULL;
	char deep[4096] = "", *p = deep;

	(void)state;
	assert_int_equal(yaml_parse("a: 1", YAML_MAX_SIZE + 1, &j, &err), -E2BIG);
	assert_int_equal(yaml_parse("a\0b", 3, &j, &err), -EINVAL);
	assert_string_equal(err.msg, "line 1: contains a NUL byte");
	assert_int_equal(yaml_parse("a: 1\nb\0", 7, &j, &err), -EINVAL);
	assert_string_equal(err.msg, "line 2: contains a NUL byte");
	for (int i = 0; i < 70; i++)
		p += snprintf(p, sizeof(deep) - (size_t)(p - deep), "%*sk:\n", i, "");
	assert_int_equal(yaml_parse(deep, strlen(deep), &j, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "nested too deeply"));
	memset(deep, '[', 200);
	deep[200] = '\0';
	assert_int_equal(yaml_parse(deep, strlen(deep), &j, &err), -EINVAL);
	assert_null(j);
}

/* ---- kubeconfig ---- */

static int kc_parse(const char *text, const char *dir, const char *url, struct kubeconfig *k,
		    struct err *err)
{
	memset(err, 0, sizeof(*err));
	return kubeconfig_parse(text, strlen(text), dir, url, k, err);
}

static void kc_err(const char *text, const char *want)
{
	struct kubeconfig k;
	struct err err;
	int rc = kc_parse(text, "/etc/kube", NULL, &k, &err);

	if (rc >= 0)
		fail_msg("kubeconfig accepted, want an error with \"%s\"", want);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	assert_null(k.server);
}

static void test_kc_data(void **state)
{
	struct kubeconfig k;
	struct err err;

	(void)state;
	assert_int_equal(kc_parse(kubeadm, "/etc/kube", NULL, &k, &err), 0);
	assert_string_equal(k.server, "https://10.0.0.1:6443");
	assert_int_equal(k.ca_len, 3);
	assert_memory_equal(k.ca_data, "ca\n", 3);
	assert_int_equal(k.cert_len, 5);
	assert_memory_equal(k.cert_data, "cert\n", 5);
	assert_memory_equal(k.key_data, "key\n", 4);
	assert_null(k.ca_file);
	assert_null(k.cert_file);
	assert_null(k.token);
	assert_false(k.insecure);
	assert_string_equal(k.source, "context \"kubernetes-admin@kubernetes\"");
	kubeconfig_free(&k);
	/* --kube-api-url replaces the server. */
	assert_int_equal(kc_parse(kubeadm, NULL, "https://[fd00::1]:443/", &k, &err), 0);
	assert_string_equal(k.server, "https://[fd00::1]:443");
	kubeconfig_free(&k);
	/* Base64 in a block scalar, wrapped (as some tools write long values). */
	assert_int_equal(kc_parse("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\n"
				  "clusters:\n- name: k\n  cluster:\n    server: https://h\n"
				  "    certificate-authority-data: |\n      Y2Vy\n      dAo=\n",
				  NULL, NULL, &k, &err),
			 0);
	assert_int_equal(k.ca_len, 5);
	assert_memory_equal(k.ca_data, "cert\n", 5);
	kubeconfig_free(&k);
}

static const char files_kc[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: c\n"
	"contexts:\n"
	"  - name: other\n"
	"    context: {cluster: x, user: x}\n"
	"  - name: c\n"
	"    context:\n"
	"      cluster: k\n"
	"      user: u\n"
	"clusters:\n"
	"  - name: k\n"
	"    cluster:\n"
	"      server: 10.1.2.3:6443/\n"
	"      certificate-authority: pki/ca.crt\n"
	"      insecure-skip-tls-verify: true\n"
	"users:\n"
	"  - name: u\n"
	"    user:\n"
	"      client-certificate: /abs/cert.pem\n"
	"      client-key: key.pem\n"
	"      token: static\n"
	"      tokenFile: token\n";

static void test_kc_files(void **state)
{
	struct kubeconfig k;
	struct err err;

	(void)state;
	assert_int_equal(kc_parse(files_kc, "/etc/kube", NULL, &k, &err), 0);
	assert_string_equal(k.server, "https://10.1.2.3:6443");
	assert_string_equal(k.ca_file, "/etc/kube/pki/ca.crt");
	assert_string_equal(k.cert_file, "/abs/cert.pem");
	assert_string_equal(k.key_file, "/etc/kube/key.pem");
	assert_string_equal(k.token, "static");
	assert_string_equal(k.token_file, "/etc/kube/token");
	assert_true(k.insecure);
	kubeconfig_free(&k);
}

static void test_kc_json(void **state)
{
	struct kubeconfig k;
	struct err err;

	(void)state;
	assert_int_equal(kc_parse("{\"current-context\":\"c\",\"contexts\":[{\"name\":\"c\","
				  "\"context\":{\"cluster\":\"k\"}}],\"clusters\":[{\"name\":\"k\","
				  "\"cluster\":{\"server\":\"http://127.0.0.1:8080\","
				  "\"insecure-skip-tls-verify\":false}}]}",
				  NULL, NULL, &k, &err),
			 0);
	assert_string_equal(k.server, "http://127.0.0.1:8080");
	assert_null(k.token);
	assert_null(k.cert_file);
	kubeconfig_free(&k);
	kc_err("{\"current-context\": ", "line 1");
}

/* HEAD: users follow; CLUSTER: cluster fields follow. */
#define HEAD                                                                               \
	"current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n"     \
	"clusters:\n- name: k\n  cluster:\n    server: https://h\n"
#define CLUSTER                                                                            \
	"current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n"     \
	"users:\n- name: u\n  user: {}\nclusters:\n- name: k\n  cluster:\n    server: https://h\n"

static void test_kc_errors(void **state)
{
	(void)state;
	kc_err("kind: Config\n", "current-context is not set");
	kc_err("- a\n", "not a kubeconfig");
	kc_err("current-context: c\ncontexts: []\n", "current-context \"c\": no entry named \"c\" in contexts");
	kc_err("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\n",
	       "context \"c\": no entry named \"k\" in clusters");
	kc_err("current-context: c\ncontexts:\n- name: c\n  context: {user: u}\n",
	       "contexts[name=c].context.cluster is not set");
	kc_err("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\n"
	       "clusters:\n- name: k\n  cluster: {}\n",
	       "clusters[name=k].cluster.server is not set");
	kc_err("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\n"
	       "clusters:\n- name: k\n  cluster: {server: 'ftp://x'}\n",
	       "neither http:// nor https://");
	kc_err("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\n"
	       "clusters:\n- name: k\n  cluster: {server: https://h}\n",
	       "no entry named \"u\" in users");
	kc_err(HEAD "users:\n- name: u\n  user: {client-certificate: c.pem}\n",
	       "users[name=u].user: client-certificate(-data) is set without client-key(-data)");
	kc_err(HEAD "users:\n- name: u\n  user: {client-key-data: a2V5}\n",
	       "client-key(-data) is set without client-certificate(-data)");
	kc_err(HEAD "users:\n- name: u\n  user: {username: a, password: b}\n",
	       "username/password authentication is not supported");
	kc_err(HEAD "users:\n- name: u\n  user:\n    exec:\n      command: aws\n",
	       "exec credential plugins are not supported");
	kc_err(HEAD "users:\n- name: u\n  user:\n    auth-provider: {name: gcp}\n",
	       "auth-provider credential plugins are not supported");
	kc_err(CLUSTER "    tls-server-name: x\n", "tls-server-name is not supported");
	kc_err(CLUSTER "    certificate-authority-data: '!!notbase64'\n",
	       "clusters[name=k].cluster.certificate-authority-data is not valid base64");
	kc_err(CLUSTER "    insecure-skip-tls-verify: maybe\n", "insecure-skip-tls-verify must be true or false");
	kc_err(CLUSTER "    server2: [x]\n   extra: 1\n", "line 13: did not find expected key");
	kc_err(CLUSTER "    certificate-authority: \"ca\\0.crt\"\n",
	       "clusters[name=k].cluster.certificate-authority contains a NUL byte");
	kc_err("current-context: c\n---\ncurrent-context: d\n", "line 2: several documents");
	kc_err("current-context: c\ncontexts:\n- &c {name: c}\n", "anchors and aliases");
	kc_err("current-context: [c]\n", "current-context must be a string");
	kc_err("current-context: c\ncontexts: {c: 1}\n", "contexts must be a list");
}

static void test_kc_precedence(void **state)
{
	struct kubeconfig k;
	struct err err;

	(void)state;
	/* An exec plugin next to a token is ignored; *-data wins over files. */
	assert_int_equal(kc_parse(HEAD "    certificate-authority: ca.crt\n"
				  "    certificate-authority-data: Y2EK\n"
				  "users:\n- name: u\n  user:\n    exec: {command: x}\n"
				  "    token: t\n    client-certificate: c\n"
				  "    client-certificate-data: Yw==\n    client-key: k\n",
				  "/d", NULL, &k, &err),
			 0);
	assert_null(k.ca_file);
	assert_non_null(k.ca_data);
	assert_null(k.cert_file);
	assert_string_equal(k.key_file, "/d/k");
	assert_string_equal(k.token, "t");
	kubeconfig_free(&k);
	/* A context without a user: anonymous. */
	assert_int_equal(kc_parse("current-context: c\ncontexts:\n- name: c\n  context: {cluster: k}\n"
				  "clusters:\n- name: k\n  cluster: {server: https://h}\n",
				  NULL, NULL, &k, &err),
			 0);
	assert_null(k.token);
	assert_null(k.cert_data);
	kubeconfig_free(&k);
}

/* ---- resolution: files, in-cluster ---- */

static const char *fake_env[8][2];

static const char *env_get(const char *name)
{
	for (int i = 0; i < 8 && fake_env[i][0]; i++)
		if (!strcmp(fake_env[i][0], name))
			return fake_env[i][1];
	return NULL;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_resolve(void **state)
{
	char dir[] = "/tmp/weft-kc-XXXXXX", path[256], path2[256];
	struct kubeconfig k;
	struct err err = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(fake_env, 0, sizeof(fake_env));

	/* In-cluster. */
	fake_env[0][0] = "KUBERNETES_SERVICE_HOST";
	fake_env[0][1] = "fd00::1";
	fake_env[1][0] = "KUBERNETES_SERVICE_PORT";
	fake_env[1][1] = "443";
	fake_env[2][0] = KUBE_SA_DIR_ENV;
	fake_env[2][1] = dir;
	assert_int_equal(kubeconfig_resolve(NULL, NULL, env_get, &k, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot read the token file"));
	assert_non_null(strstr(err.msg, dir));
	snprintf(path, sizeof(path), "%s/token", dir);
	write_file(path, "\n  tok3n \n");
	assert_int_equal(kubeconfig_resolve("", "", env_get, &k, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "ca.crt"));
	snprintf(path2, sizeof(path2), "%s/ca.crt", dir);
	write_file(path2, "pem");
	assert_int_equal(kubeconfig_resolve(NULL, NULL, env_get, &k, &err), 0);
	assert_string_equal(k.server, "https://[fd00::1]:443");
	assert_string_equal(k.token_file, path);
	assert_string_equal(k.ca_file, path2);
	kubeconfig_free(&k);
	{
		char *t = NULL;

		assert_int_equal(kube_read_token(path, &t, &err), 0);
		assert_string_equal(t, "tok3n");
		free(t);
		write_file(path, "two\nlines\n");
		assert_int_equal(kube_read_token(path, &t, &err), -EINVAL);
		write_file(path, "  \n");
		assert_int_equal(kube_read_token(path, &t, &err), -EINVAL);
		/* A FIFO would block the loop (the token is re-read before every
		 * request); refused at once. */
		unlink(path);
		assert_int_equal(mkfifo(path, 0600), 0);
		assert_int_equal(kube_read_token(path, &t, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "token file"));
		assert_non_null(strstr(err.msg, ": not a regular file"));
		assert_int_equal(kubeconfig_resolve(NULL, NULL, env_get, &k, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "not a regular file"));
		unlink(path);
		write_file(path, "tok3n\n");
		/* The same for the CA file (TLS reads it on the loop). */
		unlink(path2);
		assert_int_equal(mkfifo(path2, 0600), 0);
		assert_int_equal(kubeconfig_resolve(NULL, NULL, env_get, &k, &err), -EINVAL);
		assert_string_equal(strstr(err.msg, "ca.crt"), "ca.crt: not a regular file");
		unlink(path2);
		write_file(path2, "pem");
		assert_int_equal(kube_read_token(dir, &t, &err), -EISDIR);
		assert_non_null(strstr(err.msg, "Is a directory"));
	}
	fake_env[1][1] = "";
	assert_int_equal(kubeconfig_resolve(NULL, NULL, env_get, &k, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "KUBERNETES_SERVICE_PORT must be defined"));

	/* Only a URL: anonymous. */
	assert_int_equal(kubeconfig_resolve(NULL, "10.0.0.1:6443", env_get, &k, &err), 0);
	assert_string_equal(k.server, "https://10.0.0.1:6443");
	assert_null(k.token_file);
	kubeconfig_free(&k);

	/* A file, with files that must exist. */
	snprintf(path, sizeof(path), "%s/kubeconfig", dir);
	write_file(path, files_kc);
	assert_int_equal(kubeconfig_resolve(path, NULL, env_get, &k, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "certificate-authority "));
	assert_non_null(strstr(err.msg, "/pki/ca.crt"));
	assert_int_equal(kubeconfig_resolve("/nonexistent/kc", NULL, env_get, &k, &err), -ENOENT);
	assert_string_equal(err.msg,
			    "cannot read kubeconfig /nonexistent/kc: No such file or directory");
	write_file(path, "a:\n\tb\n");
	assert_int_equal(kubeconfig_resolve(path, NULL, env_get, &k, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "kubeconfig "));
	assert_non_null(strstr(err.msg, "line 2: tab in indentation"));
	write_file(path, kubeadm);
	assert_int_equal(kubeconfig_resolve(path, NULL, env_get, &k, &err), 0);
	assert_non_null(strstr(k.source, "context \"kubernetes-admin@kubernetes\""));
	kubeconfig_free(&k);

	unlink(path);
	snprintf(path, sizeof(path), "%s/token", dir);
	unlink(path);
	unlink(path2);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_kubeadm),
		cmocka_unit_test(test_yaml_scalars),
		cmocka_unit_test(test_yaml_structure),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_yaml_limits),
		cmocka_unit_test(test_kc_data),
		cmocka_unit_test(test_kc_files),
		cmocka_unit_test(test_kc_json),
		cmocka_unit_test(test_kc_errors),
		cmocka_unit_test(test_kc_precedence),
		cmocka_unit_test(test_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
