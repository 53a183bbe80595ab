#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The host-gw suite on a dual-stack underlay: tests/netns/suite_hostgw_family.sh.
UNDERLAY=dual
. "$(dirname "$0")/suite_hostgw_family.sh"
