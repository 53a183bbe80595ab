/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WG_NOISE_H
#define WEFT_WG_NOISE_H

/*
 * WireGuard's handshake (Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s, whitepaper
 * §5.4) and its cookie mechanism (§5.4.7, §5.3): building and consuming the
 * four message types, the macs, and the session keys a finished handshake
 * yields. Pure over caller-owned state: no I/O, no clock reads (times are
 * passed in), no locks (the caller serialises access to one peer), no logs.
 *
 * Wire formats (all integers little-endian):
 *   initiation  148 bytes: type 1, 3 zero, sender, ephemeral[32],
 *               static[32+16], timestamp[12+16], mac1[16], mac2[16]
 *   response     92 bytes: type 2, 3 zero, sender, receiver, ephemeral[32],
 *               empty[0+16], mac1[16], mac2[16]
 *   cookie       64 bytes: type 3, 3 zero, receiver, nonce[24], cookie[16+16]
 *   data       >= 32 bytes: type 4, 3 zero, receiver, counter[8], packet[n+16]
 *
 * Functions return 0 or a negative errno: -EINVAL for a malformed or
 * unauthenticated message (the caller counts a drop), -ESTALE for a replayed
 * initiation (its timestamp is not newer than the last one accepted),
 * -ENOENT when no peer matches.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/crypto.h"

#define WG_MSG_INIT 1
#define WG_MSG_RESP 2
#define WG_MSG_COOKIE 3
#define WG_MSG_DATA 4

#define WG_INIT_LEN 148
#define WG_RESP_LEN 92
#define WG_COOKIE_LEN 64
#define WG_DATA_HDR_LEN 16
#define WG_DATA_MIN_LEN (WG_DATA_HDR_LEN + WG_TAG_LEN) /* a keepalive */
#define WG_TIMESTAMP_LEN 12			       /* TAI64N */
#define WG_COOKIE_SECRET_MS 120000 /* a cookie secret, and a cookie, live 2 minutes */

/* Our own identity, derived once per private key. */
struct wg_static {
	bool has_key;
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	uint8_t mac1_key[WG_HASH_LEN];	 /* HASH(LABEL-MAC1 || our pub): checks mac1 to us */
	uint8_t cookie_key[WG_HASH_LEN]; /* HASH(LABEL-COOKIE || our pub): seals our cookies */
};

/* NULL priv: no key (every handshake then fails with -ENOKEY). */
int wg_static_init(struct wg_static *s, const uint8_t *priv);

enum wg_hs_state {
	WG_HS_NONE,
	WG_HS_INIT_SENT,     /* we are the initiator, waiting for the response */
	WG_HS_INIT_CONSUMED, /* we are the responder, about to answer */
	WG_HS_RESP_SENT,     /* responder: keys ready to derive */
	WG_HS_RESP_CONSUMED, /* initiator: keys ready to derive */
};

/* One peer as the handshake sees it. */
struct wg_noise_peer {
	/* static part: wg_noise_peer_init */
	uint8_t pub[WG_KEY_LEN];
	uint8_t psk[WG_KEY_LEN];	 /* all zero when none, as the protocol says */
	uint8_t ss[WG_KEY_LEN];		 /* DH(our priv, their pub), precomputed */
	bool ss_ok;			 /* false: low-order key, every handshake fails */
	uint8_t mac1_key[WG_HASH_LEN];	 /* HASH(LABEL-MAC1 || their pub) */
	uint8_t cookie_key[WG_HASH_LEN]; /* HASH(LABEL-COOKIE || their pub) */

	/* the handshake in progress */
	enum wg_hs_state state;
	uint8_t hash[WG_HASH_LEN], chain[WG_HASH_LEN];
	uint8_t eph_priv[WG_KEY_LEN], remote_eph[WG_KEY_LEN];
	uint32_t local_index, remote_index;
	uint8_t latest_timestamp[WG_TIMESTAMP_LEN]; /* greatest accepted from them */

	/* the cookie they gave us, for mac2 on what we send them */
	uint8_t cookie[WG_MAC_LEN];
	int64_t cookie_ms; /* when received; 0 = none */
	uint8_t last_mac1[WG_MAC_LEN]; /* of our last handshake message to them */
	bool have_last_mac1;
};

/* (Re)derive the static part from our identity and their key (psk NULL =
 * none). Resets the handshake in progress but keeps latest_timestamp, so
 * that an old initiation cannot be replayed after a change. */
void wg_noise_peer_init(struct wg_noise_peer *p, const struct wg_static *s,
			const uint8_t pub[WG_KEY_LEN], const uint8_t *psk);
/* Forget the handshake in progress (state NONE, ephemeral wiped). */
void wg_noise_peer_clear(struct wg_noise_peer *p);

/* The keys of one session. */
struct wg_keypair {
	uint8_t send[WG_KEY_LEN], recv[WG_KEY_LEN];
	uint32_t local_index;  /* what they put in "receiver" of data to us */
	uint32_t remote_index; /* what we put in "receiver" of data to them */
	bool initiator;	       /* we sent the initiation */
};

/* TAI64N of a CLOCK_REALTIME time (seconds, nanoseconds). */
void wg_tai64n(uint8_t out[WG_TIMESTAMP_LEN], int64_t sec, long nsec);

/* Initiator: build an initiation with sender local_index (mac1 and mac2
 * included, see wg_macs_write). State becomes INIT_SENT. */
