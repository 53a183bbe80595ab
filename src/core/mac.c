// SPDX-License-Identifier: Apache-2.0
#include "core/mac.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/hex.h"

bool mac_valid(const uint8_t mac[MAC_LEN])
{
	uint8_t any = 0;

	for (int i = 0; i < MAC_LEN; i++)
		any |= mac[i];
	return any && !(mac[0] & 1);
}

int mac_parse(const char *s, size_t len, uint8_t ret[MAC_LEN])
{
	uint8_t m[MAC_LEN];

	if (!s || len != MAC_STRLEN - 1)
		return -EINVAL;
	for (int i = 0; i < MAC_LEN; i++) {
		const char *p = s + 3 * i;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);

		if (hi < 0 || lo < 0 || (i < MAC_LEN - 1 && p[2] != ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!mac_valid(m))
		return -EADDRNOTAVAIL;
	memcpy(ret, m, MAC_LEN);
	return 0;
}

const char *mac_format(const uint8_t mac[MAC_LEN], char buf[MAC_STRLEN])
{
	snprintf(buf, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}
