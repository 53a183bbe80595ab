// SPDX-License-Identifier: Apache-2.0
/* RE2 to POSIX rewriting of --iface-regex: never crashes or overruns its
 * buffer, every refusal carries a reason, and what it returns is a string
 * regcomp can be given (compiling may still fail: RE2 and POSIX disagree on
 * what is malformed, and regcomp's error is reported then). */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/re2posix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err err = { "" };
	char *in, *pat;
	int cflags;
	regex_t re;

	if (size > 256)
		return 0; /* flags are short; glibc's regcomp is slow on long inputs */
	in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	pat = re2_to_posix(in, &cflags, &err);
	if (!pat) {
		if (!err.msg[0])
			abort();
	} else {
		if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB | cflags) == 0) {
			regexec(&re, "eth0", 0, NULL, 0);
			regfree(&re);
		}
		free(pat);
	}
	free(in);
	return 0;
}
