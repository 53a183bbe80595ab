// SPDX-License-Identifier: Apache-2.0
/*
 * wg/noise and wg/cookie: the handshake between two identities in memory,
 * its messages against an independent computation, and every way a message
 * must be refused.
 *
 * The known-answer messages (kat_*) were computed with a Python transcript of
 * the whitepaper's §5.4 formulas (hashlib's BLAKE2s, hmac, pyca/cryptography's
 * X25519 and ChaCha20Poly1305), written apart from this C code; test_kat_steps
 * recomputes the initiation step by step here as well, with crypto.h only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/hex.h"
#include "wg/noise.h"

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s) / 2;

	assert_true(n <= max);
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		assert_true(hi >= 0 && lo >= 0);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t w[256];

	assert_int_equal(unhex(want, w, sizeof(w)), len);
	assert_memory_equal(got, w, len);
}

/* One side: its identity, what answers to it, and the peers it knows. */
struct side {
	struct wg_static s;
	struct wg_cookie_checker cc;
	struct wg_noise_peer peers[2];
	int n;
};

static struct wg_noise_peer *by_key(void *arg, const uint8_t pub[WG_KEY_LEN])
{
	struct side *d = arg;

	for (int i = 0; i < d->n; i++)
		if (!memcmp(d->peers[i].pub, pub, WG_KEY_LEN))
			return &d->peers[i];
	return NULL;
}

static struct wg_noise_peer *by_index(void *arg, uint32_t idx)
{
	struct side *d = arg;

	for (int i = 0; i < d->n; i++)
		if (d->peers[i].state != WG_HS_NONE && d->peers[i].local_index == idx)
			return &d->peers[i];
	return NULL;
}

static void side_init(struct side *d, const uint8_t *priv)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(wg_static_init(&d->s, priv), 0);
	wg_cookie_checker_init(&d->cc, &d->s);
}

static struct wg_noise_peer *side_add(struct side *d, const struct side *other, const uint8_t *psk)
{
	struct wg_noise_peer *p = &d->peers[d->n++];

	wg_noise_peer_init(p, &d->s, other->s.pub, psk);
	return p;
}

/* Two sides that know each other: a initiates towards b. */
struct pair {
	struct side a, b;
	struct wg_noise_peer *ab; /* b as a knows it */
	struct wg_noise_peer *ba; /* a as b knows it */
};

static void pair_init(struct pair *t, const uint8_t *psk_a, const uint8_t *psk_b)
{
	uint8_t ka[WG_KEY_LEN], kb[WG_KEY_LEN];

	assert_int_equal(wg_key_generate(ka), 0);
	assert_int_equal(wg_key_generate(kb), 0);
	side_init(&t->a, ka);
	side_init(&t->b, kb);
	t->ab = side_add(&t->a, &t->b, psk_a);
	t->ba = side_add(&t->b, &t->a, psk_b);
}

static uint8_t ts_at(int64_t sec, uint8_t out[WG_TIMESTAMP_LEN])
{
	wg_tai64n(out, sec, 0);
	return out[0];
}

static const uint8_t src4[6] = {192, 0, 2, 1, 0xca, 0x6c}; /* 192.0.2.1:51820 */
static const uint8_t src4b[6] = {192, 0, 2, 2, 0xca, 0x6c};

