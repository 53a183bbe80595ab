/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_SECRET_FILE_H
#define WEFT_CORE_SECRET_FILE_H

struct err;

/*
 * A secret (a password) from a file, so that it stays out of argv: a regular
 * file; one trailing "\n" or "\r\n" is dropped (what `echo pw > file` and
 * editors leave), the rest, 1 to 4096 bytes without NUL bytes, is it. A FIFO
 * is refused without blocking. what names the option in messages. *ret is
 * malloc'd; 0 or -errno with err set.
 */
int secret_file_read(const char *what, const char *path, char **ret, struct err *err);

#endif
