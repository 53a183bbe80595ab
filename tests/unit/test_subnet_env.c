// SPDX-License-Identifier: Apache-2.0
/* The subnet file (spec section 9): exact bytes, atomic replace, tolerant read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "core/err.h"
#include "subnet/subnet_env.h"

struct tmp {
	char dir[64];
};

static int setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/weft-subnet-env.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[256];

	/* The directory holds only what the test made; chmod back anything
	 * a test made read-only. */
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' && rm -rf '%s'", t->dir, t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static struct ip_prefix pfx(const char *s)
{
	struct ip_prefix p;

	if (ip_prefix_parse(s, &p) != 0)
		fail_msg("bad test prefix %s", s);
	return p;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void spit(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

/* Entries in dir other than . and .. */
static int count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static const struct subnet_env dual = {
	.has_network = true,
	.has_subnet = true,
	.has_ipv6_network = true,
	.has_ipv6_subnet = true,
	.has_mtu = true,
	.has_ipmasq = true,
	.network = {.addr = {.family = AF_INET, .b = {10, 244}}, .len = 16},
	.subnet = {.addr = {.family = AF_INET, .b = {10, 244, 1}}, .len = 24},
	.ipv6_network = {.addr = {.family = AF_INET6, .b = {0x20, 0x01, 0xca, 0xfe, 0, 0x42}},
			 .len = 56},
	.ipv6_subnet = {.addr = {.family = AF_INET6, .b = {0x20, 0x01, 0xca, 0xfe, 0, 0x42}},
			.len = 64},
	.mtu = 1450,
	.ipmasq = true,
};

static void test_write_exact(void **state)
{
	struct tmp *t = *state;
	struct subnet_env e = {0};
	struct err err = {""};
	char path[256];

	snprintf(path, sizeof(path), "%s/subnet.env", t->dir);
	assert_int_equal(subnet_env_write(path, &dual, &err), 0);
	assert_string_equal(slurp(path), "FLANNEL_NETWORK=10.244.0.0/16\n"
					 "FLANNEL_SUBNET=10.244.1.1/24\n"
					 "FLANNEL_IPV6_NETWORK=2001:cafe:42::/56\n"
					 "FLANNEL_IPV6_SUBNET=2001:cafe:42::1/64\n"
					 "FLANNEL_MTU=1450\n"
					 "FLANNEL_IPMASQ=true\n");

	/* IPv4 only, the upstream default; replaces the previous file. */
	e.has_network = e.has_subnet = e.has_mtu = e.has_ipmasq = true;
	e.network = pfx("10.1.0.0/16");
	e.subnet = pfx("10.1.74.0/24");
	e.mtu = 1472;
	assert_int_equal(subnet_env_write(path, &e, &err), 0);
	assert_string_equal(slurp(path), "FLANNEL_NETWORK=10.1.0.0/16\n"
					 "FLANNEL_SUBNET=10.1.74.1/24\n"
					 "FLANNEL_MTU=1472\n"
					 "FLANNEL_IPMASQ=false\n");

	/* IPv6 only. */
	e = (struct subnet_env){.has_ipv6_network = true,
				.has_ipv6_subnet = true,
				.has_mtu = true,
				.has_ipmasq = true,
				.mtu = 1430};
	e.ipv6_network = pfx("fc00::/48");
	e.ipv6_subnet = pfx("fc00:0:0:5::/64");
	assert_int_equal(subnet_env_write(path, &e, &err), 0);
	assert_string_equal(slurp(path), "FLANNEL_IPV6_NETWORK=fc00::/48\n"
					 "FLANNEL_IPV6_SUBNET=fc00:0:0:5::1/64\n"
					 "FLANNEL_MTU=1430\n"
					 "FLANNEL_IPMASQ=false\n");
	/* Only the target is left in the directory: no temp files. */
	assert_int_equal(count_entries(t->dir), 1);
}

static void test_write_mode_and_dirs(void **state)
{
	struct tmp *t = *state;
	struct err err = {""};
	char path[256], dir[192];
	struct stat st;
	mode_t old;

	old = umask(077);
	snprintf(dir, sizeof(dir), "%s/run/flannel", t->dir);
	snprintf(path, sizeof(path), "%s/subnet.env", dir);
	assert_int_equal(subnet_env_write(path, &dual, &err), 0);
	umask(old);

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	snprintf(dir, sizeof(dir), "%s/run", t->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	/* Relative path and doubled slashes. */
	assert_int_equal(chdir(t->dir), 0);
	assert_int_equal(subnet_env_write("rel//sub.env", &dual, &err), 0);
	assert_int_equal(stat("rel/sub.env", &st), 0);
	assert_int_equal(subnet_env_write("plain.env", &dual, &err), 0);
	assert_int_equal(stat("plain.env", &st), 0);
	assert_int_equal(chdir("/"), 0);
}

static void test_write_failure_keeps_old(void **state)
{
	struct tmp *t = *state;
	struct subnet_env bad = dual;
	struct err err = {""};
	char path[256], inner[320];

	snprintf(path, sizeof(path), "%s/subnet.env", t->dir);
	spit(path, "OLD=1\n");

	/* Invalid content: refused before anything is touched. */
	bad.subnet = pfx("fd00::/64");
	assert_int_equal(subnet_env_write(path, &bad, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "FLANNEL_SUBNET"));
	assert_string_equal(slurp(path), "OLD=1\n");
	bad = dual;
	bad.subnet = pfx("255.255.255.255/32"); /* no network + 1 */
	assert_int_equal(subnet_env_write(path, &bad, &err), -ERANGE);
	assert_string_equal(slurp(path), "OLD=1\n");

	/* The rename fails when the target is a non-empty directory: the temp
	 * file must be gone and the sibling untouched. */
	snprintf(path, sizeof(path), "%s/asdir", t->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(inner, sizeof(inner), "%s/x", path);
	spit(inner, "x");
	err.msg[0] = '\0';
	assert_true(subnet_env_write(path, &dual, &err) < 0);
	assert_true(err.msg[0] != '\0');
	assert_int_equal(count_entries(t->dir), 2); /* subnet.env and asdir */
	assert_int_equal(count_entries(path), 1);
	snprintf(path, sizeof(path), "%s/subnet.env", t->dir);
	assert_string_equal(slurp(path), "OLD=1\n");

	/* A parent that is a file cannot be created. */
	snprintf(inner, sizeof(inner), "%s/subnet.env/x.env", t->dir);
	assert_int_equal(subnet_env_write(inner, &dual, &err), -ENOTDIR);
	assert_string_equal(slurp(path), "OLD=1\n");

	/* Paths that name no file. */
	assert_int_equal(subnet_env_write("", &dual, &err), -EINVAL);
	snprintf(inner, sizeof(inner), "%s/", t->dir);
	assert_int_equal(subnet_env_write(inner, &dual, &err), -EINVAL);
	assert_int_equal(count_entries(t->dir), 2);
}

static void test_read_round_trip(void **state)
{
	struct tmp *t = *state;
	struct subnet_env e;
	struct err err = {""};
	struct ip_prefix want;
	struct ip_addr want_addr;
	char path[256];

	snprintf(path, sizeof(path), "%s/subnet.env", t->dir);
	assert_int_equal(subnet_env_write(path, &dual, &err), 0);
	assert_int_equal(subnet_env_read(path, &e, &err), 0);
	assert_true(e.has_network && e.has_subnet && e.has_ipv6_network && e.has_ipv6_subnet);
	assert_true(e.has_mtu && e.has_ipmasq);
	assert_true(ip_prefix_equal(&e.network, &dual.network));
	assert_true(ip_prefix_equal(&e.subnet, &dual.subnet));
	assert_true(ip_prefix_equal(&e.ipv6_network, &dual.ipv6_network));
	assert_true(ip_prefix_equal(&e.ipv6_subnet, &dual.ipv6_subnet));
	assert_int_equal(ip_addr_parse("10.244.1.1", &want_addr), 0);
	assert_true(ip_addr_equal(&e.subnet_addr, &want_addr));
	assert_int_equal(ip_addr_parse("2001:cafe:42::1", &want_addr), 0);
	assert_true(ip_addr_equal(&e.ipv6_subnet_addr, &want_addr));
	assert_int_equal(e.mtu, 1450);
	assert_true(e.ipmasq);
	assert_int_equal(e.n_networks, 1);
	want = pfx("10.244.0.0/16");
	assert_true(ip_prefix_equal(&e.networks[0], &want));
}

static void test_read_tolerant(void **state)
{
	static const char text[] = "# written by hand\n"
				   "\n"
				   "   \t\n"
				   "export FLANNEL_NETWORK = \"10.5.0.0/16\"\r\n"
				   "FLANNEL_SUBNET='10.5.34.1/24' trailing ignored\n"
				   "  FLANNEL_IPV6_NETWORK=fd00::/48   # comment\n"
				   "FLANNEL_IPV6_SUBNET: fd00:0:0:22::1/64\n"
				   "FLANNEL_MTU=1450\n"
				   "FLANNEL_IPMASQ=true\n"
				   "SOMETHING_ELSE=whatever\n"
				   "this line is garbage\n"
				   "=novalue\n"
				   "BAD KEY=1\n"
				   "FLANNEL_MTU_X=1\n";
	struct subnet_env e;
	struct ip_prefix want;

	(void)state;
	assert_int_equal(subnet_env_parse(text, sizeof(text) - 1, &e, NULL), 0);
	assert_true(e.has_network);
	want = pfx("10.5.0.0/16");
	assert_true(ip_prefix_equal(&e.network, &want));
	assert_true(e.has_subnet);
	want = pfx("10.5.34.0/24");
	assert_true(ip_prefix_equal(&e.subnet, &want));
	assert_true(e.has_ipv6_network);
	want = pfx("fd00::/48");
	assert_true(ip_prefix_equal(&e.ipv6_network, &want));
	assert_true(e.has_ipv6_subnet);
	want = pfx("fd00:0:0:22::/64");
	assert_true(ip_prefix_equal(&e.ipv6_subnet, &want));
	assert_true(e.has_mtu);
	assert_int_equal(e.mtu, 1450);
	assert_true(e.has_ipmasq && e.ipmasq);
}

static void check_subnet(const char *text, bool has, const char *want)
{
	struct subnet_env e;

	assert_int_equal(subnet_env_parse(text, strlen(text), &e, NULL), 0);
	if (e.has_subnet != has)
		fail_msg("%s: has_subnet %d", text, e.has_subnet);
	if (has) {
		struct ip_prefix p = pfx(want);

		assert_true(ip_prefix_equal(&e.subnet, &p));
	} else {
		assert_int_equal(e.subnet.addr.family, 0);
	}
}

static void test_read_lists(void **state)
{
	struct subnet_env e;
	static const char nets[] = "FLANNEL_NETWORK=10.1.0.0/16,10.2.0.0/16,10.1.0.0/16,x\n"
				   "FLANNEL_IPV6_NETWORK=fd00::/48,fd01::/48\n";

	(void)state;
	check_subnet("FLANNEL_SUBNET=10.1.17.1/24\n", true, "10.1.17.0/24");
	/* Invalid entries are skipped. */
	check_subnet("FLANNEL_SUBNET=bogus,10.1.17.1/24,\n", true, "10.1.17.0/24");
	check_subnet("FLANNEL_SUBNET=fd00::1/64,10.1.17.1/24\n", true, "10.1.17.0/24");
	/* Pieces are not trimmed (net.ParseCIDR of " 10.2.0.1/24" fails). */
	check_subnet("FLANNEL_SUBNET=10.1.17.1/24, 10.2.0.1/24\n", true, "10.1.17.0/24");
	/* More than one valid entry: ignored, even duplicates. */
	check_subnet("FLANNEL_SUBNET=10.1.17.1/24,10.1.18.1/24\n", false, NULL);
	check_subnet("FLANNEL_SUBNET=10.1.17.1/24,10.1.17.1/24\n", false, NULL);
	/* Nothing valid. */
	check_subnet("FLANNEL_SUBNET=\n", false, NULL);
	check_subnet("FLANNEL_SUBNET=10.1.17.1\n", false, NULL);
	check_subnet("FLANNEL_SUBNET=10.1.17.1/33\n", false, NULL);
	check_subnet("FLANNEL_SUBNET=\"10.1.17.1/24\n", false, NULL); /* unterminated */
	/* The last assignment wins, even when invalid. */
	check_subnet("FLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_SUBNET=nope\n", false, NULL);
	check_subnet("FLANNEL_SUBNET=nope\nFLANNEL_SUBNET=10.1.17.1/24\n", true, "10.1.17.0/24");
	/* Keys are case-sensitive. */
	check_subnet("flannel_subnet=10.1.17.1/24\n", false, NULL);
	/* No trailing newline; an inline '#' without a space before it is data. */
	check_subnet("FLANNEL_SUBNET=10.1.17.1/24", true, "10.1.17.0/24");
	check_subnet("FLANNEL_SUBNET=10.1.17.1/24#c\n", false, NULL);

	/* The CNI plugin wants every network (deduplicated); the daemon ignores a list. */
	assert_int_equal(subnet_env_parse(nets, sizeof(nets) - 1, &e, NULL), 0);
	assert_false(e.has_network);
	assert_int_equal(e.n_networks, 2);
	assert_false(e.has_ipv6_network);
	assert_int_equal(e.n_ipv6_networks, 2);
}

static void test_read_scalars(void **state)
{
	static const struct {
		const char *text;
		bool has_mtu;
		unsigned mtu;
		bool has_ipmasq, ipmasq;
	} cases[] = {
		{"FLANNEL_MTU=1450", true, 1450, false, false},
		{"FLANNEL_MTU=0001450", true, 1450, false, false},
		{"FLANNEL_MTU=4294967295", true, 4294967295U, false, false},
		{"FLANNEL_MTU=4294967296", false, 0, false, false},
		{"FLANNEL_MTU=99999999999999999999999", false, 0, false, false},
		{"FLANNEL_MTU=-1", false, 0, false, false},
		{"FLANNEL_MTU=+1", false, 0, false, false},
		{"FLANNEL_MTU=", false, 0, false, false},
		{"FLANNEL_MTU=1450x", false, 0, false, false},
		{"FLANNEL_IPMASQ=true", false, 0, true, true},
		{"FLANNEL_IPMASQ=false", false, 0, true, false},
		{"FLANNEL_IPMASQ=TRUE", false, 0, true, false},
		{"FLANNEL_IPMASQ=", false, 0, true, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct subnet_env e;

		assert_int_equal(subnet_env_parse(cases[i].text, strlen(cases[i].text), &e, NULL),
				 0);
		if (e.has_mtu != cases[i].has_mtu || e.mtu != cases[i].mtu ||
		    e.has_ipmasq != cases[i].has_ipmasq || e.ipmasq != cases[i].ipmasq)
			fail_msg("%s: mtu %d/%u ipmasq %d/%d", cases[i].text, e.has_mtu, e.mtu,
				 e.has_ipmasq, e.ipmasq);
	}
}

static void test_read_errors(void **state)
{
	struct tmp *t = *state;
	static const char nul[] = "FLANNEL_SUBNET=10.1.17.1/24\0junk\nFLANNEL_MTU=1\0";
	struct subnet_env e;
	struct err err = {""};
	char path[256];
	char *big;

	snprintf(path, sizeof(path), "%s/missing/subnet.env", t->dir);
	assert_int_equal(subnet_env_read(path, &e, &err), -ENOENT);
	assert_true(err.msg[0] != '\0');
	assert_false(e.has_subnet);

	/* A directory is not a subnet file. */
	assert_int_equal(subnet_env_read(t->dir, &e, &err), -EINVAL);

	/* Over 64 KiB. */
	big = malloc(SUBNET_ENV_MAX_SIZE + 1);
	assert_non_null(big);
	memset(big, '\n', SUBNET_ENV_MAX_SIZE + 1);
	memcpy(big, "FLANNEL_MTU=1\n", 14);
	snprintf(path, sizeof(path), "%s/big.env", t->dir);
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, big, SUBNET_ENV_MAX_SIZE + 1), SUBNET_ENV_MAX_SIZE + 1);
		assert_int_equal(subnet_env_read(path, &e, &err), -EFBIG);
		assert_int_equal(ftruncate(fd, SUBNET_ENV_MAX_SIZE), 0);
		close(fd);
	}
	assert_int_equal(subnet_env_read(path, &e, &err), 0);
	assert_true(e.has_mtu);
	free(big);

	/* NUL bytes never make a value valid. */
	assert_int_equal(subnet_env_parse(nul, sizeof(nul) - 1, &e, NULL), 0);
	assert_false(e.has_subnet);
	assert_false(e.has_mtu);
	assert_int_equal(subnet_env_parse("", 0, &e, NULL), 0);
	assert_false(e.has_network || e.has_subnet || e.has_mtu || e.has_ipmasq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_mode_and_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_keeps_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_round_trip, setup, teardown),
		cmocka_unit_test(test_read_tolerant),
		cmocka_unit_test(test_read_lists),
		cmocka_unit_test(test_read_scalars),
		cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