static int setup(void **state)
{
	struct err err = {{0}};

	(void)state;
	if (wg_crypto_load(&err) < 0) {
		fprintf(stderr, "wg_crypto_load: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* The whole exchange; returns the keypairs. */
static void handshake(struct pair *t, int64_t sec, struct wg_keypair *ka, struct wg_keypair *kb)
{
	uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN], ts[WG_TIMESTAMP_LEN];
	struct wg_noise_peer *p;

	ts_at(sec, ts);
	assert_int_equal(wg_noise_init_create(&t->a.s, t->ab, 0x1111, ts, 1000, init), 0);
	assert_int_equal(t->ab->state, WG_HS_INIT_SENT);
	assert_int_equal(wg_cookie_check(&t->b.cc, init, sizeof(init), src4, 6, false, 1000),
			 WG_MAC_OK);
	assert_int_equal(wg_noise_init_consume(&t->b.s, init, by_key, &t->b, &p), 0);
	assert_ptr_equal(p, t->ba);
	assert_int_equal(p->state, WG_HS_INIT_CONSUMED);
	assert_int_equal(p->remote_index, 0x1111);
	assert_int_equal(wg_noise_resp_create(&t->b.s, p, 0x2222, 1000, resp), 0);
	assert_int_equal(p->state, WG_HS_RESP_SENT);
	assert_int_equal(wg_cookie_check(&t->a.cc, resp, sizeof(resp), src4, 6, false, 1000),
			 WG_MAC_OK);
	assert_int_equal(wg_noise_resp_consume(&t->a.s, resp, by_index, &t->a, &p), 0);
	assert_ptr_equal(p, t->ab);
	assert_int_equal(p->state, WG_HS_RESP_CONSUMED);
	assert_int_equal(wg_noise_derive(t->ab, ka), 0);
	assert_int_equal(wg_noise_derive(t->ba, kb), 0);
}

static void test_handshake(void **state)
{
	static const uint8_t psk[WG_KEY_LEN] = {7, 7, 7};
	const uint8_t *psks[] = {NULL, psk};
	struct wg_keypair ka, kb;
	struct wg_aead *a;
	uint8_t pkt[64], out[64];

	(void)state;
	assert_int_equal(wg_aead_new(&a), 0);
	for (int i = 0; i < 2; i++) {
		struct pair t;

		pair_init(&t, psks[i], psks[i]);
		handshake(&t, 1700000000, &ka, &kb);
		assert_true(ka.initiator);
		assert_false(kb.initiator);
		assert_memory_equal(ka.send, kb.recv, WG_KEY_LEN);
		assert_memory_equal(ka.recv, kb.send, WG_KEY_LEN);
		assert_memory_not_equal(ka.send, ka.recv, WG_KEY_LEN);
		assert_int_equal(ka.local_index, 0x1111);
		assert_int_equal(ka.remote_index, 0x2222);
		assert_int_equal(kb.local_index, 0x2222);
		assert_int_equal(kb.remote_index, 0x1111);
		/* the handshake state is gone */
		assert_int_equal(t.ab->state, WG_HS_NONE);
		assert_int_equal(t.ba->state, WG_HS_NONE);
		assert_int_equal(wg_noise_derive(t.ab, &ka), -EINVAL);
		/* data flows both ways */
		assert_int_equal(
			wg_aead_seal(a, ka.send, 0, NULL, 0, (const uint8_t *)"ping", 4, pkt), 0);
		assert_int_equal(wg_aead_open(a, kb.recv, 0, NULL, 0, pkt, 20, out), 0);
		assert_memory_equal(out, "ping", 4);
		assert_int_equal(
			wg_aead_seal(a, kb.send, 0, NULL, 0, (const uint8_t *)"pong", 4, pkt), 0);
		assert_int_equal(wg_aead_open(a, ka.recv, 0, NULL, 0, pkt, 20, out), 0);
		assert_memory_equal(out, "pong", 4);
		/* a second handshake gives other keys */
		{
			struct wg_keypair ka2, kb2;

			handshake(&t, 1700000001, &ka2, &kb2);
			assert_memory_equal(ka2.send, kb2.recv, WG_KEY_LEN);
			assert_memory_not_equal(ka2.send, ka.send, WG_KEY_LEN);
		}
	}
	wg_aead_free(a);
}

/* ---- known answers ---- */

static const char kat_init[] =
	"01000000443322117b0d47d93427f8311160781c7c733fd89f88970aef490d8aa0ee19a4cb8a1b1481e49831"
	"7da959fba46669572516a5e6c021bfa620bb6c56ca0082e1feae14988c2c64d024c617734a263f76a008df04"
	"d0f94bad8ee75ec89ac26955fa2a66f87933196095fd9a141106a7fc9e640d3dbd67524218b3f6e0ed304df1"
	"00000000000000000000000000000000";
static const char kat_init_mac2[] = "032505de9dc44ae66c34c49ddb2df0b4"; /* cookie c0..cf */
static const char kat_resp[] =
	"020000008877665544332211ff2ee45601ec1b67310c7790404585ae697331eee1c1f8cf2419731c1fff3e6b"
	"3ac87b202ba8c44dd87e84fe67bac4316c520dd4aabe7d875c7bfc53247bfbf8000000000000000000000000"
	"00000000";
static const char kat_send[] = "a007faf842d83f5bd3be20a14e0ffcec34c84867b78b051980602713205922de";
static const char kat_recv[] = "d982d5cd10d34a7802b6c19fa441cd9164d70e4f4d62007ab416879ee8bd1b99";
static const char kat_si_pub[] = "7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13";
static const char kat_sr_pub[] = "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20";

struct kat {
	uint8_t si[32], sr[32], ei[32], er[32], psk[32], ts[WG_TIMESTAMP_LEN];
};

static void kat_keys(struct kat *k)
{
	memset(k->si, 0x11, 32);
	k->si[31] = 0x51;
	memset(k->sr, 0x22, 32);
	k->sr[31] = 0x62;
	memset(k->ei, 0x33, 32);
	k->ei[31] = 0x73;
	memset(k->er, 0x44, 32);
	memset(k->psk, 0x55, 32);
	/* 1700000000 s and 123 * 2^24 ns: whitening leaves it as it is */
	wg_tai64n(k->ts, 1700000000, 123L << 24);
}

static void test_tai64n(void **state)
{
	uint8_t ts[WG_TIMESTAMP_LEN], ts2[WG_TIMESTAMP_LEN];

	(void)state;
	wg_tai64n(ts, 1700000000, (123L << 24) + 4242);
	/* 2^62 + 10 + 1700000000 big-endian, then 123 << 24 big-endian */
	assert_hex(ts, 12, "400000006553f10a7b000000");
	wg_tai64n(ts, 0, 0);
	assert_hex(ts, 12, "400000000000000a00000000");
	/* order of bytes is order of time */
	wg_tai64n(ts, 1700000000, 999999999);
	wg_tai64n(ts2, 1700000001, 0);
	assert_true(memcmp(ts, ts2, 12) < 0);
}

static void test_kat_messages(void **state)
{
	uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN], cookie[WG_MAC_LEN];
	struct wg_noise_peer *p;
	struct wg_keypair ki, kr;
	struct side a, b;
	struct kat k;

	(void)state;
	kat_keys(&k);
	side_init(&a, k.si);
	side_init(&b, k.sr);
	assert_hex(a.s.pub, 32, kat_si_pub);
	assert_hex(b.s.pub, 32, kat_sr_pub);
	side_add(&a, &b, k.psk);
	side_add(&b, &a, k.psk);

	assert_int_equal(
		wg_noise_init_create_eph(&a.s, &a.peers[0], 0x11223344, k.ts, 5000, k.ei, init), 0);
	assert_hex(init, sizeof(init), kat_init);
	/* mac2 with a cookie held */
	for (int i = 0; i < WG_MAC_LEN; i++)
		cookie[i] = (uint8_t)(0xc0 + i);
	memcpy(a.peers[0].cookie, cookie, WG_MAC_LEN);
	a.peers[0].cookie_ms = 4000;
	wg_macs_write(&a.peers[0], init, sizeof(init), 5000);
	assert_hex(init + 132, 16, kat_init_mac2);
	{
		uint8_t want[WG_INIT_LEN];

		unhex(kat_init, want, sizeof(want));
		assert_memory_equal(init, want, 132); /* mac1 as before */
	}

	assert_int_equal(wg_noise_init_consume(&b.s, init, by_key, &b, &p), 0);
	assert_int_equal(wg_noise_resp_create_eph(&b.s, p, 0x55667788, 5000, k.er, resp), 0);
	assert_hex(resp, sizeof(resp), kat_resp);
	assert_int_equal(wg_noise_resp_consume(&a.s, resp, by_index, &a, &p), 0);
	assert_int_equal(wg_noise_derive(&a.peers[0], &ki), 0);
	assert_int_equal(wg_noise_derive(&b.peers[0], &kr), 0);
	assert_hex(ki.send, 32, kat_send);
	assert_hex(ki.recv, 32, kat_recv);
	assert_hex(kr.recv, 32, kat_send);
	assert_hex(kr.send, 32, kat_recv);
}

/* The initiation again, formula by formula (whitepaper §5.4.2), with crypto.h. */
static void test_kat_steps(void **state)
{
	static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
	uint8_t C[32], H[32], K[32], dh[32], si_pub[32], sr_pub[32], ei_pub[32], mac1_key[32];
	uint8_t msg[WG_INIT_LEN] = {1, 0, 0, 0, 0x44, 0x33, 0x22, 0x11}, init[WG_INIT_LEN];
	struct wg_aead *a;
	struct side sa, sb;
	struct kat k;

	(void)state;
	kat_keys(&k);
	assert_int_equal(wg_aead_new(&a), 0);
	assert_int_equal(wg_key_public(si_pub, k.si), 0);
	assert_int_equal(wg_key_public(sr_pub, k.sr), 0);
	assert_int_equal(wg_key_public(ei_pub, k.ei), 0);

	wg_hash(C, construction, strlen(construction), NULL, 0); /* Ci = HASH(CONSTRUCTION) */
	wg_hash(H, C, 32, identifier, strlen(identifier));	 /* Hi = HASH(Ci || IDENTIFIER) */
	wg_hash(H, H, 32, sr_pub, 32);				 /* Hi = HASH(Hi || Sr_pub) */
	wg_kdf(C, NULL, NULL, C, ei_pub, 32);			 /* Ci = KDF1(Ci, Ei_pub) */
	memcpy(msg + 8, ei_pub, 32);				 /* msg.ephemeral */
	wg_hash(H, H, 32, msg + 8, 32); /* Hi = HASH(Hi || msg.ephemeral) */
	assert_int_equal(wg_dh(dh, k.ei, sr_pub), 0);
	wg_kdf(C, K, NULL, C, dh, 32); /* (Ci, k) = KDF2(Ci, DH(Ei_priv, Sr_pub)) */
	/* msg.static = AEAD(k, 0, Si_pub, Hi); Hi = HASH(Hi || msg.static) */
	assert_int_equal(wg_aead_seal(a, K, 0, H, 32, si_pub, 32, msg + 40), 0);
	wg_hash(H, H, 32, msg + 40, 48);
	assert_int_equal(wg_dh(dh, k.si, sr_pub), 0);
	wg_kdf(C, K, NULL, C, dh, 32); /* (Ci, k) = KDF2(Ci, DH(Si_priv, Sr_pub)) */
	/* msg.timestamp = AEAD(k, 0, TIMESTAMP(), Hi) */
	assert_int_equal(wg_aead_seal(a, K, 0, H, 32, k.ts, 12, msg + 88), 0);
	wg_hash(H, H, 32, msg + 88, 28);
	/* msg.mac1 = MAC(HASH(LABEL_MAC1 || Sr_pub), msg_a); mac2 zero: no cookie */
	wg_hash(mac1_key, "mac1----", 8, sr_pub, 32);
	wg_mac(msg + 116, mac1_key, msg, 116);

	side_init(&sa, k.si);
	side_init(&sb, k.sr);
	side_add(&sa, &sb, k.psk);
	assert_int_equal(
		wg_noise_init_create_eph(&sa.s, &sa.peers[0], 0x11223344, k.ts, 1, k.ei, init), 0);
	assert_memory_equal(init, msg, sizeof(msg));
	assert_memory_equal(sa.peers[0].chain, C, 32);
	assert_memory_equal(sa.peers[0].hash, H, 32);
	assert_memory_equal(sb.s.mac1_key, mac1_key, 32);
	assert_memory_equal(sa.peers[0].mac1_key, mac1_key, 32);
	wg_aead_free(a);
}

/* ---- refusals ---- */

static void test_replay(void **state)
{
	uint8_t init[WG_INIT_LEN], init_old[WG_INIT_LEN], ts[WG_TIMESTAMP_LEN];
	struct wg_noise_peer *p;
	struct pair t;

	(void)state;
	pair_init(&t, NULL, NULL);
	ts_at(1700000000, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 1, ts, 1, init_old), 0);
	ts_at(1700000005, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 2, ts, 1, init), 0);
	assert_int_equal(wg_noise_init_consume(&t.b.s, init, by_key, &t.b, &p), 0);
	/* the same again, and an older one */
	t.ba->state = WG_HS_NONE;
	assert_int_equal(wg_noise_init_consume(&t.b.s, init, by_key, &t.b, &p), -ESTALE);
	assert_null(p);
	assert_int_equal(wg_noise_init_consume(&t.b.s, init_old, by_key, &t.b, &p), -ESTALE);
	assert_int_equal(t.ba->state, WG_HS_NONE); /* refused: nothing changed */
	/* a re-init of the peer (a psk change) keeps the latest timestamp */
	wg_noise_peer_init(t.ba, &t.b.s, t.a.s.pub, (const uint8_t[32]){1});
	assert_int_equal(wg_noise_init_consume(&t.b.s, init, by_key, &t.b, &p), -ESTALE);
	/* a newer one is fine */
	ts_at(1700000006, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 3, ts, 1, init), 0);
	assert_int_equal(wg_noise_init_consume(&t.b.s, init, by_key, &t.b, &p), 0);
}

