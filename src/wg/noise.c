// SPDX-License-Identifier: Apache-2.0
/*
 * WireGuard's handshake, Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s, as the
 * whitepaper's §5.4.2-§5.4.5 write it (the names below are its own):
 *
 *   initiator -> responder: e, es, s, ss, {t}
 *   responder -> initiator: e, ee, se, psk, {}
 *
 * A message is first computed on local copies of the chaining key and hash
 * and only then, once everything verified, stored in the peer: a forged or
 * replayed message leaves the handshake in progress as it was.
 */
#include "wg/noise.h"

#include <errno.h>
#include <string.h>

#include "wg/crypto.h"

static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
static const char label_mac1[] = "mac1----";
static const char label_cookie[] = "cookie--";

/* Message offsets (noise.h has the layouts). */
#define INIT_SENDER 4
#define INIT_EPH 8
#define INIT_STATIC 40
#define INIT_STATIC_LEN (WG_KEY_LEN + WG_TAG_LEN)
#define INIT_TS 88
#define INIT_TS_LEN (WG_TIMESTAMP_LEN + WG_TAG_LEN)
#define RESP_SENDER 4
#define RESP_RECEIVER 8
#define RESP_EPH 12
#define RESP_EMPTY 44

/* The handshake's working state: one message's worth, wiped after use. */
struct hs {
	uint8_t chain[WG_HASH_LEN], hash[WG_HASH_LEN];
	uint8_t key[WG_KEY_LEN], dh[WG_KEY_LEN];
	uint8_t eph_pub[WG_KEY_LEN];
};

/* C = HASH(CONSTRUCTION), H = HASH(HASH(C || IDENTIFIER) || Spub_responder). */
static void hs_start(struct hs *h, const uint8_t responder_pub[WG_KEY_LEN])
{
	wg_hash(h->chain, construction, strlen(construction), NULL, 0);
	wg_hash(h->hash, h->chain, WG_HASH_LEN, identifier, strlen(identifier));
	wg_hash(h->hash, h->hash, WG_HASH_LEN, responder_pub, WG_KEY_LEN);
}

static void mix_hash(struct hs *h, const void *data, size_t len)
{
	wg_hash(h->hash, h->hash, WG_HASH_LEN, data, len);
}

/* C = KDF1(C, data). */
static void mix_chain(struct hs *h, const void *data, size_t len)
{
	wg_kdf(h->chain, NULL, NULL, h->chain, data, len);
}

/* (C, k) = KDF2(C, DH(priv, pub)). */
static int mix_dh_key(struct hs *h, const uint8_t priv[WG_KEY_LEN], const uint8_t pub[WG_KEY_LEN])
{
	int r = wg_dh(h->dh, priv, pub);

	if (r < 0)
		return r;
	wg_kdf(h->chain, h->key, NULL, h->chain, h->dh, WG_KEY_LEN);
	return 0;
}

/* out = AEAD(k, 0, in, H); H = HASH(H || out). */
static int seal_hash(struct hs *h, struct wg_aead *a, const uint8_t *in, size_t len, uint8_t *out)
{
	int r = wg_aead_seal(a, h->key, 0, h->hash, WG_HASH_LEN, in, len, out);

	if (r < 0)
		return r;
	mix_hash(h, out, len + WG_TAG_LEN);
	return 0;
}

/* out = AEAD-open(k, 0, in, H); H = HASH(H || in). */
static int open_hash(struct hs *h, struct wg_aead *a, const uint8_t *in, size_t len, uint8_t *out)
{
	if (wg_aead_open(a, h->key, 0, h->hash, WG_HASH_LEN, in, len, out) < 0)
		return -EINVAL;
	mix_hash(h, in, len);
	return 0;
}

static bool is_zero(const uint8_t *p, size_t len)
{
	static const uint8_t zero[WG_KEY_LEN];

	return wg_equal(p, zero, len);
}

static bool header_is(const uint8_t *msg, uint8_t type)
{
	return msg[0] == type && msg[1] == 0 && msg[2] == 0 && msg[3] == 0;
}

int wg_static_init(struct wg_static *s, const uint8_t *priv)
{
	int r;

	wg_wipe(s, sizeof(*s));
	/* An all-zero key is "no key", as `wg set ... private-key` with zeros. */
	if (!priv || is_zero(priv, WG_KEY_LEN))
		return 0;
	memcpy(s->priv, priv, WG_KEY_LEN);
	if ((r = wg_key_public(s->pub, s->priv)) < 0) {
		wg_wipe(s, sizeof(*s));
		return r;
	}
	wg_hash(s->mac1_key, label_mac1, strlen(label_mac1), s->pub, WG_KEY_LEN);
	wg_hash(s->cookie_key, label_cookie, strlen(label_cookie), s->pub, WG_KEY_LEN);
	s->has_key = true;
	return 0;
}

