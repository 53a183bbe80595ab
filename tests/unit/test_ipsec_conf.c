// SPDX-License-Identifier: Apache-2.0
/* backend/ipsec_conf and ipsec_ike: the ipsec backend's options and
 * messages (flannel.md §7.6), the VICI requests read back with the codec,
 * and ipsec/charon's config text and search. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/ipsec_conf.h"
#include "backend/ipsec_ike.h"
#include "core/buf.h"
#include "core/err.h"
#include "ipsec/charon.h"
#include "ipsec/vici.h"

#define PSK96 "0123456789abcdef0123456789abcdef0123456789abcdef" \
	      "0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *json, struct ipsec_conf *c, struct err *err)
{
	memset(err, 0, sizeof(*err));
	return ipsec_conf_parse(json, c, err);
}

static void test_defaults(void **state)
{
	struct ipsec_conf c;
	struct err err;

	(void)state;
	assert_int_equal(parse("{\"Type\":\"ipsec\",\"PSK\":\"" PSK96 "\"}", &c, &err), 0);
	assert_string_equal(c.psk, PSK96);
	assert_false(c.udp_encap);
	assert_string_equal(c.esp_proposal, "aes128gcm16-sha256-prfsha256-ecp256");
	ipsec_conf_clear(&c);
	assert_null(c.psk);
	/* Keys as Go matches them: case-insensitively. */
	assert_int_equal(parse("{\"psk\":\"" PSK96 "\",\"udpencap\":true,"
			       "\"espproposal\":\"aes256gcm16-ecp384\"}", &c, &err), 0);
	assert_true(c.udp_encap);
	assert_string_equal(c.esp_proposal, "aes256gcm16-ecp384");
	ipsec_conf_clear(&c);
}

static void test_errors(void **state)
{
	static const struct {
		const char *json, *msg;
	} bad[] = {
		{ "{}", "config error, password is too short" },
		{ NULL, "config error, password is too short" },
		{ "{\"PSK\":\"short\"}", "at least 96 characters (it has 5)" },
		{ "{\"PSK\":\"" PSK96 "\",\"UDPEncap\":\"true\"}", "Backend.UDPEncap must be true or false" },
		{ "{\"PSK\":\"" PSK96 "\",\"ESPProposal\":\"\"}", "Backend.ESPProposal must be" },
		{ "{\"PSK\":\"" PSK96 "\",\"ESPProposal\":\"aes128;rm -rf\"}", "Backend.ESPProposal must be" },
		{ "{\"PSK\":\"" PSK96 "\",\"ESPProposal\":\"-aes\"}", "Backend.ESPProposal must be" },
		{ "{\"PSK\":\"" PSK96 "\",\"ESPProposal\":7}", "Backend.ESPProposal must be a string" },
		{ "{\"PSK\":42}", "Backend.PSK must be a string" },
		{ "[1]", "" },
	};
	struct ipsec_conf c;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i].json, &c, &err), -EINVAL);
		assert_non_null(strstr(err.msg, bad[i].msg));
		assert_null(c.psk);
	}
	/* The PSK stays out of messages. */
	assert_int_equal(parse("{\"PSK\":\"" PSK96 "\",\"UDPEncap\":1}", &c, &err), -EINVAL);
	assert_null(strstr(err.msg, PSK96));
	/* A PSK with a NUL in it would be cut short: the JSON is refused. */
	assert_int_equal(parse("{\"PSK\":\"" PSK96 "\\u0000x\"}", &c, &err), -EINVAL);
	assert_null(c.psk);
}

static void test_mtu(void **state)
{
	(void)state;
	assert_int_equal(ipsec_mtu(1500, false), 1423);
	assert_int_equal(ipsec_mtu(1500, true), 1415);
	assert_int_equal(ipsec_mtu(9000, true), 8915);
	assert_int_equal(ipsec_mtu(150, true), 0);
}

static void ids(struct ipsec_peer_ids *p)
{
	memset(p, 0, sizeof(*p));
	assert_int_equal(ip_addr_parse("10.200.0.11", &p->local_ip), 0);
	assert_int_equal(ip_addr_parse("10.200.0.12", &p->remote_ip), 0);
	assert_int_equal(ip_prefix_parse("10.244.1.0/24", &p->local_net), 0);
	assert_int_equal(ip_prefix_parse("10.244.2.0/24", &p->remote_net), 0);
}

static void test_names(void **state)
{
	struct ipsec_peer_ids p;
	char buf[IPSEC_NAME_MAX];

	(void)state;
	ids(&p);
	/* upstream: fmt.Sprintf("%s-%s-%s-%s", ...), Subnet.String() "a.b.c.d/n" */
	assert_string_equal(ipsec_conn_name(&p, buf), "10.200.0.11-10.244.1.0/24-10.244.2.0/24-10.200.0.12");
	assert_string_equal(ipsec_child_name(&p, buf), "10.244.1.0/24-10.244.2.0/24");
}