static void test_tamper_init(void **state)
{
	uint8_t init[WG_INIT_LEN], bad[WG_INIT_LEN], ts[WG_TIMESTAMP_LEN];
	struct wg_noise_peer *p;
	struct pair t;

	(void)state;
	pair_init(&t, NULL, NULL);
	ts_at(1700000000, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 9, ts, 1, init), 0);
	for (size_t i = 0; i < sizeof(init); i++) {
		enum wg_mac_verdict v;
		int r;

		memcpy(bad, init, sizeof(init));
		bad[i] ^= 0x04;
		v = wg_cookie_check(&t.b.cc, bad, sizeof(bad), src4, 6, false, 1);
		r = wg_noise_init_consume(&t.b.s, bad, by_key, &t.b, &p);
		if (i < 132) /* mac1 covers all before it */
			assert_int_equal(v, WG_MAC_BAD);
		else /* mac2: only looked at under load */
			assert_int_equal(v, WG_MAC_OK);
		if (i < 4 || (i >= 8 && i < 116))
			assert_int_equal(r, -EINVAL);
		else /* the sender index (mac1 guards it) and the macs */
			assert_true(r == 0 || r == -ESTALE);
		t.ba->state = WG_HS_NONE;
		memset(t.ba->latest_timestamp, 0, WG_TIMESTAMP_LEN);
	}
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4, 6, false, 1),
			 WG_MAC_OK);
	assert_int_equal(wg_noise_init_consume(&t.b.s, init, by_key, &t.b, &p), 0);
}

