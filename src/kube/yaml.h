/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_KUBE_YAML_H
#define WEFT_KUBE_YAML_H

/*
 * A minimal YAML reader, enough for kubeconfig files as kubectl, kubeadm,
 * kind, k3s and friends write them. It turns one document into a jansson
 * tree so that the caller handles YAML and JSON kubeconfigs alike.
 *
 * Supported: block mappings and block sequences (also a sequence at the same
 * indentation as its parent key, and "- key: value" entries), plain, 'single'
 * and "double" quoted scalars (one line each; double-quoted escapes \" \\ \/
 * \b \f \n \r \t \0 \e \xXX \uXXXX), one-line flow collections ({a: b}, [a, b],
 * nested), comments, a leading "---" and a final "...". Plain true/false
 * (any case) become JSON booleans, null, ~ and empty values become null,
 * every other scalar (numbers included) stays a string.
 *
 * Refused, with the line number: tabs in indentation, block scalars (| >),
 * anchors, aliases and tags (& * !), multi-line scalars, several documents,
 * duplicate keys, complex keys ("? ").
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
