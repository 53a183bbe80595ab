#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The host-gw suite on an IPv6-only underlay: tests/netns/suite_hostgw_family.sh.
UNDERLAY=v6
. "$(dirname "$0")/suite_hostgw_family.sh"
