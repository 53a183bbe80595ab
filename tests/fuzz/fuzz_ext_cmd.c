// SPDX-License-Identifier: Apache-2.0
/* The extension backend's command lines and data (backend/ext_cmd.h) on
 * arbitrary bytes: never crashes, and what it returns holds together. The
 * input is split at its first NUL: a command line, then a peer's BackendData. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/ext_cmd.h"
#include "core/buf.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const env[] = { "SUBNET=10.244.1.0/24", "PUBLIC_IP=10.0.0.1", "A=x y",
				   "NOEQ", "$=dollar", "1=one" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const uint8_t *nul = memchr(data, 0, size);
	size_t n = nul ? (size_t)(nul - data) : size, nf, a, e, total = 0, len;
	char **f, *x, *bd, *data_str;
	size_t *lens;
	struct buf in;
	struct err err = { "" };

	nf = ext_cmd_fields(s, size, &f, &lens);
	for (size_t i = 0; i < nf; i++) {
		size_t w, j;

		total += lens[i];
		if (lens[i] == 0)
			abort(); /* Fields never yields an empty field */
		/* no field starts or ends with white space */
		ext_cmd_trim_space(f[i], lens[i], &a, &e);
		if (a != 0 || e != lens[i])
			abort();
		/* expansion: no "${" survives unless a value brought it (ours have none) */
		x = ext_cmd_expand(f[i], lens[i], env, sizeof(env) / sizeof(env[0]), &len);
		if (strlen(x) > len)
			abort();
		for (j = 0, w = 0; j + 1 < len; j++)
			w += x[j] == '$' && x[j + 1] == '{';
		if (w)
			abort();
		free(x);
	}
	if (total > size || f[nf])
		abort();
	ext_cmd_strv_free(f);
	free(lens);

	ext_cmd_trim_space(s, size, &a, &e);
	if (a > e || e > size)
		abort();
	if (ext_cmd_backend_data(s, size, 1 << 20, &bd) == 0) {
		/* our BackendData read back by a peer is the trimmed output, but for
		 * invalid UTF-8 (U+FFFD); check the valid-ASCII case exactly */
		if (ext_cmd_peer_stdin(bd, 8 << 20, &in, &err) < 0)
			abort();
		if (in.len == 0 || in.data[in.len - 1] != '\n')
			abort();
		{
			bool ascii = true;

			for (size_t i = a; i < e; i++)
				ascii = ascii && (unsigned char)s[i] < 0x80;
			if (ascii && (in.len != e - a + 1 || memcmp(in.data, s + a, e - a)))
				abort();
		}
		buf_free(&in);
		free(bd);
	}
	/* after the first NUL: a BackendData as a lease holds it */
	if (nul) {
		data_str = strndup((const char *)nul + 1, size - n - 1);
		if (ext_cmd_peer_stdin(data_str, 1 << 20, &in, &err) < 0 && !err.msg[0])
			abort();
		buf_free(&in);
		free(data_str);
	}
	x = ext_cmd_log_text(s, size, 64);
	free(x);
	return 0;
}
