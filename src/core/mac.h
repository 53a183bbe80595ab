/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_MAC_H
#define WEFT_CORE_MAC_H

/*
 * Ethernet (VTEP) MAC addresses: the one parser and the one validity rule
 * for every MAC that comes from outside (a peer's VtepMAC in etcd or a Node
 * annotation). flannel writes them as Go's net.HardwareAddr does:
 * "xx:xx:xx:xx:xx:xx", lowercase.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAC_LEN 6
#define MAC_STRLEN 18 /* "xx:xx:xx:xx:xx:xx" and the NUL */

/* A station address: unicast (I/G bit clear) and not all zero. Anything
 * else as a VTEP's MAC would make a multicast neighbour, or the all-zero
 * FDB entry that is the VXLAN device's default destination. */
bool mac_valid(const uint8_t mac[MAC_LEN]);

/* Exactly len bytes "xx:xx:xx:xx:xx:xx" (hex digits of either case, two per
 * octet; nothing before or after). 0; -EINVAL when not of that form;
 * -EADDRNOTAVAIL when of that form but not mac_valid(). ret is written only
 * on 0. */
int mac_parse(const char *s, size_t len, uint8_t ret[MAC_LEN]);

/* Lowercase colon form; returns buf (MAC_STRLEN bytes). */
const char *mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STRLEN]);

#endif
