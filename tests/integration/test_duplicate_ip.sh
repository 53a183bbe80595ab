#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Duplicate public IP refused (issue 20, item 3), against a real etcd. flannel
# finds its old lease by public address alone, so two live nodes with one
# address would share a lease; weft writes an owner record beside its lease
# (<prefix>/weft/owners/<key>, same etcd lease) and checks it:
#   - a second node (another WEFT_NODE_ID) with a's public IP exits 1, naming
#     a's lease, its node and the fix; a's lease is untouched;
#   - the same node again (a restart) reuses its lease;
#   - a live lease without owner record (flannel, an older weft) is reused as
#     flannel does, and logged; a reservation without one quietly;
#   - weftctl leases lists the subnets only, owner records do not trip it.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/weftd.sh
. tests/lib/tap.sh

P=/coreos.com/network

etcd_start || exit 1
etcd_put $P/config '{"Network":"10.8.0.0/16","Backend":{"Type":"alloc"}}'
# Written before any daemon starts, so that none picks these subnets:
# an upstream-format lease (a flannel node, an older weft: no owner record) ...
id=$(etcdctl3 lease grant 300 | awk '{print $2}')
etcdctl3 put --lease="$id" $P/subnets/10.8.201.0-24 '{"PublicIP":"127.0.0.32","PublicIPv6":null}' >/dev/null
# ... and a reservation (no etcd lease, no owner record).
etcd_put $P/subnets/10.8.202.0-24 '{"PublicIP":"127.0.0.33","PublicIPv6":null}'

# 1. a holds a lease; its owner record names it, on the same etcd lease.
WEFT_NODE_ID=node-a weftd_start a 127.0.0.31
tap_ok "a holds a lease" weftd_wait_held a
sa=$(weftd_subnet a) ka=$(etcd_key_of "$sa") oa=$(etcd_owner_of "$sa")
host=$(hostname)
tap_eq "a's owner record" "{\"NodeID\":\"node-a\",\"Hostname\":\"$host\"}" "$(etcd_get "$oa")"
tap_eq "a's owner record is on a's etcd lease" "$(etcd_lease_id "$ka")" "$(etcd_lease_id "$oa")"
tap_eq "a's lease value is upstream's bytes" '{"PublicIP":"127.0.0.31","PublicIPv6":null}' "$(etcd_get "$ka")"
before=$(etcd_lease_id "$ka")

# 2. b: another node with a's public IP is refused.
WEFT_NODE_ID=node-b weftd_start b 127.0.0.31
wait_bg b 20
tap_eq "b (same public IP, another node) exits 1" 1 "$?"
tap_ok "b names a's lease, node and the fix" grep -qF \
	"public IP 127.0.0.31 is already used by lease $(basename "$ka") of another node (node ID node-a, host $host; this node is node-b): two nodes with one public IP would share one subnet; refusing to start. Give each node its own public address (--public-ip, --iface, --iface-regex); if that node is gone for good (re-installed with a new machine-id), let its lease expire or delete $ka and $oa" \
	"$RUN_DIR/b.log"
tap_eq "b never held a lease" 0 "$(weftd_count b ' held; wrote ')"
tap_eq "a's lease is untouched (value)" '{"PublicIP":"127.0.0.31","PublicIPv6":null}' "$(etcd_get "$ka")"
tap_eq "a's lease is untouched (etcd lease)" "$before" "$(etcd_lease_id "$ka")"
tap_eq "a's owner record is untouched" "{\"NodeID\":\"node-a\",\"Hostname\":\"$host\"}" "$(etcd_get "$oa")"
tap_ok "a still runs" bg_alive a

# 3. a restarts (same node ID, no subnet file): reuses its lease.
stop_bg a
rm -f "$RUN_DIR/a.env"
WEFT_NODE_ID=node-a weftd_start a 127.0.0.31
tap_ok "a restarted holds a lease" weftd_wait_held a 2
tap_eq "a restarted: the same subnet" "$sa" "$(weftd_subnet a)"
tap_ok "a restarted: reused, matched by public address" grep -q "reused, matched by public address" "$RUN_DIR/a.log"
tap_eq "a restarted: no ownership warning" 0 "$(weftd_count a 'no owner record')"

# 4. The upstream-format lease of c's address (written at the start).
WEFT_NODE_ID=node-c weftd_start c 127.0.0.32
tap_ok "c holds a lease" weftd_wait_held c
tap_eq "c reuses the upstream lease of its address" 10.8.201.1/24 "$(weftd_subnet c)"
tap_ok "c logs that ownership could not be verified" grep -qF \
	"lease 10.8.201.0-24 for our public address has no owner record (written by flannel or an older weft): reusing it as flannel does" \
	"$RUN_DIR/c.log"
tap_eq "c's owner record now names it" "{\"NodeID\":\"node-c\",\"Hostname\":\"$host\"}" \
	"$(etcd_get $P/weft/owners/10.8.201.0-24)"
tap_eq "c's key keeps upstream's bytes" '{"PublicIP":"127.0.0.32","PublicIPv6":null}' "$(etcd_get $P/subnets/10.8.201.0-24)"

# 5. The reservation of d's address: reused quietly, stays TTL-less, and gets no
# TTL-less owner record.
WEFT_NODE_ID=node-d weftd_start d 127.0.0.33
tap_ok "d holds a lease" weftd_wait_held d
tap_eq "d takes its reservation" 10.8.202.1/24 "$(weftd_subnet d)"
tap_eq "d: no ownership warning for a reservation" 0 "$(weftd_count d 'no owner record')"
tap_eq "d's reservation has no TTL" 0 "$(etcd_lease_id $P/subnets/10.8.202.0-24)"
tap_eq "d's reservation has no owner record" missing "$(etcd_lease_id $P/weft/owners/10.8.202.0-24)"

# 6. weftctl leases: subnets only; owner records are not leases, nor malformed ones.
W=$WEFT_BUILD/weftctl
out=$("$W" leases --etcd-endpoints "$ETCD_ENDPOINT" 2>&1) && rc=0 || rc=$?
tap_eq "weftctl leases: exit 0" 0 "$rc"
tap_eq "weftctl leases: three leases (a, c, d), nothing else" 3 "$(grep -c '^10\.8\.' <<<"$out")"
tap_lacks "weftctl leases: no owner key listed" "owners" "^SUBNET" \
	"$W" leases --etcd-endpoints "$ETCD_ENDPOINT"

for n in a c d; do
	stop_bg "$n"
	tap_eq "$n: SIGTERM: exit 0" 0 "$?"
done
tap_done