/* The request in b parsed back: its command name and message. */
static struct vici_packet *reparse(struct buf *b)
{
	static struct vici_packet pkt;
	struct err err = { 0 };
	size_t total = 0;

	vici_packet_clear(&pkt);
	assert_int_equal(vici_frame(b->data, b->len, &total), 1);
	assert_int_equal(total, b->len);
	assert_int_equal(vici_packet_parse((const uint8_t *)b->data + 4, b->len - 4, &pkt, &err), 0);
	assert_int_equal(pkt.type, VICI_CMD_REQUEST);
	return &pkt;
}

static void expect(const struct vici_node *s, const char *key, const char *want)
{
	char v[256];

	assert_int_equal(vici_get_str(s, key, v, sizeof(v)), 0);
	assert_string_equal(v, want);
}

static void expect_list1(const struct vici_node *s, const char *key, const char *want)
{
	const struct vici_node *l = vici_find(s, VICI_LIST, key);
	const struct vici_node *it;
	size_t len;
	const char *v;

	assert_non_null(l);
	it = vici_first(l, VICI_ITEM);
	assert_non_null(it);
	v = vici_node_value(it, &len);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
	assert_null(vici_next(it));
}

static void test_load_conn(void **state)
{
	const struct vici_node *conn, *child, *sec;
	struct ipsec_conf c = { .udp_encap = false };
	struct ipsec_peer_ids p;
	struct vici_packet *pkt;
	struct buf b;

	(void)state;
	ids(&p);
	snprintf(c.esp_proposal, sizeof(c.esp_proposal), "%s", IPSEC_DEFAULT_ESP_PROPOSAL);
	buf_init(&b, VICI_MAX_PACKET);
	for (int userspace = 0; userspace < 2; userspace++) {
		buf_reset(&b);
		assert_int_equal(ike_load_conn(&b, &c, &p, userspace), 0);
		pkt = reparse(&b);
		assert_string_equal(pkt->name, "load-conn");
		conn = vici_find(vici_msg_root(pkt->msg), VICI_SECTION,
				 "10.200.0.11-10.244.1.0/24-10.244.2.0/24-10.200.0.12");
		assert_non_null(conn);
		expect(conn, "version", "2");
		expect_list1(conn, "local_addrs", "10.200.0.11");
		expect_list1(conn, "remote_addrs", "10.200.0.12");
		expect_list1(conn, "proposals", "aes256-sha256-modp4096");
		expect(conn, "keyingtries", "0");
		expect(conn, "encap", userspace ? "yes" : "no");
		assert_non_null(sec = vici_find(conn, VICI_SECTION, "local"));
		expect(sec, "auth", "psk");
		assert_non_null(sec = vici_find(conn, VICI_SECTION, "remote"));
		expect(sec, "auth", "psk");
		assert_non_null(sec = vici_find(conn, VICI_SECTION, "children"));
		child = vici_find(sec, VICI_SECTION, "10.244.1.0/24-10.244.2.0/24");
		assert_non_null(child);
		expect_list1(child, "local_ts", "10.244.1.0/24");
		expect_list1(child, "remote_ts", "10.244.2.0/24");
		expect_list1(child, "esp_proposals", "aes128gcm16-sha256-prfsha256-ecp256");
		expect(child, "start_action", "start");
		expect(child, "close_action", "trap");
		expect(child, "dpd_action", "restart");
		expect(child, "mode", "tunnel");
		expect(child, "rekey_time", "1h");
		expect(child, "policies", userspace ? "yes" : "no");
		if (userspace) /* charon's own reqids: libipsec matches on reqid alone */
			assert_int_equal(vici_get_str(child, "reqid", (char[8]){ 0 }, 8), -ENOENT);
		else
			expect(child, "reqid", "11");
	}
	/* UDPEncap asks for encapsulation with kernel ESP too. */
	c.udp_encap = true;
	buf_reset(&b);
	assert_int_equal(ike_load_conn(&b, &c, &p, false), 0);
	pkt = reparse(&b);
	conn = vici_first(vici_msg_root(pkt->msg), VICI_SECTION);
	expect(conn, "encap", "yes");
	vici_packet_clear(pkt);
	buf_free(&b);
}