static void test_tamper_resp(void **state)
{
	uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN], bad[WG_RESP_LEN], ts[WG_TIMESTAMP_LEN];
	struct wg_noise_peer *p, saved;
	struct pair t;

	(void)state;
	pair_init(&t, NULL, NULL);
	ts_at(1700000000, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 9, ts, 1, init), 0);
	assert_int_equal(wg_noise_init_consume(&t.b.s, init, by_key, &t.b, &p), 0);
	assert_int_equal(wg_noise_resp_create(&t.b.s, p, 10, 1, resp), 0);
	saved = *t.ab;
	for (size_t i = 0; i < sizeof(resp); i++) {
		enum wg_mac_verdict v;
		int r;

		memcpy(bad, resp, sizeof(resp));
		bad[i] ^= 0x80;
		v = wg_cookie_check(&t.a.cc, bad, sizeof(bad), src4, 6, false, 1);
		r = wg_noise_resp_consume(&t.a.s, bad, by_index, &t.a, &p);
		if (i < 76)
			assert_int_equal(v, WG_MAC_BAD);
		else
			assert_int_equal(v, WG_MAC_OK);
		if (i >= 8 && i < 12) /* the receiver index: no such handshake */
			assert_int_equal(r, -ENOENT);
		else if (i < 4 || (i >= 12 && i < 60))
			assert_int_equal(r, -EINVAL);
		else
			assert_int_equal(r, 0);
		if (r < 0) /* refused: the handshake in progress is untouched */
			assert_memory_equal(t.ab, &saved, sizeof(saved));
		*t.ab = saved;
	}
	/* a response for a handshake not in progress */
	assert_int_equal(wg_noise_resp_consume(&t.a.s, resp, by_index, &t.a, &p), 0);
	assert_int_equal(wg_noise_resp_consume(&t.a.s, resp, by_index, &t.a, &p), -EINVAL);
}

