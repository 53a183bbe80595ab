/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_RE2POSIX_H
#define WEFT_CORE_RE2POSIX_H

/*
 * flannel's --iface-regex is Go regexp (RE2) syntax; weft matches with
 * glibc's POSIX extended regcomp. re2_to_posix rewrites the RE2 forms people
 * copy from flannel's docs into POSIX ones that match the same strings
 * (interface names and addresses: one line, ASCII): a leading (?i) becomes
 * REG_ICASE, \d \s \w and their negations become classes, (?:...) and named
 * groups plain groups, non-greedy quantifiers greedy ones (same matches),
 * \A \z anchors, \Q...\E and \xHH literals, \t \n \r \f \v \a controls,
 * [[:word:]] a class. A form with no POSIX equivalent is refused by name.
 */
struct err;

/* A new pattern for regcomp (caller frees) and the flags it needs
 * (REG_ICASE or 0) in *ret_cflags; NULL with err naming the form refused. */
char *re2_to_posix(const char *in, int *ret_cflags, struct err *err);

#endif
