/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_UTF8_H
#define WEFT_CORE_UTF8_H

/* UTF-8 read and written by Go's unicode/utf8 rules. */
#include <stddef.h>
#include <stdint.h>

#define UTF8_MAX 4 /* bytes in one encoded rune */

/*
 * Length (1 to 4) of the valid sequence that starts s (n bytes available),
 * with its rune in *ret_rune; 0 when there is none (n == 0, a bad lead or
 * continuation byte, an overlong form, a surrogate, a rune above U+10FFFF, a
 * sequence cut short), where utf8.DecodeRune returns RuneError.
 */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_rune);

/* Write r (at most U+10FFFF) into out; returns its length. */
size_t utf8_encode_rune(uint32_t r, unsigned char out[UTF8_MAX]);

#endif
