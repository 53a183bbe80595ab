// SPDX-License-Identifier: Apache-2.0
/*
 * The WireGuard primitives over OpenSSL 3's libcrypto and libsodium, both
 * loaded with dlopen on first use (as http/tls_lib.c loads libssl): agents on
 * other backends never map them. Every algorithm object is fetched once at
 * load; per call there are only contexts, and struct wg_aead keeps its
 * cipher context and key schedule across packets.
 *
 * The functions that return void (hashes, MACs, KDF) cannot fail once the
 * libraries are loaded, short of running out of memory; they abort then, as
 * xmalloc does. Callers load first (wg_crypto_load) and report its error.
 */
#include "wg/crypto.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include "core/err.h"
#include "core/random.h"

#if OPENSSL_VERSION_MAJOR != 3
#error "wg/crypto loads libcrypto.so.3: OpenSSL 3 headers are needed"
#endif

#define CRYPTO_SONAME "libcrypto.so.3"
#define SODIUM_SONAME "libsodium.so.23"

/* X(name): the functions used, their types taken from the real headers. */
#define CRYPTO_FUNCS(X)                                                                            \
	X(EVP_PKEY_new_raw_private_key)                                                            \
	X(EVP_PKEY_new_raw_public_key)                                                             \
	X(EVP_PKEY_get_raw_public_key)                                                             \
	X(EVP_PKEY_free)                                                                           \
	X(EVP_PKEY_CTX_new)                                                                        \
	X(EVP_PKEY_CTX_free)                                                                       \
	X(EVP_PKEY_derive_init)                                                                    \
	X(EVP_PKEY_derive_set_peer)                                                                \
	X(EVP_PKEY_derive)                                                                         \
	X(EVP_MD_fetch)                                                                            \
	X(EVP_MD_free)                                                                             \
	X(EVP_MD_CTX_new)                                                                          \
	X(EVP_MD_CTX_free)                                                                         \
	X(EVP_DigestInit_ex)                                                                       \
	X(EVP_DigestUpdate)                                                                        \
	X(EVP_DigestFinal_ex)                                                                      \
	X(EVP_MAC_fetch)                                                                           \
	X(EVP_MAC_free)                                                                            \
	X(EVP_MAC_CTX_new)                                                                         \
	X(EVP_MAC_CTX_dup)                                                                         \
	X(EVP_MAC_CTX_free)                                                                        \
	X(EVP_MAC_CTX_set_params)                                                                  \
	X(EVP_MAC_init)                                                                            \
	X(EVP_MAC_update)                                                                          \
	X(EVP_MAC_final)                                                                           \
	X(EVP_CIPHER_fetch)                                                                        \
	X(EVP_CIPHER_free)                                                                         \
	X(EVP_CIPHER_CTX_new)                                                                      \
	X(EVP_CIPHER_CTX_free)                                                                     \
	X(EVP_CIPHER_CTX_get_params)                                                               \
	X(EVP_CIPHER_CTX_set_params)                                                               \
	X(EVP_CipherInit_ex2)                                                                      \
	X(EVP_CipherUpdate)                                                                        \
	X(EVP_CipherFinal_ex)                                                                      \
	X(OSSL_PARAM_construct_size_t)                                                             \
	X(OSSL_PARAM_construct_utf8_string)                                                        \
	X(OSSL_PARAM_construct_octet_string)                                                       \
	X(OSSL_PARAM_construct_end)

#define SODIUM_FUNCS(X)                                                                            \
	X(sodium_init)                                                                             \
	X(crypto_aead_xchacha20poly1305_ietf_encrypt)                                              \
	X(crypto_aead_xchacha20poly1305_ietf_decrypt)

#define MEMBER(name) __typeof__(name) *name;
static struct {
	CRYPTO_FUNCS(MEMBER)
	SODIUM_FUNCS(MEMBER)
} L;
#undef MEMBER

