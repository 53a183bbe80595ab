#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vxlan with DirectRouting: hosts on the same L2 route each other's subnets via
# the public IP (no neighbour, no FDB entry); pods still reach each other.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh

HOSTS=2
cluster_up '{"Type":"vxlan","DirectRouting":true}' || { tap_ok "cluster up" false; tap_done; exit 1; }
all_pairs_ping "vxlan DirectRouting"
for n in 1 2; do check_vxlan_objects "$n" direct; done
for n in 1 2; do
	weftd_host_stop "$n"
	tap_eq "h$n: weftd exits 0 on SIGTERM" 0 "$?"
done
tap_done
