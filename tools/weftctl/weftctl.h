/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WEFTCTL_H
#define WEFT_WEFTCTL_H

/*
 * weftctl commands. Each handler gets argv starting at its own name, prints
 * its own errors ("weftctl: ...") and returns 0 or a negative errno; main
 * turns the latter into exit status 1.
 */

#include <stdbool.h>

int cmd_config(int argc, char **argv);

/* True for "-h", "--help" and "help". */
bool weftctl_is_help(const char *arg);

#endif
