/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CNI_VERSION_H
#define WEFT_CNI_VERSION_H

/*
 * CNI specification versions: the ones we accept in a configuration (the
 * full list of libcni, as upstream's plugin does) and the comparison rules
 * of libcni's version.ParseVersion ("" means 0.1.0, "1.0" means 1.0.0).
 */
#include <stdbool.h>
#include <stddef.h>

#define CNI_VERSION_LATEST "1.1.0"

extern const char *const cni_supported_versions[]; /* NULL-terminated */

bool cni_version_supported(const char *v);

/* *ret = -1, 0 or 1 as a <, =, > b. -EINVAL when either does not parse. */
int cni_version_cmp(const char *a, const char *b, int *ret);

/* The list as Go prints a []string with %q: ["0.1.0" "0.2.0" ...]. */
void cni_versions_quoted(char *buf, size_t size);

#endif
