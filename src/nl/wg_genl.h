/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NL_WG_GENL_H
#define WEFT_NL_WG_GENL_H

/*
 * The kernel's WireGuard devices over generic netlink (the "wireguard"
 * family of linux/wireguard.h): a change (struct wg_device_config, as
 * wg_device_config_diff makes it) applied with WG_CMD_SET_DEVICE, and a
 * device's state read back with the WG_CMD_GET_DEVICE dump. Every request
 * is ACKed (nl.c); a change too big for one message goes in several, as
 * wg(8) sends it. The builders and the parser are pure, for tests and the
 * fuzzer.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct nlmsghdr;
struct wg_device_config;
struct wg_genl;

/* A generic netlink socket with the wireguard family resolved.
 * -EOPNOTSUPP (err says so) when the kernel has no wireguard. */
int wg_genl_open(struct wg_genl **ret, struct err *err);
void wg_genl_close(struct wg_genl *g);
uint16_t wg_genl_family(const struct wg_genl *g);

/* Apply c to device ifname. A change in several messages may stop half
 * way: the error then says which message failed. */
int wg_genl_set(struct wg_genl *g, const char *ifname, const struct wg_device_config *c,
		struct err *err);
/* The device's state into *ret (cleared first; on error left empty).
 * -ENODEV when there is no such wireguard device. */
int wg_genl_get(struct wg_genl *g, const char *ifname, struct wg_device_config *ret,
		struct err *err);

/* ---- builders and parsers: a message whose nlmsghdr is in place (type,
 * flags, seq), never written past size bytes from nlh ---- */

/* CTRL_CMD_GETFAMILY for "wireguard" (the message's type: GENL_ID_CTRL). */
int wg_genl_family_build(struct nlmsghdr *nlh, size_t size);
/* The family id from the controller's answer; -EBADMSG when it has none. */
int wg_genl_family_parse(const struct nlmsghdr *nlh, uint16_t *ret_id);

/* Where a change split over several messages continues: zeroed for the
 * first message. */
struct wg_genl_cursor {
	bool started;	/* the device's own attributes went out */
	size_t peer;	/* next peer */
	size_t allowed; /* next allowed IP of that peer */
	bool cont;	/* that peer's first part went out */
};

/* The next WG_CMD_SET_DEVICE message of c. 1 when c continues in another
 * message, 0 when this one ends it; -EINVAL for an ifname, family or cidr
 * that makes no sense; -EMSGSIZE when not even one item fits in size. */
int wg_genl_set_build(struct nlmsghdr *nlh, size_t size, const char *ifname,
		      const struct wg_device_config *c, struct wg_genl_cursor *cur);
/* WG_CMD_GET_DEVICE for ifname (sent with NLM_F_DUMP). */
int wg_genl_get_build(struct nlmsghdr *nlh, size_t size, const char *ifname);
/* Merge one message of the dump into c (zeroed before the first): a peer
 * continued from the previous message (the same public key again) gets its
 * allowed IPs appended. -EBADMSG with err naming the attribute. */
int wg_genl_get_parse(const struct nlmsghdr *nlh, uint16_t family, struct wg_device_config *c,
		      struct err *err);

#endif
