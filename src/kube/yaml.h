/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_KUBE_YAML_H
#define WEFT_KUBE_YAML_H

/*
 * One YAML document (a kubeconfig) as a jansson tree, so that the caller
 * handles YAML and JSON kubeconfigs alike. libyaml reads the YAML; this
 * turns its events into JSON values.
 *
 * Plain true/false (any case) become JSON booleans; plain null, Null, NULL,
 * ~ and empty values become null; every other scalar (numbers included, and
 * every key) stays a string. Quoted, multi-line and block scalars are read as
 * YAML says.
 *
 * Refused, with the line number: anchors and aliases (a small file must not
 * expand into a huge tree), tags, several documents, keys that are
 * collections or hold a NUL byte, duplicate keys, nesting deeper than
 * YAML_MAX_DEPTH, and whatever libyaml finds malformed (its message, with
 * "tab in indentation" for the commonest one).
 */
#include <jansson.h>
#include <stddef.h>

struct err;

#define YAML_MAX_SIZE (4u << 20)
#define YAML_MAX_DEPTH 64

/* 0 and *ret (a new reference), or -EINVAL (-E2BIG above YAML_MAX_SIZE) with
 * err naming the line. text need not be NUL-terminated. An empty document
 * gives JSON null. */
int yaml_parse(const char *text, size_t len, json_t **ret, struct err *err);

#endif