static void test_tamper_cookie(void **state)
{
	uint8_t init[WG_INIT_LEN], reply[WG_COOKIE_LEN], bad[WG_COOKIE_LEN], ts[WG_TIMESTAMP_LEN];
	struct wg_noise_peer saved;
	struct pair t;

	(void)state;
	pair_init(&t, NULL, NULL);
	ts_at(1700000000, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 0xabcdef01, ts, 1, init), 0);
	assert_int_equal(wg_cookie_reply_create(&t.b.cc, init, sizeof(init), src4, 6, 1, reply), 0);
	assert_int_equal(reply[0], WG_MSG_COOKIE);
	assert_int_equal(wg_get_le32(reply + 4), 0xabcdef01);
	saved = *t.ab;
	for (size_t i = 0; i < sizeof(reply); i++) {
		int r;

		memcpy(bad, reply, sizeof(reply));
		bad[i] ^= 0x01;
		r = wg_cookie_reply_consume(t.ab, bad, 2);
		if (i >= 4 && i < 8) /* the receiver index: the caller's lookup */
			assert_int_equal(r, 0);
		else
			assert_int_equal(r, -EINVAL);
		*t.ab = saved;
	}
	assert_int_equal(wg_cookie_reply_consume(t.ab, reply, 2), 0);
	/* once only */
	assert_int_equal(wg_cookie_reply_consume(t.ab, reply, 2), -EINVAL);
}