void wg_noise_peer_clear(struct wg_noise_peer *p)
{
	p->state = WG_HS_NONE;
	wg_wipe(p->hash, sizeof(p->hash));
	wg_wipe(p->chain, sizeof(p->chain));
	wg_wipe(p->eph_priv, sizeof(p->eph_priv));
	wg_wipe(p->remote_eph, sizeof(p->remote_eph));
}

void wg_noise_peer_init(struct wg_noise_peer *p, const struct wg_static *s,
			const uint8_t pub[WG_KEY_LEN], const uint8_t *psk)
{
	struct wg_noise_peer old = *p;
	bool same_peer = !memcmp(old.pub, pub, WG_KEY_LEN);

	wg_wipe(p, sizeof(*p));
	memcpy(p->pub, pub, WG_KEY_LEN);
	if (psk)
		memcpy(p->psk, psk, WG_KEY_LEN);
	p->ss_ok = s->has_key && wg_dh(p->ss, s->priv, pub) == 0;
	wg_hash(p->mac1_key, label_mac1, strlen(label_mac1), pub, WG_KEY_LEN);
	wg_hash(p->cookie_key, label_cookie, strlen(label_cookie), pub, WG_KEY_LEN);
	memcpy(p->latest_timestamp, old.latest_timestamp, WG_TIMESTAMP_LEN);
	/* A cookie is the same peer's: still good for mac2 after a psk change. */
	if (same_peer) {
		memcpy(p->cookie, old.cookie, WG_MAC_LEN);
		p->cookie_ms = old.cookie_ms;
	}
	wg_wipe(&old, sizeof(old));
}

