/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_BACKEND_WG_KEY_H
#define WEFT_BACKEND_WG_KEY_H

/*
 * The node's WireGuard private key file, as upstream's wireguard backend
 * keeps it (WIREGUARD_KEY_FILE, default /run/flannel/wgkey): the padded
 * base64 of the 32-byte key, 44 characters, as `wg genkey` prints it.
 * Upstream writes it without a newline and reads it with newlines trimmed
 * from both ends; both are accepted here.
 */
#include <stdbool.h>
#include <stdint.h>

#include "wg/crypto.h"

struct err;

#define WG_KEY_FILE_DEFAULT "/run/flannel/wgkey"

/*
 * The key in path, or when there is no file, a new one written there: the
 * parent directories made (0700) when missing, the file written whole or not
 * at all (a temp file beside it, mode 0400, fsynced, then linked into place
 * only if no other process made the file meanwhile: that one's key is then
 * read and returned instead). ret_pub gets the public key; *ret_created (may
 * be NULL) says whether this call made the file. An existing file that is
 * not a regular file or does not hold exactly one key is -EINVAL; err names
 * the file and what is wrong, never its content. Loads wg/crypto.
 */
int wg_key_load_or_create(const char *path, uint8_t ret_priv[WG_KEY_LEN],
			  uint8_t ret_pub[WG_KEY_LEN], bool *ret_created, struct err *err);

/* The permission bits of path (following links), for wg_key_mode_too_wide. */
int wg_key_file_mode(const char *path, unsigned *ret_mode, struct err *err);

/* Whether mode lets anyone but the owner in, or the owner do more than read
 * and write (anything beyond 0600): the caller warns. */
bool wg_key_mode_too_wide(unsigned mode);

#endif