static void test_unknown_key(void **state)
{
	uint8_t init[WG_INIT_LEN], ts[WG_TIMESTAMP_LEN];
	struct wg_noise_peer *p = (void *)1;
	struct pair t;

	(void)state;
	pair_init(&t, NULL, NULL);
	ts_at(1700000000, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 1, ts, 1, init), 0);
	t.b.n = 0; /* b knows no one */
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4, 6, false, 1),
			 WG_MAC_OK);
	assert_int_equal(wg_noise_init_consume(&t.b.s, init, by_key, &t.b, &p), -ENOENT);
	assert_null(p);
}

static void test_psk_mismatch(void **state)
{
	static const uint8_t psk1[32] = {1}, psk2[32] = {2};
	uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN], ts[WG_TIMESTAMP_LEN];
	struct wg_noise_peer *p;
	struct pair t;

	(void)state;
	for (int i = 0; i < 2; i++) {
		/* different keys; and a psk on one side only */
		pair_init(&t, psk1, i == 0 ? psk2 : NULL);
		ts_at(1700000000, ts);
		assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 1, ts, 1, init), 0);
		/* the initiation does not involve the psk ... */
		assert_int_equal(wg_noise_init_consume(&t.b.s, init, by_key, &t.b, &p), 0);
		assert_int_equal(wg_noise_resp_create(&t.b.s, p, 2, 1, resp), 0);
		/* ... the response does */
		assert_int_equal(wg_noise_resp_consume(&t.a.s, resp, by_index, &t.a, &p), -EINVAL);
		assert_int_equal(t.ab->state, WG_HS_INIT_SENT);
	}
}

