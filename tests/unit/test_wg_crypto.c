// SPDX-License-Identifier: Apache-2.0
/*
 * wg/crypto: known answers for each primitive WireGuard uses.
 *
 * Where the values come from:
 * - BLAKE2s-256 of "" and "abc": RFC 7693 Appendix B and the BLAKE2 reference.
 * - X25519: RFC 7748 §6.1 (Alice and Bob).
 * - ChaCha20-Poly1305: RFC 8439 Appendix A.5, whose nonce 00000000 ||
 *   0102030405060708 is WireGuard's layout (zero word, then the 64-bit counter
 *   little-endian), so it goes through wg_aead_open with counter
 *   0x0807060504030201. RFC 8439 §2.8.2's nonce starts 07000000 and cannot be
 *   expressed through wg_aead: it is not used.
 * - XChaCha20-Poly1305: draft-irtf-cfrg-xchacha-03 Appendix A.3.1.
 * - Keyed BLAKE2s-128, HMAC-BLAKE2s, the KDF and one more AEAD value: no
 *   published vectors with these parameters; computed independently with
 *   Python (hashlib.blake2s(m, key=k, digest_size=16), hmac.new(k, m,
 *   hashlib.blake2s), the whitepaper's KDF written over it, and pyca's
 *   ChaCha20Poly1305 with nonce 00000000 || le64(counter)). hashlib's BLAKE2
 *   is not OpenSSL's, so these check our use of OpenSSL (key length, output
 *   size, the HMAC construction), not OpenSSL against itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/hex.h"
#include "wg/crypto.h"

/* hex into out (at most max bytes); the decoded length. */
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
	uint8_t w[512];

	assert_int_equal(unhex(want, w, sizeof(w)), len);
	assert_memory_equal(got, w, len);
}

static void seq(uint8_t *p, size_t len, uint8_t start)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(start + i);
}

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

static void test_load_twice(void **state)
{
	struct err err = {{0}};

	(void)state;
	assert_int_equal(wg_crypto_load(&err), 0);
	assert_int_equal(wg_crypto_load(NULL), 0);
}