/* Fetched once, shared read-only by every thread. */
static EVP_MD *md_blake2s;
static EVP_CIPHER *cipher_chacha;
static EVP_MAC_CTX *mac_template;  /* BLAKE2SMAC, size 16, no key yet */
static EVP_MAC_CTX *hmac_template; /* HMAC, digest BLAKE2S-256, no key yet */

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_rc;
static char load_msg[sizeof(((struct err *)0)->msg)];

static int resolve(void *h, const char *soname, const char *name, void *ret_fn)
{
	void *sym = dlsym(h, name);

	if (!sym) {
		snprintf(load_msg, sizeof(load_msg), "%s lacks %s", soname, name);
		return -ENOENT;
	}
	/* POSIX: a dlsym result converts to a function pointer this way. */
	memcpy(ret_fn, &sym, sizeof(sym));
	return 0;
}

static int load_algorithms(void)
{
	EVP_MAC *mac = NULL, *hmac = NULL;
	OSSL_PARAM p[2];
	size_t size = WG_MAC_LEN;
	int r = -ENOENT;

	md_blake2s = L.EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
	cipher_chacha = L.EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	mac = L.EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	hmac = L.EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!md_blake2s || !cipher_chacha || !mac || !hmac) {
		snprintf(load_msg, sizeof(load_msg),
			 "%s lacks BLAKE2S-256, ChaCha20-Poly1305, BLAKE2SMAC or HMAC",
			 CRYPTO_SONAME);
		goto out;
	}
	/* The contexts hold a reference to their EVP_MAC. */
	mac_template = L.EVP_MAC_CTX_new(mac);
	hmac_template = L.EVP_MAC_CTX_new(hmac);
	if (!mac_template || !hmac_template)
		goto fail_params;
	p[0] = L.OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size);
	p[1] = L.OSSL_PARAM_construct_end();
	if (!L.EVP_MAC_CTX_set_params(mac_template, p))
		goto fail_params;
	p[0] = L.OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"BLAKE2S-256", 0);
	if (!L.EVP_MAC_CTX_set_params(hmac_template, p))
		goto fail_params;
	r = 0;
	goto out;
fail_params:
	snprintf(load_msg, sizeof(load_msg),
		 "%s: cannot set up BLAKE2SMAC (size 16) or HMAC-BLAKE2S-256", CRYPTO_SONAME);
out:
	L.EVP_MAC_free(mac);
	L.EVP_MAC_free(hmac);
	return r;
}

