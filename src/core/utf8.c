// SPDX-License-Identifier: Apache-2.0
#include "core/utf8.h"

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_rune)
{
	uint32_t r, min;
	size_t len;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*ret_rune = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2, r = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, r = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, r = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		r = r << 6 | (s[i] & 0x3f);
	}
	if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff))
		return 0;
	*ret_rune = r;
	return len;
}

size_t utf8_encode_rune(uint32_t r, unsigned char out[UTF8_MAX])
{
	size_t n;

	if (r < 0x80) {
		out[0] = (unsigned char)r, n = 1;
	} else if (r < 0x800) {
		out[0] = (unsigned char)(0xc0 | r >> 6), n = 2;
	} else if (r < 0x10000) {
		out[0] = (unsigned char)(0xe0 | r >> 12), n = 3;
	} else {
		out[0] = (unsigned char)(0xf0 | r >> 18), n = 4;
	}
	for (size_t i = 1; i < n; i++)
		out[i] = (unsigned char)(0x80 | ((r >> (6 * (n - 1 - i))) & 0x3f));
	return n;
}
