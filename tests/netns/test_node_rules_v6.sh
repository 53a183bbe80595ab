#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The node rules suite on an IPv6-only underlay: tests/netns/suite_node_rules_family.sh.
UNDERLAY=v6
. "$(dirname "$0")/suite_node_rules_family.sh"
