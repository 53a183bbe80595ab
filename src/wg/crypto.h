/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WG_CRYPTO_H
#define WEFT_WG_CRYPTO_H

/*
 * The WireGuard primitives (whitepaper §5.4), from Debian's libraries,
 * never written here: X25519, ChaCha20-Poly1305 (IETF, 96-bit nonce: 32
 * zero bits then the 64-bit little-endian counter), BLAKE2s, keyed
 * BLAKE2s-128 (MAC), HMAC-BLAKE2s, HKDF, and XChaCha20-Poly1305 (cookies).
 *
 * OpenSSL 3's libcrypto provides all but XChaCha20-Poly1305, which comes
 * from libsodium. Both are loaded on first use (wg_crypto_load), so that
 * agents on other backends map neither.
 *
 * Functions return 0 or a negative errno. Nothing here logs.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

#define WG_KEY_LEN 32
#define WG_HASH_LEN 32
#define WG_MAC_LEN 16
#define WG_TAG_LEN 16
#define WG_XNONCE_LEN 24

/* Load libcrypto and libsodium once (thread-safe; later calls return the
 * first result). -ENOENT with err naming the library or symbol. */
int wg_crypto_load(struct err *err);

/* Cryptographically secure random bytes. */
int wg_random(void *buf, size_t len);

/* A new private key: 32 random bytes, clamped (RFC 7748). */
int wg_key_generate(uint8_t priv[WG_KEY_LEN]);
/* The public key of priv. */
int wg_key_public(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN]);
/* X25519(priv, pub); -EINVAL when the result is all zero (a low-order
 * point: the handshake must be refused). */
int wg_dh(uint8_t out[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN], const uint8_t pub[WG_KEY_LEN]);

/* HASH(a || b) with BLAKE2s-256; b may be NULL with blen 0. */
void wg_hash(uint8_t out[WG_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen);
/* MAC(key, in) = keyed BLAKE2s with a 16-byte output. */
void wg_mac(uint8_t out[WG_MAC_LEN], const uint8_t key[WG_KEY_LEN], const void *in, size_t len);
/* The same with a key of keylen bytes (1..32): mac2 is keyed with the
 * 16-byte cookie, and BLAKE2s keys of different lengths differ. */
void wg_mac_key(uint8_t out[WG_MAC_LEN], const uint8_t *key, size_t keylen, const void *in,
		size_t len);
/* HMAC-BLAKE2s(key, in). */
void wg_hmac(uint8_t out[WG_HASH_LEN], const uint8_t *key, size_t keylen, const void *in,
	     size_t len);
/* KDFn(key, in), n = 1..3: t1 = HMAC(HMAC(key, in), 0x1), t2 = HMAC(.., t1 ||
 * 0x2), t3 likewise; t2/t3 may be NULL. */
void wg_kdf(uint8_t t1[WG_HASH_LEN], uint8_t *t2, uint8_t *t3, const uint8_t key[WG_HASH_LEN],
	    const void *in, size_t len);

/*
 * AEAD(key, counter, plain, ad): ChaCha20-Poly1305. A context belongs to one
 * thread; it caches the key schedule of the last key used, so that a run of
 * packets under one key costs one setup. out may equal in (in place); out
 * receives len bytes then the 16-byte tag.
 */
struct wg_aead;
int wg_aead_new(struct wg_aead **ret);
void wg_aead_free(struct wg_aead *a);
int wg_aead_seal(struct wg_aead *a, const uint8_t key[WG_KEY_LEN], uint64_t counter,
		 const void *ad, size_t adlen, const uint8_t *in, size_t len, uint8_t *out);
/* in is len bytes including the tag; out receives len - 16 bytes.
 * -EBADMSG when the tag does not verify (out is then garbage). */
int wg_aead_open(struct wg_aead *a, const uint8_t key[WG_KEY_LEN], uint64_t counter,
		 const void *ad, size_t adlen, const uint8_t *in, size_t len, uint8_t *out);

/* XAEAD: XChaCha20-Poly1305 (libsodium), for cookie replies; same layout. */
int wg_xaead_seal(const uint8_t key[WG_KEY_LEN], const uint8_t nonce[WG_XNONCE_LEN],
		  const void *ad, size_t adlen, const uint8_t *in, size_t len, uint8_t *out);
int wg_xaead_open(const uint8_t key[WG_KEY_LEN], const uint8_t nonce[WG_XNONCE_LEN],
		  const void *ad, size_t adlen, const uint8_t *in, size_t len, uint8_t *out);

/* Constant-time comparison; true when equal. */
bool wg_equal(const void *a, const void *b, size_t len);
/* Zero memory the compiler may not elide. */
void wg_wipe(void *p, size_t len);

#endif