int wg_noise_init_create(const struct wg_static *s, struct wg_noise_peer *p, uint32_t local_index,
			 const uint8_t timestamp[WG_TIMESTAMP_LEN], int64_t now_ms,
			 uint8_t msg[WG_INIT_LEN]);

/* For tests only (known-answer checks): wg_noise_init_create and
 * wg_noise_resp_create with the given ephemeral private key instead of a
 * fresh random one. Never for real traffic. */
int wg_noise_init_create_eph(const struct wg_static *s, struct wg_noise_peer *p,
			     uint32_t local_index, const uint8_t timestamp[WG_TIMESTAMP_LEN],
			     int64_t now_ms, const uint8_t eph_priv[WG_KEY_LEN],
			     uint8_t msg[WG_INIT_LEN]);

/* Responder: the peer whose public key is pub, or NULL. */
typedef struct wg_noise_peer *wg_peer_by_key_fn(void *arg, const uint8_t pub[WG_KEY_LEN]);
/* Responder: the peer whose handshake has local index idx, or NULL. */
typedef struct wg_noise_peer *wg_peer_by_index_fn(void *arg, uint32_t idx);

/* Responder: consume an initiation whose macs were checked already
 * (wg_cookie_check). On success *ret is the peer, its state INIT_CONSUMED,
 * its latest_timestamp advanced. -ENOENT unknown static key, -ESTALE replay,
 * -EINVAL anything else. */
int wg_noise_init_consume(const struct wg_static *s, const uint8_t msg[WG_INIT_LEN],
			  wg_peer_by_key_fn *lookup, void *arg, struct wg_noise_peer **ret);

/* Responder: answer the consumed initiation (sender local_index). State
 * becomes RESP_SENT. */
int wg_noise_resp_create(const struct wg_static *s, struct wg_noise_peer *p, uint32_t local_index,
			 int64_t now_ms, uint8_t msg[WG_RESP_LEN]);

/* For tests only: see wg_noise_init_create_eph. */
int wg_noise_resp_create_eph(const struct wg_static *s, struct wg_noise_peer *p,
			     uint32_t local_index, int64_t now_ms,
			     const uint8_t eph_priv[WG_KEY_LEN], uint8_t msg[WG_RESP_LEN]);

/* Initiator: consume a response (macs checked already); the receiver field
 * finds our peer through lookup, which must be in INIT_SENT with that local
 * index. State becomes RESP_CONSUMED. */
int wg_noise_resp_consume(const struct wg_static *s, const uint8_t msg[WG_RESP_LEN],
			  wg_peer_by_index_fn *lookup, void *arg, struct wg_noise_peer **ret);

/* From RESP_SENT or RESP_CONSUMED: the session's keys; the handshake state
 * is wiped (state NONE). -EINVAL in any other state. */
int wg_noise_derive(struct wg_noise_peer *p, struct wg_keypair *kp);

/* ---- macs and cookies ---- */

/* Write mac1 (and mac2 when we hold a cookie from them younger than
 * WG_COOKIE_SECRET_MS) into the last 32 bytes of msg (an initiation or a
 * response); remembers mac1 for a cookie reply. */
void wg_macs_write(struct wg_noise_peer *p, uint8_t *msg, size_t len, int64_t now_ms);

/* What answers handshake messages sent to us. */
struct wg_cookie_checker {
	const struct wg_static *s;
	uint8_t secret[WG_HASH_LEN]; /* random, replaced every 2 minutes */
	int64_t secret_ms;	     /* when made; 0 = none yet */
};

enum wg_mac_verdict {
	WG_MAC_BAD,	    /* mac1 wrong: drop silently */
	WG_MAC_OK,	    /* mac1 right (and mac2 when under load) */
	WG_MAC_NEED_COOKIE, /* under load and mac2 missing or wrong: send a cookie */
};

void wg_cookie_checker_init(struct wg_cookie_checker *c, const struct wg_static *s);
/* Check an initiation or response (len = its size) from src (the sender's
 * address bytes and port as they appear on the wire: 4 or 16 bytes, then 2),
 * under_load telling whether mac2 is required. */
enum wg_mac_verdict wg_cookie_check(struct wg_cookie_checker *c, const uint8_t *msg, size_t len,
				    const uint8_t *src, size_t srclen, bool under_load,
				    int64_t now_ms);
/* A cookie reply to msg (whose sender index becomes the receiver) from src. */
int wg_cookie_reply_create(struct wg_cookie_checker *c, const uint8_t *msg, size_t len,
			   const uint8_t *src, size_t srclen, int64_t now_ms,
			   uint8_t out[WG_COOKIE_LEN]);
/* A cookie reply from the peer p (found by the caller through the receiver
 * index): store the cookie for our next mac2. -EINVAL when it does not open
 * with our last mac1. */
int wg_cookie_reply_consume(struct wg_noise_peer *p, const uint8_t msg[WG_COOKIE_LEN],
			    int64_t now_ms);

/* Little-endian field access for the message headers. */
static inline uint32_t wg_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wg_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint64_t wg_get_le64(const uint8_t *p)
{
	return (uint64_t)wg_get_le32(p) | (uint64_t)wg_get_le32(p + 4) << 32;
}

static inline void wg_put_le64(uint8_t *p, uint64_t v)
{
	wg_put_le32(p, (uint32_t)v);
	wg_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