void wg_tai64n(uint8_t out[WG_TIMESTAMP_LEN], int64_t sec, long nsec)
{
	/* TAI64 label: 2^62 plus TAI seconds, which the kernel and wireguard-go
	 * take as Unix time + 10. The nanoseconds are rounded down to 2^24 ns
	 * (~17 ms), as both do, so that the clock's fine bits do not leak. */
	uint64_t s = 0x400000000000000aULL + (uint64_t)sec;
	uint32_t ns = (uint32_t)nsec & ~((1U << 24) - 1);

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(s >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}

int wg_noise_init_create_eph(const struct wg_static *s, struct wg_noise_peer *p,
			     uint32_t local_index, const uint8_t timestamp[WG_TIMESTAMP_LEN],
			     int64_t now_ms, const uint8_t eph_priv[WG_KEY_LEN],
			     uint8_t msg[WG_INIT_LEN])
{
	struct wg_aead *a = NULL;
	struct hs h;
	int r;

	if (!s->has_key)
		return -ENOKEY;
	if (!p->ss_ok)
		return -EINVAL;
	if ((r = wg_aead_new(&a)) < 0)
		return r;
	memset(msg, 0, WG_INIT_LEN);
	msg[0] = WG_MSG_INIT;
	wg_put_le32(msg + INIT_SENDER, local_index);

	hs_start(&h, p->pub);
	/* e */
	if ((r = wg_key_public(h.eph_pub, eph_priv)) < 0)
		goto out;
	memcpy(msg + INIT_EPH, h.eph_pub, WG_KEY_LEN);
	mix_chain(&h, h.eph_pub, WG_KEY_LEN);
	mix_hash(&h, h.eph_pub, WG_KEY_LEN);
	/* es, then s */
	if ((r = mix_dh_key(&h, eph_priv, p->pub)) < 0 ||
	    (r = seal_hash(&h, a, s->pub, WG_KEY_LEN, msg + INIT_STATIC)) < 0)
		goto out;
	/* ss (precomputed), then {t} */
	wg_kdf(h.chain, h.key, NULL, h.chain, p->ss, WG_KEY_LEN);
	if ((r = seal_hash(&h, a, timestamp, WG_TIMESTAMP_LEN, msg + INIT_TS)) < 0)
		goto out;
	wg_macs_write(p, msg, WG_INIT_LEN, now_ms);

	memcpy(p->chain, h.chain, WG_HASH_LEN);
	memcpy(p->hash, h.hash, WG_HASH_LEN);
	memcpy(p->eph_priv, eph_priv, WG_KEY_LEN);
	p->local_index = local_index;
	p->state = WG_HS_INIT_SENT;
out:
	if (r < 0)
		memset(msg, 0, WG_INIT_LEN);
	wg_wipe(&h, sizeof(h));
	wg_aead_free(a);
	return r;
}

int wg_noise_init_create(const struct wg_static *s, struct wg_noise_peer *p, uint32_t local_index,
			 const uint8_t timestamp[WG_TIMESTAMP_LEN], int64_t now_ms,
			 uint8_t msg[WG_INIT_LEN])
{
	uint8_t eph[WG_KEY_LEN];
	int r = wg_key_generate(eph);

	if (r == 0)
		r = wg_noise_init_create_eph(s, p, local_index, timestamp, now_ms, eph, msg);
	wg_wipe(eph, sizeof(eph));
	return r;
}

int wg_noise_init_consume(const struct wg_static *s, const uint8_t msg[WG_INIT_LEN],
			  wg_peer_by_key_fn *lookup, void *arg, struct wg_noise_peer **ret)
{
	uint8_t spub[WG_KEY_LEN], ts[WG_TIMESTAMP_LEN];
	const uint8_t *e = msg + INIT_EPH;
	struct wg_noise_peer *p;
	struct wg_aead *a = NULL;
	struct hs h;
	int r;

	*ret = NULL;
	if (!s->has_key)
		return -ENOKEY;
	if (!header_is(msg, WG_MSG_INIT))
		return -EINVAL;
	if ((r = wg_aead_new(&a)) < 0)
		return r;

	hs_start(&h, s->pub);
	/* e */
	mix_chain(&h, e, WG_KEY_LEN);
	mix_hash(&h, e, WG_KEY_LEN);
	/* es, then s */
	r = -EINVAL;
	if (mix_dh_key(&h, s->priv, e) < 0 ||
	    open_hash(&h, a, msg + INIT_STATIC, INIT_STATIC_LEN, spub) < 0)
		goto out;
	p = lookup(arg, spub);
	if (!p) {
		r = -ENOENT;
		goto out;
	}
	if (!p->ss_ok)
		goto out;
	/* ss, then {t} */
	wg_kdf(h.chain, h.key, NULL, h.chain, p->ss, WG_KEY_LEN);
	if (open_hash(&h, a, msg + INIT_TS, INIT_TS_LEN, ts) < 0)
		goto out;
	/* Big-endian seconds then nanoseconds: byte order is time order. */
	if (memcmp(ts, p->latest_timestamp, WG_TIMESTAMP_LEN) <= 0) {
		r = -ESTALE;
		goto out;
	}

	memcpy(p->latest_timestamp, ts, WG_TIMESTAMP_LEN);
	memcpy(p->chain, h.chain, WG_HASH_LEN);
	memcpy(p->hash, h.hash, WG_HASH_LEN);
	memcpy(p->remote_eph, e, WG_KEY_LEN);
	wg_wipe(p->eph_priv, WG_KEY_LEN);
	p->remote_index = wg_get_le32(msg + INIT_SENDER);
	p->state = WG_HS_INIT_CONSUMED;
	*ret = p;
	r = 0;
out:
	wg_wipe(&h, sizeof(h));
	wg_wipe(spub, sizeof(spub));
	wg_aead_free(a);
	return r;
}

int wg_noise_resp_create_eph(const struct wg_static *s, struct wg_noise_peer *p,
			     uint32_t local_index, int64_t now_ms,
			     const uint8_t eph_priv[WG_KEY_LEN], uint8_t msg[WG_RESP_LEN])
{
	struct wg_aead *a = NULL;
	struct hs h;
	int r;

	if (!s->has_key)
		return -ENOKEY;
	if (p->state != WG_HS_INIT_CONSUMED)
		return -EINVAL;
	if ((r = wg_aead_new(&a)) < 0)
		return r;
	memset(msg, 0, WG_RESP_LEN);
	msg[0] = WG_MSG_RESP;
	wg_put_le32(msg + RESP_SENDER, local_index);
	wg_put_le32(msg + RESP_RECEIVER, p->remote_index);

	memcpy(h.chain, p->chain, WG_HASH_LEN);
	memcpy(h.hash, p->hash, WG_HASH_LEN);
	/* e */
	if ((r = wg_key_public(h.eph_pub, eph_priv)) < 0)
		goto out;
	memcpy(msg + RESP_EPH, h.eph_pub, WG_KEY_LEN);
	mix_chain(&h, h.eph_pub, WG_KEY_LEN);
	mix_hash(&h, h.eph_pub, WG_KEY_LEN);
	/* ee, se */
	if ((r = wg_dh(h.dh, eph_priv, p->remote_eph)) < 0)
		goto out;
	mix_chain(&h, h.dh, WG_KEY_LEN);
	if ((r = wg_dh(h.dh, eph_priv, p->pub)) < 0)
		goto out;
	mix_chain(&h, h.dh, WG_KEY_LEN);
	/* psk: (C, tau, k) = KDF3(C, Q); H = HASH(H || tau); tau goes in dh */
	wg_kdf(h.chain, h.dh, h.key, h.chain, p->psk, WG_KEY_LEN);
	mix_hash(&h, h.dh, WG_HASH_LEN);
	/* {} */
	if ((r = seal_hash(&h, a, NULL, 0, msg + RESP_EMPTY)) < 0)
		goto out;
	wg_macs_write(p, msg, WG_RESP_LEN, now_ms);

	memcpy(p->chain, h.chain, WG_HASH_LEN);
	memcpy(p->hash, h.hash, WG_HASH_LEN);
	p->local_index = local_index;
	p->state = WG_HS_RESP_SENT;
out:
	if (r < 0)
		memset(msg, 0, WG_RESP_LEN);
	wg_wipe(&h, sizeof(h));
	wg_aead_free(a);
	return r;
}

int wg_noise_resp_create(const struct wg_static *s, struct wg_noise_peer *p, uint32_t local_index,
			 int64_t now_ms, uint8_t msg[WG_RESP_LEN])
{
	uint8_t eph[WG_KEY_LEN];
	int r = wg_key_generate(eph);

	if (r == 0)
		r = wg_noise_resp_create_eph(s, p, local_index, now_ms, eph, msg);
	wg_wipe(eph, sizeof(eph));
	return r;
}

int wg_noise_resp_consume(const struct wg_static *s, const uint8_t msg[WG_RESP_LEN],
			  wg_peer_by_index_fn *lookup, void *arg, struct wg_noise_peer **ret)
{
	const uint8_t *e = msg + RESP_EPH;
	uint8_t empty[1];
	uint32_t receiver = wg_get_le32(msg + RESP_RECEIVER);
	struct wg_noise_peer *p;
	struct wg_aead *a = NULL;
	struct hs h;
	int r;

	*ret = NULL;
	if (!s->has_key)
		return -ENOKEY;
	if (!header_is(msg, WG_MSG_RESP))
		return -EINVAL;
	p = lookup(arg, receiver);
	if (!p)
		return -ENOENT;
	if (p->state != WG_HS_INIT_SENT || p->local_index != receiver)
		return -EINVAL;
	if ((r = wg_aead_new(&a)) < 0)
		return r;

	memcpy(h.chain, p->chain, WG_HASH_LEN);
	memcpy(h.hash, p->hash, WG_HASH_LEN);
	/* e */
	mix_chain(&h, e, WG_KEY_LEN);
	mix_hash(&h, e, WG_KEY_LEN);
	/* ee, se */
	r = -EINVAL;
	if (wg_dh(h.dh, p->eph_priv, e) < 0)
		goto out;
	mix_chain(&h, h.dh, WG_KEY_LEN);
	if (wg_dh(h.dh, s->priv, e) < 0)
		goto out;
	mix_chain(&h, h.dh, WG_KEY_LEN);
	/* psk */
	wg_kdf(h.chain, h.dh, h.key, h.chain, p->psk, WG_KEY_LEN);
	mix_hash(&h, h.dh, WG_HASH_LEN);
	/* {} */
	if (open_hash(&h, a, msg + RESP_EMPTY, WG_TAG_LEN, empty) < 0)
		goto out;

	memcpy(p->chain, h.chain, WG_HASH_LEN);
	memcpy(p->hash, h.hash, WG_HASH_LEN);
	memcpy(p->remote_eph, e, WG_KEY_LEN);
	wg_wipe(p->eph_priv, WG_KEY_LEN);
	p->remote_index = wg_get_le32(msg + RESP_SENDER);
	p->state = WG_HS_RESP_CONSUMED;
	*ret = p;
	r = 0;
out:
	wg_wipe(&h, sizeof(h));
	wg_aead_free(a);
	return r;
}

int wg_noise_derive(struct wg_noise_peer *p, struct wg_keypair *kp)
{
	if (p->state != WG_HS_RESP_CONSUMED && p->state != WG_HS_RESP_SENT)
		return -EINVAL;
	memset(kp, 0, sizeof(*kp));
	switch (p->state) {
	case WG_HS_RESP_CONSUMED: /* (Tsend, Trecv) = KDF2(C, empty) */
		wg_kdf(kp->send, kp->recv, NULL, p->chain, NULL, 0);
		kp->initiator = true;
		break;
	case WG_HS_RESP_SENT: /* the responder's are the other way round */
		wg_kdf(kp->recv, kp->send, NULL, p->chain, NULL, 0);
		kp->initiator = false;
		break;
	default:
		break;
	}
	kp->local_index = p->local_index;
	kp->remote_index = p->remote_index;
	wg_noise_peer_clear(p);
	return 0;
}
