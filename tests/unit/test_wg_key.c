// SPDX-License-Identifier: Apache-2.0
/* backend/wg_key: the node's WireGuard private key file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/wg_key.h"
#include "core/base64.h"
#include "core/err.h"

/* RFC 7748 §6.1's Alice, as `wg genkey` / `wg pubkey` would print her keys. */
static const char alice_b64[] = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
static const char alice_pub_b64[] = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

struct fx {
	char dir[64];
	char path[128];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_wg_key.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/wgkey", f->dir);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void assert_b64(const uint8_t *key, const char *b64)
{
	char text[64];

	base64_encode(key, WG_KEY_LEN, text);
	assert_string_equal(text, b64);
}

static void test_create_then_load(void **state)
{
	struct fx *f = *state;
	uint8_t priv[32], pub[32], priv2[32], pub2[32], check[32];
	char path[192], text[64], cmd[192];
	struct err err = {{0}};
	struct stat st;
	bool created = false;
	unsigned mode = 0;
	int fd;

	/* two missing directories on the way */
	snprintf(path, sizeof(path), "%s/run/flannel/wgkey", f->dir);
	assert_int_equal(wg_key_load_or_create(path, priv, pub, &created, &err), 0);
	assert_true(created);
	assert_int_equal(wg_key_public(check, priv), 0);
	assert_memory_equal(check, pub, 32);
	assert_int_equal(priv[0] & 7, 0); /* a clamped key, as wg genkey makes */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0400);
	assert_int_equal(st.st_size, 44); /* upstream's format: no newline */
	snprintf(cmd, sizeof(cmd), "%s/run/flannel", f->dir);
	assert_int_equal(stat(cmd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* the file holds the base64 of the key */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, text, sizeof(text)), 44);
	close(fd);
	text[44] = '\0';
	assert_b64(priv, text);
	/* no temp file left */
	snprintf(cmd, sizeof(cmd), "ls -A '%s/run/flannel' | grep -qv '^wgkey$'", f->dir);
	assert_int_not_equal(system(cmd), 0);

	/* again: the same key, not made */
	assert_int_equal(wg_key_load_or_create(path, priv2, pub2, &created, &err), 0);
	assert_false(created);
	assert_memory_equal(priv, priv2, 32);
	assert_memory_equal(pub, pub2, 32);
	assert_int_equal(wg_key_file_mode(path, &mode, &err), 0);
	assert_int_equal(mode, 0400);
	assert_false(wg_key_mode_too_wide(mode));
	/* NULL ret_created is fine */
	assert_int_equal(wg_key_load_or_create(path, priv2, pub2, NULL, &err), 0);
}

static void test_load_formats(void **state)
{
	struct fx *f = *state;
	const char *ok[] = {"", "\n", "\n\n", "\n\n\n"};
	uint8_t priv[32], pub[32];
	struct err err = {{0}};
	char text[64];
	bool created = true;

	for (size_t i = 0; i < 4; i++) {
		/* trailing newlines, and (as upstream's Trim) leading ones */
		snprintf(text, sizeof(text), "%s%s%s", i == 3 ? "\n" : "", alice_b64, ok[i]);
		write_file(f->path, text, strlen(text));
		assert_int_equal(wg_key_load_or_create(f->path, priv, pub, &created, &err), 0);
		assert_false(created);
		assert_b64(priv, alice_b64);
		assert_b64(pub, alice_pub_b64);
	}
}

static void test_bad_files(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *content, *msg;
	} bad[] = {
		{"", "empty"},
		{"\n\n", "empty"},
		{"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo", "44 base64"},	/* 43 */
		{"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo==", "44 base64"}, /* 45 */
		{"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCoA", "base64"},	/* 33 bytes */
		{"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC!=", "base64"},
		{"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\r\n", "44 base64"},
		{" dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=", "44 base64"},
		{"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\ndwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsX"
		 "f7pR25LCo=",
		 "44 base64"},
	};
	uint8_t priv[32], pub[32];
	struct err err;
	bool created;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		created = true;
		write_file(f->path, bad[i].content, strlen(bad[i].content));
		assert_int_equal(wg_key_load_or_create(f->path, priv, pub, &created, &err),
				 -EINVAL);
		assert_false(created);
		assert_non_null(strstr(err.msg, f->path));
		assert_non_null(strstr(err.msg, bad[i].msg));
		/* never the content */
		assert_null(strstr(err.msg, "dwdt"));
	}
	/* NUL bytes */
	write_file(f->path, "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25\0Co=", 44);
	assert_int_equal(wg_key_load_or_create(f->path, priv, pub, NULL, &err), -EINVAL);
	/* a long file */
	{
		char big[4096];

		memset(big, 'A', sizeof(big));
		write_file(f->path, big, sizeof(big));
		assert_int_equal(wg_key_load_or_create(f->path, priv, pub, NULL, &err), -EINVAL);
	}
	/* not a regular file: a directory, a FIFO (without blocking) */
	unlink(f->path);
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_int_equal(wg_key_load_or_create(f->path, priv, pub, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	rmdir(f->path);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	assert_int_equal(wg_key_load_or_create(f->path, priv, pub, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	unlink(f->path);
	/* a name that is no file name */
	assert_int_equal(wg_key_load_or_create("", priv, pub, NULL, &err), -EINVAL);
	assert_int_equal(wg_key_load_or_create("/tmp/", priv, pub, NULL, &err), -EINVAL);
}

static void test_unreadable(void **state)
{
	struct fx *f = *state;
	uint8_t priv[32], pub[32];
	struct err err = {{0}};
	char path[192];

	/* a parent that is a file: cannot be made */
	write_file(f->path, alice_b64, 44);
	snprintf(path, sizeof(path), "%s/sub/wgkey", f->path);
	assert_true(wg_key_load_or_create(path, priv, pub, NULL, &err) < 0);
	assert_non_null(strstr(err.msg, f->path));
	if (geteuid() == 0)
		return; /* root reads anything */
	chmod(f->path, 0);
	assert_int_equal(wg_key_load_or_create(f->path, priv, pub, NULL, &err), -EACCES);
}

static void test_mode(void **state)
{
	struct fx *f = *state;
	struct err err = {{0}};
	unsigned mode;

	assert_false(wg_key_mode_too_wide(0400));
	assert_false(wg_key_mode_too_wide(0600));
	assert_false(wg_key_mode_too_wide(0200));
	assert_false(wg_key_mode_too_wide(0100600)); /* S_IFREG bits ignored */
	assert_true(wg_key_mode_too_wide(0640));
	assert_true(wg_key_mode_too_wide(0604));
	assert_true(wg_key_mode_too_wide(0700));
	assert_true(wg_key_mode_too_wide(04600));
	write_file(f->path, alice_b64, 44);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(wg_key_file_mode(f->path, &mode, &err), 0);
	assert_int_equal(mode, 0644);
	assert_true(wg_key_mode_too_wide(mode));
	unlink(f->path);
	assert_int_equal(wg_key_file_mode(f->path, &mode, &err), -ENOENT);
	assert_non_null(strstr(err.msg, f->path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_then_load, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_load_formats, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mode, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
