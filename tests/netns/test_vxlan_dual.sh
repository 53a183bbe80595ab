#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The vxlan suite on a dual-stack underlay: tests/netns/suite_vxlan_family.sh.
UNDERLAY=dual
. "$(dirname "$0")/suite_vxlan_family.sh"