static void load(void)
{
	void *hc, *hs;

	hc = dlopen(CRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!hc) {
		snprintf(load_msg, sizeof(load_msg), "WireGuard needs OpenSSL: cannot load %s: %s",
			 CRYPTO_SONAME, dlerror());
		load_rc = -ENOENT;
		return;
	}
	hs = dlopen(SODIUM_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!hs) {
		snprintf(load_msg, sizeof(load_msg),
			 "WireGuard needs libsodium: cannot load %s: %s", SODIUM_SONAME, dlerror());
		load_rc = -ENOENT;
		return;
	}
	/* The handles are never closed: the table is valid for the process's life. */
#define RESOLVE_CRYPTO(name)                                                                       \
	if ((load_rc = resolve(hc, CRYPTO_SONAME, #name, &L.name)) < 0)                            \
		return;
#define RESOLVE_SODIUM(name)                                                                       \
	if ((load_rc = resolve(hs, SODIUM_SONAME, #name, &L.name)) < 0)                            \
		return;
	CRYPTO_FUNCS(RESOLVE_CRYPTO)
	SODIUM_FUNCS(RESOLVE_SODIUM)
#undef RESOLVE_CRYPTO
#undef RESOLVE_SODIUM
	if (L.sodium_init() < 0) {
		snprintf(load_msg, sizeof(load_msg), "%s: sodium_init failed", SODIUM_SONAME);
		load_rc = -ENOENT;
		return;
	}
	load_rc = load_algorithms();
}

int wg_crypto_load(struct err *err)
{
	pthread_once(&load_once, load);
	if (load_rc < 0)
		return err_set(err, load_rc, "%s", load_msg);
	return 0;
}

/* For the functions that cannot report an error: see the top of the file. */
static void need_loaded(void)
{
	if (wg_crypto_load(NULL) < 0)
		abort();
}

int wg_random(void *buf, size_t len)
{
	return random_bytes(buf, len);
}

int wg_key_generate(uint8_t priv[WG_KEY_LEN])
{
	int r = wg_random(priv, WG_KEY_LEN);

	if (r < 0)
		return r;
	/* RFC 7748 §5 clamping, as `wg genkey` writes keys. */
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
	return 0;
}

int wg_key_public(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN])
{
	EVP_PKEY *k;
	size_t len = WG_KEY_LEN;
	int r;

	if ((r = wg_crypto_load(NULL)) < 0)
		return r;
	k = L.EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, WG_KEY_LEN);
	if (!k)
		return -ENOMEM;
	r = L.EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == WG_KEY_LEN ? 0 : -EINVAL;
	L.EVP_PKEY_free(k);
	return r;
}

int wg_dh(uint8_t out[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN], const uint8_t pub[WG_KEY_LEN])
{
	static const uint8_t zero[WG_KEY_LEN];
	EVP_PKEY *k = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = WG_KEY_LEN;
	int r;

	if ((r = wg_crypto_load(NULL)) < 0)
		return r;
	r = -ENOMEM;
	k = L.EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, WG_KEY_LEN);
	peer = L.EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, WG_KEY_LEN);
	if (!k || !peer)
		goto out;
	ctx = L.EVP_PKEY_CTX_new(k, NULL);
	if (!ctx || L.EVP_PKEY_derive_init(ctx) != 1 || L.EVP_PKEY_derive_set_peer(ctx, peer) != 1)
		goto out;
	/* OpenSSL refuses an all-zero result itself (a low-order point); the
	 * check below holds whatever the library does. */
	if (L.EVP_PKEY_derive(ctx, out, &len) != 1 || len != WG_KEY_LEN ||
	    wg_equal(out, zero, WG_KEY_LEN)) {
		wg_wipe(out, WG_KEY_LEN);
		r = -EINVAL;
		goto out;
	}
	r = 0;
out:
	L.EVP_PKEY_CTX_free(ctx);
	L.EVP_PKEY_free(peer);
	L.EVP_PKEY_free(k);
	return r;
}

void wg_hash(uint8_t out[WG_HASH_LEN], const void *a, size_t alen, const void *b, size_t blen)
{
	EVP_MD_CTX *ctx;
	unsigned len = 0;

	need_loaded();
	ctx = L.EVP_MD_CTX_new();
	if (!ctx || L.EVP_DigestInit_ex(ctx, md_blake2s, NULL) != 1 ||
	    L.EVP_DigestUpdate(ctx, a, alen) != 1 ||
	    (blen && L.EVP_DigestUpdate(ctx, b, blen) != 1) ||
	    L.EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != WG_HASH_LEN)
		abort();
	L.EVP_MD_CTX_free(ctx);
}

/* One MAC computation from a keyless template context. */
static void mac_run(EVP_MAC_CTX *tmpl, uint8_t *out, size_t outlen, const uint8_t *key,
		    size_t keylen, const void *in1, size_t len1, const void *in2, size_t len2)
{
	EVP_MAC_CTX *ctx;
	size_t len = 0;

	need_loaded();
	ctx = L.EVP_MAC_CTX_dup(tmpl);
	if (!ctx || L.EVP_MAC_init(ctx, key, keylen, NULL) != 1 ||
	    (len1 && L.EVP_MAC_update(ctx, in1, len1) != 1) ||
	    (len2 && L.EVP_MAC_update(ctx, in2, len2) != 1) ||
	    L.EVP_MAC_final(ctx, out, &len, outlen) != 1 || len != outlen)
		abort();
	L.EVP_MAC_CTX_free(ctx);
}

void wg_mac(uint8_t out[WG_MAC_LEN], const uint8_t key[WG_KEY_LEN], const void *in, size_t len)
{
	mac_run(mac_template, out, WG_MAC_LEN, key, WG_KEY_LEN, in, len, NULL, 0);
}

void wg_mac_key(uint8_t out[WG_MAC_LEN], const uint8_t *key, size_t keylen, const void *in,
		size_t len)
{
	if (keylen < 1 || keylen > WG_KEY_LEN)
		abort(); /* a caller's bug: the MAC's keys are constants of the protocol */
	mac_run(mac_template, out, WG_MAC_LEN, key, keylen, in, len, NULL, 0);
}

void wg_hmac(uint8_t out[WG_HASH_LEN], const uint8_t *key, size_t keylen, const void *in,
	     size_t len)
{
	mac_run(hmac_template, out, WG_HASH_LEN, key, keylen, in, len, NULL, 0);
}

void wg_kdf(uint8_t t1[WG_HASH_LEN], uint8_t *t2, uint8_t *t3, const uint8_t key[WG_HASH_LEN],
	    const void *in, size_t len)
{
	uint8_t t0[WG_HASH_LEN], o1[WG_HASH_LEN], o2[WG_HASH_LEN], o3[WG_HASH_LEN];
	const uint8_t one = 1, two = 2, three = 3;

	/* Outputs are written last: t1 may be key (C = KDF1(C, x)). */
	mac_run(hmac_template, t0, WG_HASH_LEN, key, WG_HASH_LEN, in, len, NULL, 0);
	mac_run(hmac_template, o1, WG_HASH_LEN, t0, WG_HASH_LEN, &one, 1, NULL, 0);
	if (t2 || t3)
		mac_run(hmac_template, o2, WG_HASH_LEN, t0, WG_HASH_LEN, o1, WG_HASH_LEN, &two, 1);
	if (t3)
		mac_run(hmac_template, o3, WG_HASH_LEN, t0, WG_HASH_LEN, o2, WG_HASH_LEN, &three,
			1);
	memcpy(t1, o1, WG_HASH_LEN);
	if (t2)
		memcpy(t2, o2, WG_HASH_LEN);
	if (t3)
		memcpy(t3, o3, WG_HASH_LEN);
	wg_wipe(t0, sizeof(t0));
	wg_wipe(o1, sizeof(o1));
	wg_wipe(o2, sizeof(o2));
	wg_wipe(o3, sizeof(o3));
}

/* ---- AEAD ---- */

struct wg_aead {
	EVP_CIPHER_CTX *ctx;
	bool has_key;
	uint8_t key[WG_KEY_LEN]; /* the one the context is keyed with */
};

int wg_aead_new(struct wg_aead **ret)
{
	struct wg_aead *a;
	int r;

	*ret = NULL;
	if ((r = wg_crypto_load(NULL)) < 0)
		return r;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->ctx = L.EVP_CIPHER_CTX_new();
	if (!a->ctx || L.EVP_CipherInit_ex2(a->ctx, cipher_chacha, NULL, NULL, 1, NULL) != 1) {
		wg_aead_free(a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}

void wg_aead_free(struct wg_aead *a)
{
	if (!a)
		return;
	if (a->ctx)
		L.EVP_CIPHER_CTX_free(a->ctx);
	wg_wipe(a, sizeof(*a));
	free(a);
}

/* Key (when it changed), nonce and direction for one message. */
static int aead_start(struct wg_aead *a, const uint8_t key[WG_KEY_LEN], uint64_t counter, int enc)
{
	uint8_t nonce[12] = {0};
	const uint8_t *k = NULL;

	/* WireGuard's nonce: 32 zero bits, then the counter little-endian. */
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
	if (!a->has_key || memcmp(a->key, key, WG_KEY_LEN) != 0)
		k = key;
	if (L.EVP_CipherInit_ex2(a->ctx, NULL, k, nonce, enc, NULL) != 1) {
		a->has_key = false;
		return -EINVAL;
	}
	if (k) {
		memcpy(a->key, key, WG_KEY_LEN);
		a->has_key = true;
	}
	return 0;
}

int wg_aead_seal(struct wg_aead *a, const uint8_t key[WG_KEY_LEN], uint64_t counter, const void *ad,
		 size_t adlen, const uint8_t *in, size_t len, uint8_t *out)
{
	OSSL_PARAM p[2];
	int n, r;

	if (len > INT_MAX - WG_TAG_LEN || adlen > INT_MAX)
		return -EMSGSIZE;
	if ((r = aead_start(a, key, counter, 1)) < 0)
		return r;
	if ((adlen && L.EVP_CipherUpdate(a->ctx, NULL, &n, ad, (int)adlen) != 1) ||
	    (len && L.EVP_CipherUpdate(a->ctx, out, &n, in, (int)len) != 1) ||
	    L.EVP_CipherFinal_ex(a->ctx, out + len, &n) != 1)
		return -EINVAL;
	p[0] = L.OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out + len,
						   WG_TAG_LEN);
	p[1] = L.OSSL_PARAM_construct_end();
	if (L.EVP_CIPHER_CTX_get_params(a->ctx, p) != 1)
		return -EINVAL;
	return 0;
}

int wg_aead_open(struct wg_aead *a, const uint8_t key[WG_KEY_LEN], uint64_t counter, const void *ad,
		 size_t adlen, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t tag[WG_TAG_LEN];
	OSSL_PARAM p[2];
	size_t plen;
	int n, r;

	if (len < WG_TAG_LEN)
		return -EBADMSG;
	if (len > INT_MAX || adlen > INT_MAX)
		return -EMSGSIZE;
	plen = len - WG_TAG_LEN;
	/* A copy: with out == in, decrypting must not be able to touch it. */
	memcpy(tag, in + plen, WG_TAG_LEN);
	if ((r = aead_start(a, key, counter, 0)) < 0)
		return r;
	p[0] = L.OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, WG_TAG_LEN);
	p[1] = L.OSSL_PARAM_construct_end();
	if (L.EVP_CIPHER_CTX_set_params(a->ctx, p) != 1)
		return -EINVAL;
	if ((adlen && L.EVP_CipherUpdate(a->ctx, NULL, &n, ad, (int)adlen) != 1) ||
	    (plen && L.EVP_CipherUpdate(a->ctx, out, &n, in, (int)plen) != 1))
		return -EINVAL;
	if (L.EVP_CipherFinal_ex(a->ctx, out + plen, &n) != 1)
		return -EBADMSG;
	return 0;
}

int wg_xaead_seal(const uint8_t key[WG_KEY_LEN], const uint8_t nonce[WG_XNONCE_LEN], const void *ad,
		  size_t adlen, const uint8_t *in, size_t len, uint8_t *out)
{
	int r;

	if ((r = wg_crypto_load(NULL)) < 0)
		return r;
	if (L.crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, in, len, ad, adlen, NULL, nonce,
							 key) != 0)
		return -EINVAL;
	return 0;
}

int wg_xaead_open(const uint8_t key[WG_KEY_LEN], const uint8_t nonce[WG_XNONCE_LEN], const void *ad,
		  size_t adlen, const uint8_t *in, size_t len, uint8_t *out)
{
	int r;

	if ((r = wg_crypto_load(NULL)) < 0)
		return r;
	if (len < WG_TAG_LEN)
		return -EBADMSG;
	if (L.crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, in, len, ad, adlen, nonce,
							 key) != 0)
		return -EBADMSG;
	return 0;
}

bool wg_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	/* No early exit: the time does not depend on where they differ. */
	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

void wg_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}
