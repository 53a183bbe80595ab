// SPDX-License-Identifier: Apache-2.0
#include "result.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "gojson.h"
#include "version.h"

int cni_fail(struct cni_error *e, unsigned code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -EINVAL;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void cni_set_details(struct cni_error *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(e->details, sizeof(e->details), fmt, ap);
	va_end(ap);
}

int cni_fail_raw(struct cni_error *e, unsigned code, const char *raw, size_t len)
{
	if (!e)
		return -EINVAL;
	free(e->raw);
	e->raw = xmalloc(len + 1);
	memcpy(e->raw, raw, len);
	e->raw[len] = '\0';
	e->raw_len = len;
	e->code = code;
	return -EINVAL;
}

void cni_error_free(struct cni_error *e)
{
	free(e->raw);
	e->raw = NULL;
	e->raw_len = 0;
}

void cni_error_print(FILE *out, const struct cni_error *e, const char *cni_version)
{
	struct buf b;
	char code[16];

	if (e->raw) {
		fwrite(e->raw, 1, e->raw_len, out);
		return;
	}
	buf_init(&b, 64 * 1024);
	buf_append(&b, "{\"cniVersion\":", 14);
	gojson_encode_string(&b, cni_version, strlen(cni_version));
	snprintf(code, sizeof(code), ",\"code\":%u", e->code);
	buf_append(&b, code, strlen(code));
	buf_append(&b, ",\"msg\":", 7);
	gojson_encode_string(&b, e->msg, strlen(e->msg));
	if (e->details[0]) {
		buf_append(&b, ",\"details\":", 11);
		gojson_encode_string(&b, e->details, strlen(e->details));
	}
	buf_append(&b, "}\n", 2);
	fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}

void cni_version_print(FILE *out)
{
	fprintf(out, "{\"cniVersion\":\"%s\",\"supportedVersions\":[", CNI_VERSION_LATEST);
	for (const char *const *s = cni_supported_versions; *s; s++)
		fprintf(out, "%s\"%s\"", s == cni_supported_versions ? "" : ",", *s);
	fprintf(out, "]}\n");
}

void cni_quote(char *dst, size_t size, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t pos = 0;

	dst[pos++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[5] = {'\\', 0, 0, 0, 0};
		size_t n = 2;

		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			if (c >= 0x20 && c != 0x7f) {
				esc[0] = (char)c;
				n = 1;
			} else {
				esc[1] = 'x';
				esc[2] = hex[c >> 4];
				esc[3] = hex[c & 0xf];
				n = 4;
			}
		}
		if (pos + n + 5 > size) {
			memcpy(dst + pos, "...", 3);
			pos += 3;
			break;
		}
		memcpy(dst + pos, esc, n);
		pos += n;
	}
	dst[pos++] = '"';
	dst[pos] = '\0';
}
