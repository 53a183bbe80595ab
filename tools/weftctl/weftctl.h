/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WEFTCTL_H
#define WEFT_WEFTCTL_H

/*
 * weftctl commands. Each handler gets argv starting at its own name, prints
 * its own errors ("weftctl: ...") and returns 0 or a negative errno; main
 * turns the latter into exit status 1.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int cmd_config(int argc, char **argv);
int cmd_docker_opts(int argc, char **argv);
int cmd_leases(int argc, char **argv);
int cmd_reserve(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_unreserve(int argc, char **argv);

/* Read path ('-': stdin) whole, at most max bytes; a longer input comes back
 * as max + 1 bytes so that the caller can refuse it by size. 0 or -errno;
 * *ret is the caller's to free. */
int weftctl_read_input(const char *path, size_t max, char **ret, size_t *ret_len);

/* A subnet key for people: "10.5.1.0/24", "fd00::/64" or both, comma-separated. */
struct subnet_key;
void weftctl_format_subnet(const struct subnet_key *k, char *buf, size_t len);

/* A remaining time as "23h59m", "4m10s" or "9s". */
void weftctl_format_duration(int64_t seconds, char *buf, size_t len);

/* Print s with control characters replaced by '?' (untrusted text). */
void weftctl_put_sanitized(FILE *f, const char *s);

/* True for "-h", "--help" and "help". */
bool weftctl_is_help(const char *arg);

#endif