static void test_no_key(void **state)
{
	uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN], ts[WG_TIMESTAMP_LEN], out[WG_COOKIE_LEN];
	static const uint8_t zero[32];
	struct wg_noise_peer *p;
	struct pair t;
	struct side none;

	(void)state;
	pair_init(&t, NULL, NULL);
	ts_at(1700000000, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 1, ts, 1, init), 0);
	side_init(&none, NULL);
	assert_false(none.s.has_key);
	side_init(&none, zero); /* all zero is no key too */
	assert_false(none.s.has_key);
	none.n = 1;
	wg_noise_peer_init(&none.peers[0], &none.s, t.a.s.pub, NULL);
	assert_false(none.peers[0].ss_ok);
	assert_int_equal(wg_noise_init_create(&none.s, &none.peers[0], 1, ts, 1, init), -ENOKEY);
	assert_int_equal(wg_noise_init_consume(&none.s, init, by_key, &none, &p), -ENOKEY);
	assert_int_equal(wg_noise_resp_create(&none.s, &none.peers[0], 1, 1, resp), -ENOKEY);
	assert_int_equal(wg_noise_resp_consume(&none.s, resp, by_index, &none, &p), -ENOKEY);
	assert_int_equal(wg_cookie_check(&none.cc, init, sizeof(init), src4, 6, false, 1),
			 WG_MAC_BAD);
	assert_int_equal(wg_cookie_reply_create(&none.cc, init, sizeof(init), src4, 6, 1, out),
			 -ENOKEY);
	/* a low-order public key for a peer: its handshakes fail */
	wg_noise_peer_init(t.ab, &t.a.s, zero, NULL);
	assert_false(t.ab->ss_ok);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 1, ts, 1, init), -EINVAL);
	/* a response in the wrong state, a derive in the wrong state */
	assert_int_equal(wg_noise_resp_create(&t.b.s, t.ba, 1, 1, resp), -EINVAL);
	assert_int_equal(wg_noise_derive(t.ba, &(struct wg_keypair){0}), -EINVAL);
}

/* ---- macs and cookies ---- */

static void test_mac1(void **state)
{
	uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN], ts[WG_TIMESTAMP_LEN];
	struct wg_noise_peer *p;
	struct pair t, other;

	(void)state;
	pair_init(&t, NULL, NULL);
	pair_init(&other, NULL, NULL);
	ts_at(1700000000, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 1, ts, 1, init), 0);
	/* mac1 is for b's key: anyone else's checker says BAD */
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4, 6, false, 1),
			 WG_MAC_OK);
	assert_int_equal(wg_cookie_check(&t.a.cc, init, sizeof(init), src4, 6, false, 1),
			 WG_MAC_BAD);
	assert_int_equal(wg_cookie_check(&other.b.cc, init, sizeof(init), src4, 6, false, 1),
			 WG_MAC_BAD);
	/* wrong lengths */
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init) - 1, src4, 6, false, 1),
			 WG_MAC_BAD);
	assert_int_equal(wg_cookie_check(&t.b.cc, init, 0, src4, 6, false, 1), WG_MAC_BAD);
	/* the response's mac1 is for a */
	assert_int_equal(wg_noise_init_consume(&t.b.s, init, by_key, &t.b, &p), 0);
	assert_int_equal(wg_noise_resp_create(&t.b.s, p, 2, 1, resp), 0);
	assert_int_equal(wg_cookie_check(&t.a.cc, resp, sizeof(resp), src4, 6, false, 1),
			 WG_MAC_OK);
	assert_int_equal(wg_cookie_check(&t.b.cc, resp, sizeof(resp), src4, 6, false, 1),
			 WG_MAC_BAD);
	/* b remembered the mac1 of its response for a cookie reply from a */
	assert_true(t.ba->have_last_mac1);
	assert_memory_equal(t.ba->last_mac1, resp + 60, 16);
}

