/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_VERSION_H
#define WEFT_CORE_VERSION_H

/* `git describe` of the build; one object carries it, so that a new commit
 * rebuilds one file, not every file that prints the version. */
extern const char weft_version[];

#endif
