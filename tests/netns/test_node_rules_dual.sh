#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The node rules suite on a dual-stack underlay: tests/netns/suite_node_rules_family.sh.
UNDERLAY=dual
. "$(dirname "$0")/suite_node_rules_family.sh"
