// SPDX-License-Identifier: Apache-2.0
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *const cni_supported_versions[] = {
	"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", CNI_VERSION_LATEST, NULL,
};

bool cni_version_supported(const char *v)
{
	for (const char *const *s = cni_supported_versions; *s; s++)
		if (!strcmp(*s, v))
			return true;
	return false;
}

/* Up to three dot-separated decimal parts (strconv.Atoi each: optional sign). */
static int parse(const char *v, long ret[3])
{
	const char *p = v;

	ret[0] = 0;
	ret[1] = 1;
	ret[2] = 0;
	if (!*v)
		return 0; /* no version declared: 0.1.0 */
	ret[1] = 0;
	for (int part = 0;; part++) {
		long n = 0;
		bool neg = false, any = false;

		if (part == 3)
			return -EINVAL;
		if (*p == '+' || *p == '-')
			neg = *p++ == '-';
		for (; *p >= '0' && *p <= '9'; p++) {
			any = true;
			if (n > 100000000)
				return -EINVAL;
			n = n * 10 + (*p - '0');
		}
		if (!any || (*p && *p != '.'))
			return -EINVAL;
		ret[part] = neg ? -n : n;
		if (!*p)
			return 0;
		p++;
	}
}

int cni_version_cmp(const char *a, const char *b, int *ret)
{
	long va[3], vb[3];

	if (parse(a, va) < 0 || parse(b, vb) < 0)
		return -EINVAL;
	*ret = 0;
	for (int i = 0; i < 3 && !*ret; i++)
		*ret = va[i] < vb[i] ? -1 : va[i] > vb[i];
	return 0;
}

void cni_versions_quoted(char *buf, size_t size)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (const char *const *s = cni_supported_versions; *s && pos < size; s++) {
		int n = snprintf(buf + pos, size - pos, "%s\"%s\"", pos ? " " : "[", *s);

		if (n < 0)
			return;
		pos += (size_t)n;
	}
	if (pos < size)
		snprintf(buf + pos, size - pos, "]");
}
