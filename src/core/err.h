/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_ERR_H
#define WEFT_CORE_ERR_H

/*
 * Parsers and validators never log: they return a negative errno and, when
 * the caller passed one, fill a struct err with a message that names what was
 * wrong (the field, key or line). The caller that decides logs it once.
 */
struct err {
	char msg[256];
};

/* Format into err (if not NULL) and return code, so that callers can write
 * `return err_set(err, -EINVAL, "bad %s", what);`. */
int err_set(struct err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepend "prefix: " to an already set message (used to add context). */
int err_prefix(struct err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