static void test_hash(void **state)
{
	uint8_t out[WG_HASH_LEN], big[300];

	(void)state;
	wg_hash(out, "", 0, NULL, 0);
	assert_hex(out, 32, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
	wg_hash(out, "abc", 3, NULL, 0);
	assert_hex(out, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	/* HASH(a || b) is the hash of the concatenation, wherever it is cut */
	wg_hash(out, "a", 1, "bc", 2);
	assert_hex(out, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	wg_hash(out, "", 0, "abc", 3);
	assert_hex(out, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	/* in place, as the handshake's H = HASH(H || x) */
	seq(big, sizeof(big), 0);
	memcpy(out, "abc", 3);
	wg_hash(out, out, 3, NULL, 0);
	assert_hex(out, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

static void test_mac(void **state)
{
	uint8_t key[32], in[64], out[WG_MAC_LEN];

	(void)state;
	seq(key, sizeof(key), 0);
	seq(in, sizeof(in), 0);
	wg_mac(out, key, in, sizeof(in));
	assert_hex(out, 16, "f1efa90d2547036841ecd3627fafbc36");
	wg_mac(out, key, NULL, 0);
	assert_hex(out, 16, "9536f9b267655743dee97b8a670f9f53");
	/* wg_mac_key with the full key is wg_mac */
	wg_mac_key(out, key, 32, in, sizeof(in));
	assert_hex(out, 16, "f1efa90d2547036841ecd3627fafbc36");
	/* a 16-byte key (mac2's cookie) is not the 32-byte key zero-padded */
	wg_mac_key(out, key, 16, in, sizeof(in));
	assert_hex(out, 16, "dd55c51c98f8ab96ed272882941f0b6a");
}

static void test_hmac_kdf(void **state)
{
	uint8_t key[32], t1[32], t2[32], t3[32], u1[32], u2[32], x[32];

	(void)state;
	seq(key, sizeof(key), 0);
	wg_hmac(t1, key, sizeof(key), "WireGuard", 9);
	assert_hex(t1, 32, "5415924543576b3f5ee867c94e1aab70586d33b32fae3fccd2c635b3e1d7198d");

	wg_kdf(t1, t2, t3, key, "WireGuard", 9);
	assert_hex(t1, 32, "7e615ce2573f4139b960d562ec463daf7164bd86a0a64c0adc374ff2655769f3");
	assert_hex(t2, 32, "42dbbd4438e101cd2c2ea8d05ed6716bf87489aea47ece2f06358835670130bf");
	assert_hex(t3, 32, "5c58c1d9808a5bfdf8f38f6487248985c04f4b6d0fe427516935a0f6903b0157");
	/* KDF1 and KDF2 are prefixes of KDF3 */
	wg_kdf(u1, u2, NULL, key, "WireGuard", 9);
	assert_memory_equal(u1, t1, 32);
	assert_memory_equal(u2, t2, 32);
	wg_kdf(u1, NULL, NULL, key, "WireGuard", 9);
	assert_memory_equal(u1, t1, 32);
	/* t1 = HMAC(HMAC(key, in), 0x1): the definition, through wg_hmac */
	wg_hmac(x, key, sizeof(key), "WireGuard", 9);
	wg_hmac(u1, x, sizeof(x), "\x01", 1);
	assert_memory_equal(u1, t1, 32);
	/* the empty input of the session keys' KDF2(C, e) */
	wg_kdf(t1, t2, NULL, key, NULL, 0);
	assert_hex(t1, 32, "7a38c34bf2b8738d7374ca77c44ecb309a11d2b2528304fa86052c365e722624");
	assert_hex(t2, 32, "1a17621f346abdc520746a9fb64d8eb03231d674fc15687537b0780fd9c060fd");
	/* output over the key, as C = KDF1(C, x) does */
	memcpy(x, key, 32);
	wg_kdf(x, NULL, NULL, x, "WireGuard", 9);
	wg_kdf(u1, NULL, NULL, key, "WireGuard", 9);
	assert_memory_equal(x, u1, 32);
}

static const char alice_priv[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char alice_pub[] = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char bob_priv[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char bob_pub[] = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char shared[] = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

static void test_x25519(void **state)
{
	uint8_t a[32], b[32], apub[32], bpub[32], out[32], zero[32] = {0};

	(void)state;
	unhex(alice_priv, a, 32);
	unhex(bob_priv, b, 32);
	assert_int_equal(wg_key_public(apub, a), 0);
	assert_hex(apub, 32, alice_pub);
	assert_int_equal(wg_key_public(bpub, b), 0);
	assert_hex(bpub, 32, bob_pub);
	assert_int_equal(wg_dh(out, a, bpub), 0);
	assert_hex(out, 32, shared);
	assert_int_equal(wg_dh(out, b, apub), 0);
	assert_hex(out, 32, shared);
	/* low-order points give an all-zero secret: refused */
	assert_int_equal(wg_dh(out, a, zero), -EINVAL);
	zero[0] = 1; /* the point u = 1, of order 1 */
	assert_int_equal(wg_dh(out, a, zero), -EINVAL);
}

static void test_key_generate(void **state)
{
	uint8_t k1[32], k2[32], p1[32], p2[32], out1[32], out2[32];

	(void)state;
	assert_int_equal(wg_key_generate(k1), 0);
	assert_int_equal(wg_key_generate(k2), 0);
	assert_memory_not_equal(k1, k2, 32);
	/* clamped as RFC 7748 §5 says */
	assert_int_equal(k1[0] & 7, 0);
	assert_int_equal(k1[31] & 0xc0, 0x40);
	assert_int_equal(wg_key_public(p1, k1), 0);
	assert_int_equal(wg_key_public(p2, k2), 0);
	assert_int_equal(wg_dh(out1, k1, p2), 0);
	assert_int_equal(wg_dh(out2, k2, p1), 0);
	assert_memory_equal(out1, out2, 32);
	assert_int_equal(wg_random(out1, 0), 0);
}

/* RFC 8439 Appendix A.5. */
static const char a5_key[] = "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
static const char a5_ad[] = "f33388860000000000004e91";
static const char a5_ct[] =
	"64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e"
	"382d26b0bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd"
	"60f982b1ff37c8559797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c76"
	"7b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a"
	"0d072b04b3564eea1b422273f548271a0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a67276"
	"27097a1049e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b0270"
	"9b"
	"eead9d67890cbb22392336fea1851f38";
static const char a5_pt[] =
	"Internet-Drafts are draft documents valid for a maximum of six months and may be "
	"updated, replaced, or obsoleted by other documents at any time. It is inappropriate to "
	"use Internet-Drafts as reference material or to cite them other than as "
	"/\xe2\x80\x9cwork in progress./\xe2\x80\x9d";
#define A5_COUNTER 0x0807060504030201ULL

static void test_aead_rfc8439_a5(void **state)
{
	uint8_t key[32], ad[12], ct[512], out[512];
	struct wg_aead *a;
	size_t n, ptlen = strlen(a5_pt);

	(void)state;
	unhex(a5_key, key, sizeof(key));
	unhex(a5_ad, ad, sizeof(ad));
	n = unhex(a5_ct, ct, sizeof(ct));
	assert_int_equal(n, ptlen + 16);
	assert_int_equal(wg_aead_new(&a), 0);
	assert_int_equal(wg_aead_open(a, key, A5_COUNTER, ad, sizeof(ad), ct, n, out), 0);
	assert_memory_equal(out, a5_pt, ptlen);
	/* and sealing gives the RFC's bytes back, tag included */
	assert_int_equal(wg_aead_seal(a, key, A5_COUNTER, ad, sizeof(ad), (const uint8_t *)a5_pt,
				      ptlen, out),
			 0);
	assert_memory_equal(out, ct, n);
	/* in place */
	memcpy(out, ct, n);
	assert_int_equal(wg_aead_open(a, key, A5_COUNTER, ad, sizeof(ad), out, n, out), 0);
	assert_memory_equal(out, a5_pt, ptlen);
	/* the counter is the nonce's last 8 bytes little-endian: any other fails */
	assert_int_equal(wg_aead_open(a, key, A5_COUNTER + 1, ad, sizeof(ad), ct, n, out),
			 -EBADMSG);
	assert_int_equal(wg_aead_open(a, key, 0x0102030405060708ULL, ad, sizeof(ad), ct, n, out),
			 -EBADMSG);
	wg_aead_free(a);
}

static void test_aead_vector(void **state)
{
	uint8_t key[32], out[64];
	struct wg_aead *a;

	(void)state;
	seq(key, sizeof(key), 0x80);
	assert_int_equal(wg_aead_new(&a), 0);
	assert_int_equal(wg_aead_seal(a, key, 0x0102030405060708ULL, "ad", 2,
				      (const uint8_t *)"WireGuard", 9, out),
			 0);
	assert_hex(out, 25, "a3d89cde17af3aaf479b3495179a6409f7af213166e960fd28");
	wg_aead_free(a);
}

/* One context across keys, directions and counters, as a data path uses it. */
static void test_aead_context_reuse(void **state)
{
	uint8_t k1[32], k2[32], pt[1420], c1[1436], c2[1436], c1b[1436], out[1436];
	struct wg_aead *a, *fresh;

	(void)state;
	seq(k1, 32, 1);
	seq(k2, 32, 2);
	seq(pt, sizeof(pt), 7);
	assert_int_equal(wg_aead_new(&a), 0);
	assert_int_equal(wg_aead_new(&fresh), 0);
	assert_int_equal(wg_aead_seal(a, k1, 5, NULL, 0, pt, sizeof(pt), c1), 0);
	assert_int_equal(wg_aead_seal(a, k2, 5, NULL, 0, pt, sizeof(pt), c2), 0);
	assert_memory_not_equal(c1, c2, sizeof(c1));
	/* back to k1: the cached key must really be replaced and restored */
	assert_int_equal(wg_aead_seal(a, k1, 5, NULL, 0, pt, sizeof(pt), c1b), 0);
	assert_memory_equal(c1, c1b, sizeof(c1));
	assert_int_equal(wg_aead_seal(fresh, k1, 5, NULL, 0, pt, sizeof(pt), c1b), 0);
	assert_memory_equal(c1, c1b, sizeof(c1));
	/* open after seal on the same context, then seal again */
	assert_int_equal(wg_aead_open(a, k2, 5, NULL, 0, c2, sizeof(c2), out), 0);
	assert_memory_equal(out, pt, sizeof(pt));
	assert_int_equal(wg_aead_open(a, k1, 5, NULL, 0, c2, sizeof(c2), out), -EBADMSG);
	assert_int_equal(wg_aead_open(a, k1, 5, NULL, 0, c1, sizeof(c1), out), 0);
	assert_memory_equal(out, pt, sizeof(pt));
	assert_int_equal(wg_aead_seal(a, k1, 6, NULL, 0, pt, sizeof(pt), c1b), 0);
	assert_memory_not_equal(c1, c1b, sizeof(c1)); /* another counter */
	/* a key changed in place in the caller's buffer is noticed */
	memcpy(out, k1, 32);
	assert_int_equal(wg_aead_seal(a, out, 5, NULL, 0, pt, 16, c1b), 0);
	out[0] ^= 1;
	assert_int_equal(wg_aead_seal(a, out, 5, NULL, 0, pt, 16, c2), 0);
	assert_memory_not_equal(c1b, c2, 32);
	wg_aead_free(fresh);
	wg_aead_free(a);
	wg_aead_free(NULL);
}

static void test_aead_tamper(void **state)
{
	uint8_t key[32], pt[100], ct[116], bad[116], out[116];
	struct wg_aead *a;

	(void)state;
	seq(key, 32, 9);
	seq(pt, sizeof(pt), 3);
	assert_int_equal(wg_aead_new(&a), 0);
	assert_int_equal(wg_aead_seal(a, key, 77, "hdr", 3, pt, sizeof(pt), ct), 0);
	for (size_t i = 0; i < sizeof(ct); i++) {
		memcpy(bad, ct, sizeof(ct));
		bad[i] ^= 0x20;
		assert_int_equal(wg_aead_open(a, key, 77, "hdr", 3, bad, sizeof(bad), out),
				 -EBADMSG);
	}
	assert_int_equal(wg_aead_open(a, key, 77, "hdR", 3, ct, sizeof(ct), out), -EBADMSG);
	assert_int_equal(wg_aead_open(a, key, 77, NULL, 0, ct, sizeof(ct), out), -EBADMSG);
	assert_int_equal(wg_aead_open(a, key, 77, "hdr", 3, ct, 15, out), -EBADMSG);
	assert_int_equal(wg_aead_open(a, key, 77, "hdr", 3, ct, sizeof(ct), out), 0);
	assert_memory_equal(out, pt, sizeof(pt));
	/* empty plaintext: a keepalive, and the handshake's {} */
	assert_int_equal(wg_aead_seal(a, key, 0, NULL, 0, NULL, 0, ct), 0);
	assert_int_equal(wg_aead_open(a, key, 0, NULL, 0, ct, 16, out), 0);
	ct[3] ^= 1;
	assert_int_equal(wg_aead_open(a, key, 0, NULL, 0, ct, 16, out), -EBADMSG);
	wg_aead_free(a);
}

/* draft-irtf-cfrg-xchacha-03 Appendix A.3.1. */
static void test_xaead(void **state)
{
	static const char pt[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
				 "only one tip for the future, sunscreen would be it.";
	uint8_t key[32], nonce[24], ad[12], out[200], back[200];
	size_t n = strlen(pt);

	(void)state;
	seq(key, 32, 0x80);
	unhex("404142434445464748494a4b4c4d4e4f5051525354555657", nonce, sizeof(nonce));
	unhex("50515253c0c1c2c3c4c5c6c7", ad, sizeof(ad));
	assert_int_equal(wg_xaead_seal(key, nonce, ad, sizeof(ad), (const uint8_t *)pt, n, out), 0);
	assert_hex(out, n + 16,
		   "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4a"
		   "a6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b9"
		   "82c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
		   "c0875924c1c7987947deafd8780acf49");
	assert_int_equal(wg_xaead_open(key, nonce, ad, sizeof(ad), out, n + 16, back), 0);
	assert_memory_equal(back, pt, n);
	out[n + 15] ^= 1;
	assert_int_equal(wg_xaead_open(key, nonce, ad, sizeof(ad), out, n + 16, back), -EBADMSG);
	out[n + 15] ^= 1;
	nonce[23] ^= 1;
	assert_int_equal(wg_xaead_open(key, nonce, ad, sizeof(ad), out, n + 16, back), -EBADMSG);
	assert_int_equal(wg_xaead_open(key, nonce, ad, sizeof(ad), out, 15, back), -EBADMSG);
}

static void test_equal_wipe(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	seq(a, 32, 0);
	seq(b, 32, 0);
	assert_true(wg_equal(a, b, 32));
	assert_true(wg_equal(a, b, 0));
	b[31] ^= 0x80;
	assert_false(wg_equal(a, b, 32));
	assert_true(wg_equal(a, b, 31));
	b[31] ^= 0x80;
	b[0] ^= 1;
	assert_false(wg_equal(a, b, 32));
	wg_wipe(a, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_memory_equal(a, b, 32);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Not a test: with WG_CRYPTO_BENCH=N in the environment, N seals and N opens
 * of 1420-byte packets (in place, 16-byte header as ad, one key), and the
 * rate printed. Compare with `openssl speed -evp chacha20-poly1305 -bytes 1420`.
 */
static void test_bench(void **state)
{
	const char *env = getenv("WG_CRYPTO_BENCH");
	long n = env ? atol(env) : 0;
	uint8_t key[32], hdr[16] = {4}, buf[1420 + 16];
	struct wg_aead *a;
	double t0, t1, t2;

	(void)state;
	if (n <= 0)
		skip();
	seq(key, 32, 0);
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(wg_aead_new(&a), 0);
	t0 = now_s();
	for (long i = 0; i < n; i++)
		assert_int_equal(wg_aead_seal(a, key, (uint64_t)i, hdr, 16, buf, 1420, buf), 0);
	t1 = now_s();
	/* open what one seal made, n times: the same work as opening n packets */
	assert_int_equal(wg_aead_seal(a, key, 1, hdr, 16, buf, 1420, buf), 0);
	t1 = now_s();
	for (long i = 0; i < n; i++) {
		uint8_t tmp[1436];

		assert_int_equal(wg_aead_open(a, key, 1, hdr, 16, buf, sizeof(buf), tmp), 0);
	}
	t2 = now_s();
	printf("# seal: %.0f pkt/s, %.1f MB/s; open: %.0f pkt/s, %.1f MB/s (1420 bytes)\n",
	       (double)n / (t1 - t0), (double)n * 1420 / (t1 - t0) / 1e6, (double)n / (t2 - t1),
	       (double)n * 1420 / (t2 - t1) / 1e6);
	wg_aead_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_twice),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_hmac_kdf),
		cmocka_unit_test(test_x25519),
		cmocka_unit_test(test_key_generate),
		cmocka_unit_test(test_aead_rfc8439_a5),
		cmocka_unit_test(test_aead_vector),
		cmocka_unit_test(test_aead_context_reuse),
		cmocka_unit_test(test_aead_tamper),
		cmocka_unit_test(test_xaead),
		cmocka_unit_test(test_equal_wipe),
	};
	/* The bench is no test (a skip would read as a failure in TAP): it is
	 * registered only when asked for. */
	const struct CMUnitTest bench[] = {cmocka_unit_test(test_bench)};

	if (getenv("WG_CRYPTO_BENCH"))
		return cmocka_run_group_tests(bench, setup, NULL);
	return cmocka_run_group_tests(tests, setup, NULL);
}
