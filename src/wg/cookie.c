// SPDX-License-Identifier: Apache-2.0
/*
 * WireGuard's macs and cookies (whitepaper §5.3, §5.4.4, §5.4.7):
 *
 *   mac1   = MAC(HASH(LABEL_MAC1 || Spub_receiver), msg up to mac1)
 *   mac2   = MAC(cookie, msg up to mac2), or zeros without a fresh cookie
 *   cookie = MAC(secret, source address || source port), the secret random
 *            and replaced every two minutes
 *   reply  = XAEAD(HASH(LABEL_COOKIE || Spub_cookie_sender), random nonce,
 *                  cookie, ad = the mac1 of the message answered)
 */
#include "wg/noise.h"

#include <errno.h>
#include <string.h>

#include "wg/crypto.h"

#define COOKIE_RECEIVER 4
#define COOKIE_NONCE 8
#define COOKIE_SEALED 32

static bool fresh(int64_t since_ms, int64_t now_ms)
{
	return since_ms != 0 && now_ms - since_ms < WG_COOKIE_SECRET_MS;
}

/* 0 marks "none": a time of 0 is stored as 1 (a millisecond late). */
static int64_t stamp(int64_t now_ms)
{
	return now_ms ? now_ms : 1;
}

/* Only whole handshake messages carry macs. */
static bool macs_len_ok(size_t len)
{
	return len == WG_INIT_LEN || len == WG_RESP_LEN;
}

void wg_macs_write(struct wg_noise_peer *p, uint8_t *msg, size_t len, int64_t now_ms)
{
	uint8_t *mac1, *mac2;

	if (!macs_len_ok(len))
		return; /* a caller's bug: only handshake messages carry macs */
	mac1 = msg + len - 2 * WG_MAC_LEN;
	mac2 = msg + len - WG_MAC_LEN;
	wg_mac(mac1, p->mac1_key, msg, len - 2 * WG_MAC_LEN);
	memcpy(p->last_mac1, mac1, WG_MAC_LEN);
	p->have_last_mac1 = true;
	if (fresh(p->cookie_ms, now_ms))
		wg_mac_key(mac2, p->cookie, WG_MAC_LEN, msg, len - WG_MAC_LEN);
	else
		memset(mac2, 0, WG_MAC_LEN);
}

void wg_cookie_checker_init(struct wg_cookie_checker *c, const struct wg_static *s)
{
	wg_wipe(c, sizeof(*c));
	c->s = s;
}

/* The cookie of src under the current secret, which is replaced when old. */
static int make_cookie(struct wg_cookie_checker *c, const uint8_t *src, size_t srclen,
		       int64_t now_ms, uint8_t out[WG_MAC_LEN])
{
	int r;

	if (!fresh(c->secret_ms, now_ms)) {
		if ((r = wg_random(c->secret, sizeof(c->secret))) < 0) {
			c->secret_ms = 0;
			return r;
		}
		c->secret_ms = stamp(now_ms);
	}
	wg_mac(out, c->secret, src, srclen);
	return 0;
}

enum wg_mac_verdict wg_cookie_check(struct wg_cookie_checker *c, const uint8_t *msg, size_t len,
				    const uint8_t *src, size_t srclen, bool under_load,
				    int64_t now_ms)
{
	uint8_t mac[WG_MAC_LEN], cookie[WG_MAC_LEN];
	enum wg_mac_verdict v = WG_MAC_NEED_COOKIE;

	if (!c->s || !c->s->has_key || !macs_len_ok(len))
		return WG_MAC_BAD;
	wg_mac(mac, c->s->mac1_key, msg, len - 2 * WG_MAC_LEN);
	if (!wg_equal(mac, msg + len - 2 * WG_MAC_LEN, WG_MAC_LEN))
		return WG_MAC_BAD;
	if (!under_load)
		return WG_MAC_OK;
	if (make_cookie(c, src, srclen, now_ms, cookie) < 0)
		return WG_MAC_BAD;
	wg_mac_key(mac, cookie, WG_MAC_LEN, msg, len - WG_MAC_LEN);
	if (wg_equal(mac, msg + len - WG_MAC_LEN, WG_MAC_LEN))
		v = WG_MAC_OK;
	wg_wipe(cookie, sizeof(cookie));
	return v;
}

int wg_cookie_reply_create(struct wg_cookie_checker *c, const uint8_t *msg, size_t len,
			   const uint8_t *src, size_t srclen, int64_t now_ms,
			   uint8_t out[WG_COOKIE_LEN])
{
	uint8_t cookie[WG_MAC_LEN];
	int r;

	if (!c->s || !c->s->has_key)
		return -ENOKEY;
	if (!macs_len_ok(len))
		return -EINVAL;
	memset(out, 0, WG_COOKIE_LEN);
	out[0] = WG_MSG_COOKIE;
	/* The sender index of an initiation or a response is at offset 4. */
	memcpy(out + COOKIE_RECEIVER, msg + 4, 4);
	if ((r = wg_random(out + COOKIE_NONCE, WG_XNONCE_LEN)) < 0 ||
	    (r = make_cookie(c, src, srclen, now_ms, cookie)) < 0)
		goto out;
	r = wg_xaead_seal(c->s->cookie_key, out + COOKIE_NONCE, msg + len - 2 * WG_MAC_LEN,
			  WG_MAC_LEN, cookie, WG_MAC_LEN, out + COOKIE_SEALED);
out:
	wg_wipe(cookie, sizeof(cookie));
	return r;
}

int wg_cookie_reply_consume(struct wg_noise_peer *p, const uint8_t msg[WG_COOKIE_LEN],
			    int64_t now_ms)
{
	uint8_t cookie[WG_MAC_LEN];

	if (msg[0] != WG_MSG_COOKIE || msg[1] || msg[2] || msg[3] || !p->have_last_mac1)
		return -EINVAL;
	if (wg_xaead_open(p->cookie_key, msg + COOKIE_NONCE, p->last_mac1, WG_MAC_LEN,
			  msg + COOKIE_SEALED, WG_MAC_LEN + WG_TAG_LEN, cookie) < 0)
		return -EINVAL;
	memcpy(p->cookie, cookie, WG_MAC_LEN);
	p->cookie_ms = stamp(now_ms);
	/* One reply per message sent: a second copy of it is refused. */
	p->have_last_mac1 = false;
	wg_wipe(cookie, sizeof(cookie));
	return 0;
}