static void test_cookie_flow(void **state)
{
	uint8_t init[WG_INIT_LEN], init2[WG_INIT_LEN], reply[WG_COOKIE_LEN];
	uint8_t ts[WG_TIMESTAMP_LEN], zero[16] = {0};
	const int64_t t0 = 1000;
	struct wg_noise_peer *p;
	struct pair t;

	(void)state;
	pair_init(&t, NULL, NULL);
	ts_at(1700000000, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 7, ts, t0, init), 0);
	assert_memory_equal(init + 132, zero, 16); /* no cookie yet: mac2 zero */
	/* under load: mac1 alone is not enough */
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4, 6, true, t0),
			 WG_MAC_NEED_COOKIE);
	assert_int_equal(wg_cookie_reply_create(&t.b.cc, init, sizeof(init), src4, 6, t0, reply),
			 0);

	/* a reply to an older message of ours is refused */
	ts_at(1700000001, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 8, ts, t0, init2), 0);
	assert_int_equal(wg_cookie_reply_consume(t.ab, reply, t0), -EINVAL);
	assert_int_equal(t.ab->cookie_ms, 0);
	/* so: answer the latest */
	assert_int_equal(wg_cookie_reply_create(&t.b.cc, init2, sizeof(init2), src4, 6, t0, reply),
			 0);
	assert_int_equal(wg_cookie_reply_consume(t.ab, reply, t0), 0);
	assert_true(t.ab->cookie_ms != 0);

	/* the next message carries mac2, which the checker accepts under load */
	ts_at(1700000002, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 9, ts, t0 + 10, init), 0);
	assert_memory_not_equal(init + 132, zero, 16);
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4, 6, true, t0 + 10),
			 WG_MAC_OK);
	/* from another address it is not the right cookie */
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4b, 6, true, t0 + 10),
			 WG_MAC_NEED_COOKIE);
	/* mac2 is checked only under load */
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4b, 6, false, t0 + 10),
			 WG_MAC_OK);
	/* a flipped mac2 byte */
	init[140] ^= 1;
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4, 6, true, t0 + 10),
			 WG_MAC_NEED_COOKIE);
	init[140] ^= 1;
	assert_int_equal(wg_noise_init_consume(&t.b.s, init, by_key, &t.b, &p), 0);

	/* just under 120 s the cookie is still used and still good */
	ts_at(1700000003, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 10, ts, t0 + 119999, init), 0);
	assert_memory_not_equal(init + 132, zero, 16);
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4, 6, true, t0 + 119999),
			 WG_MAC_OK);
	/* at 120 s it is not used any more */
	ts_at(1700000004, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 11, ts, t0 + 120000, init), 0);
	assert_memory_equal(init + 132, zero, 16);
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4, 6, true, t0 + 120000),
			 WG_MAC_NEED_COOKIE);
}

static void test_cookie_secret_rotates(void **state)
{
	uint8_t init[WG_INIT_LEN], reply[WG_COOKIE_LEN], ts[WG_TIMESTAMP_LEN];
	uint8_t secret[WG_HASH_LEN];
	struct pair t;

	(void)state;
	pair_init(&t, NULL, NULL);
	ts_at(1700000000, ts);
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 7, ts, 0, init), 0);
	/* time 0 is a valid time (stored as 1: 0 means none) */
	assert_int_equal(wg_cookie_reply_create(&t.b.cc, init, sizeof(init), src4, 6, 0, reply), 0);
	assert_int_equal(wg_cookie_reply_consume(t.ab, reply, 0), 0);
	memcpy(secret, t.b.cc.secret, sizeof(secret));
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 8, ts, 60000, init), 0);
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4, 6, true, 60000),
			 WG_MAC_OK);
	assert_memory_equal(secret, t.b.cc.secret, sizeof(secret));
	/* two minutes on, the checker has a new secret: the old cookie is no good,
	 * though the sender (whose clock differs) still uses it */
	assert_int_equal(wg_noise_init_create(&t.a.s, t.ab, 9, ts, 60000, init), 0);
	assert_int_equal(wg_cookie_check(&t.b.cc, init, sizeof(init), src4, 6, true, 120001),
			 WG_MAC_NEED_COOKIE);
	assert_memory_not_equal(secret, t.b.cc.secret, sizeof(secret));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),    cmocka_unit_test(test_tai64n),
		cmocka_unit_test(test_kat_messages), cmocka_unit_test(test_kat_steps),
		cmocka_unit_test(test_replay),	     cmocka_unit_test(test_tamper_init),
		cmocka_unit_test(test_tamper_resp),  cmocka_unit_test(test_tamper_cookie),
		cmocka_unit_test(test_unknown_key),  cmocka_unit_test(test_psk_mismatch),
		cmocka_unit_test(test_no_key),	     cmocka_unit_test(test_mac1),
		cmocka_unit_test(test_cookie_flow),  cmocka_unit_test(test_cookie_secret_rotates),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