static void test_other_requests(void **state)
{
	struct vici_packet *pkt;
	const struct vici_node *root;
	struct buf b;

	(void)state;
	buf_init(&b, VICI_MAX_PACKET);
	assert_int_equal(ike_load_shared(&b, "weft-10.200.0.12", PSK96, "10.200.0.12"), 0);
	pkt = reparse(&b);
	root = vici_msg_root(pkt->msg);
	assert_string_equal(pkt->name, "load-shared");
	expect(root, "id", "weft-10.200.0.12");
	expect(root, "type", "IKE");
	expect(root, "data", PSK96);
	expect_list1(root, "owners", "10.200.0.12");
	buf_reset(&b);
	assert_int_equal(ike_unload_shared(&b, "weft-10.200.0.12"), 0);
	pkt = reparse(&b);
	assert_string_equal(pkt->name, "unload-shared");
	expect(vici_msg_root(pkt->msg), "id", "weft-10.200.0.12");
	buf_reset(&b);
	assert_int_equal(ike_unload_conn(&b, "a-b-c-d"), 0);
	pkt = reparse(&b);
	assert_string_equal(pkt->name, "unload-conn");
	expect(vici_msg_root(pkt->msg), "name", "a-b-c-d");
	buf_reset(&b);
	assert_int_equal(ike_terminate(&b, "a-b-c-d"), 0);
	pkt = reparse(&b);
	assert_string_equal(pkt->name, "terminate");
	expect(vici_msg_root(pkt->msg), "ike", "a-b-c-d");
	expect(vici_msg_root(pkt->msg), "timeout", "-1");
	buf_reset(&b);
	assert_int_equal(ike_command(&b, "list-sas"), 0);
	pkt = reparse(&b);
	assert_string_equal(pkt->name, "list-sas");
	expect(vici_msg_root(pkt->msg), "noblock", "yes");
	vici_packet_clear(pkt);
	buf_free(&b);
}

static void test_reply_status(void **state)
{
	struct vici_builder vb;
	struct vici_packet pkt = { 0 };
	struct err err = { 0 };
	char why[64];
	struct buf b;

	(void)state;
	buf_init(&b, VICI_MAX_PACKET);
	vici_build_begin(&vb, &b, VICI_CMD_RESPONSE, NULL);
	vici_build_str(&vb, "success", "no");
	vici_build_str(&vb, "errmsg", "invalid ESP proposal");
	assert_int_equal(vici_build_finish(&vb), 0);
	assert_int_equal(vici_packet_parse((const uint8_t *)b.data + 4, b.len - 4, &pkt, &err), 0);
	assert_int_equal(ike_reply_status(vici_msg_root(pkt.msg), why, sizeof(why)), -EIO);
	assert_string_equal(why, "invalid ESP proposal");
	vici_packet_clear(&pkt);
	buf_reset(&b);
	vici_build_begin(&vb, &b, VICI_CMD_RESPONSE, NULL);
	vici_build_str(&vb, "success", "yes");
	assert_int_equal(vici_build_finish(&vb), 0);
	assert_int_equal(vici_packet_parse((const uint8_t *)b.data + 4, b.len - 4, &pkt, &err), 0);
	assert_int_equal(ike_reply_status(vici_msg_root(pkt.msg), why, sizeof(why)), 0);
	vici_packet_clear(&pkt);
	assert_int_equal(ike_reply_status(NULL, why, sizeof(why)), -EIO);
	assert_string_equal(why, "no reason given");
	buf_free(&b);
}

static void test_charon_conf(void **state)
{
	char *s;

	(void)state;
	s = charon_conf_text("/run", true);
	/* kernel-libipsec before kernel-netlink; never bypass-lan */
	assert_non_null(strstr(s, "load = random nonce openssl sha2 hmac aes gcm kdf kernel-libipsec "
				  "kernel-netlink socket-default vici\n"));
	assert_null(strstr(s, "bypass-lan"));
	assert_non_null(strstr(s, "socket = unix:///run/charon.vici\n"));
	assert_non_null(strstr(s, "path = /run/charon.log\n"));
	assert_non_null(strstr(s, "install_routes = yes\n"));
	free(s);
	s = charon_conf_text("/var/run", false);
	assert_null(strstr(s, "kernel-libipsec"));
	assert_non_null(strstr(s, "install_routes = no\n"));
	assert_non_null(strstr(s, "socket = unix:///var/run/charon.vici\n"));
	free(s);
}

static void test_charon_find(void **state)
{
	char dir[] = "/tmp/weft-charon-XXXXXX", path[256], ret[256];
	struct err err = { 0 };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/charon", dir);
	assert_int_equal(charon_find(path, ret, sizeof(ret), &err), -ENOENT);
	assert_non_null(strstr(err.msg, path));
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(charon_find(path, ret, sizeof(ret), &err), -ENOENT); /* not executable */
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(charon_find(path, ret, sizeof(ret), &err), 0);
	assert_string_equal(ret, path);
	/* The search: PATH first. */
	setenv("PATH", dir, 1);
	assert_int_equal(charon_find("", ret, sizeof(ret), &err), 0);
	assert_string_equal(ret, path);
	unlink(path);
	rmdir(dir);
	/* Nothing anywhere (a PATH without it; the distribution paths may
	 * hold one here): either found in a known place or a message naming
	 * them all. */
	if (charon_find(NULL, ret, sizeof(ret), &err) == 0)
		assert_true(!strncmp(ret, "/usr/lib", 8));
	else
		assert_non_null(strstr(err.msg, "/usr/libexec/ipsec/charon"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),     cmocka_unit_test(test_errors),
		cmocka_unit_test(test_mtu),	     cmocka_unit_test(test_names),
		cmocka_unit_test(test_load_conn),    cmocka_unit_test(test_other_requests),
		cmocka_unit_test(test_reply_status), cmocka_unit_test(test_charon_conf),
		cmocka_unit_test(test_charon_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
