#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ipsec's kernel ESP engine (flannel's way: charon installs the SAs, weft the
# XFRM policies). This kernel has XFRM but no ESP type, so no SA can be
# installed and no traffic flows here; the policies can, and they are what
# this checks, on 3 hosts (WEFT_IPSEC_TEST_NO_ESP_PROBE=1 skips the probe
# that would otherwise refuse the kernel engine):
#   - three policies per peer, exactly as upstream's (out: our subnet to
#     theirs; in and fwd: theirs to ours; ESP tunnel between the public IPs,
#     reqid 11), and charon's connections without policies and with reqid 11;
#   - a policy deleted by hand is back within 10 s (upstream: never);
#   - a stale policy of ours (a peer gone while weftd was down) is removed
#     at start (upstream: never), one of someone else's is left alone;
#   - a peer removed from etcd: its policies go.
# The data path over kernel ESP is not exercised on this machine.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/etcd.sh
. tests/lib/tap.sh
. tests/netns/lib.sh
. tests/netns/cases.sh
. tests/netns/ipsec_lib.sh

PSK=$(ipsec_psk)
IPSEC_WEFTD_ENV=(WEFT_IPSEC_ENGINE=kernel WEFT_IPSEC_TEST_NO_ESP_PROBE=1)
weftd_host_start() { ipsec_weftd "$@"; }

# Host N's policies as "dir src dst tmpl-src tmpl-dst reqid", sorted.
policies() {
	host_exec "$1" ip xfrm policy show | python3 -c '
import re, sys
out = []
for block in re.split(r"^src ", sys.stdin.read(), flags=re.M)[1:]:
    m = re.match(r"(\S+) dst (\S+).*?dir (\w+).*?tmpl src (\S+) dst (\S+)\s+proto esp reqid (\d+) mode tunnel", block, re.S)
    if m:
        out.append("%s %s %s %s %s %s" % (m.group(3), m.group(1), m.group(2), m.group(4), m.group(5), m.group(6)))
print("\n".join(sorted(out)))'
}
want_policies() { # N: what upstream installs on host N for its peers
	local n=$1 m
	for m in $(seq 1 "$HOSTS"); do
		[ "$m" = "$n" ] && continue
		[ -e "$RUN_DIR/h$m.env" ] || continue
		echo "out $(subnet_net "$n") $(subnet_net "$m") $(host_ip "$n") $(host_ip "$m") 11"
		echo "in $(subnet_net "$m") $(subnet_net "$n") $(host_ip "$m") $(host_ip "$n") 11"
		echo "fwd $(subnet_net "$m") $(subnet_net "$n") $(host_ip "$m") $(host_ip "$n") 11"
	done | sort
}

cluster_up "{\"Type\":\"ipsec\",\"PSK\":\"$PSK\"}" || { tap_ok "cluster up" false; tap_done; exit 1; }
for n in 1 2 3; do
	tap_ok "h$n: logs kernel ESP" grep -q "kernel ESP" "$RUN_DIR/h$n.log"
	tap_ok "h$n: FLANNEL_MTU is the interface MTU - 77" test "$(host_env "$n" FLANNEL_MTU)" = 1423
	tap_ok "h$n: charon's config has no kernel-libipsec" eval "! grep -q kernel-libipsec '$(ipsec_dir "$n")/strongswan.conf'"
	t=$(time_until 10 eval "[ \"\$(policies $n)\" = \"\$(want_policies $n)\" ]")
	tap_ok "h$n: three policies per peer, as upstream's ($t ms)" test "$t" != timeout
	[ "$t" != timeout ] || { policies "$n"; echo ---; want_policies "$n"; } | sed 's/^/# /'
done
tap_eq "h1: a connection in charon for each peer" 2 "$(swan 1 --list-conns | grep -c '^10.200.0.11-')"

# Deleted by hand: back within 10 s.
host_exec 1 ip xfrm policy delete dir fwd src "$(subnet_net 2)" dst "$(subnet_net 1)"
host_exec 1 ip xfrm policy delete dir out src "$(subnet_net 1)" dst "$(subnet_net 3)"
t=$(time_until 10 eval "[ \"\$(policies 1)\" = \"\$(want_policies 1)\" ]")
tap_ok "tamper: two deleted policies are back within 10 s ($t ms)" test "$t" != timeout
tap_ok "tamper: h1 says so" grep -q "is missing; installing it again" "$RUN_DIR/h1.log"

# Stale ones go at start; others' stay.
weftd_host_stop 1
host_exec 1 ip xfrm policy add dir out src "$(subnet_net 1)" dst 10.244.250.0/24 \
	tmpl src "$(host_ip 1)" dst 10.200.0.99 proto esp reqid 11 mode tunnel
host_exec 1 ip xfrm policy add dir out src 192.168.7.0/24 dst 192.168.8.0/24 \
	tmpl src "$(host_ip 1)" dst 10.200.0.98 proto esp reqid 12 mode tunnel
weftd_host_start 1 --iface eth0
t=$(time_until 10 eval "[ \"\$(policies 1 | grep -v 192.168.7.0)\" = \"\$(want_policies 1)\" ]")
tap_ok "stale: our policy for a peer that is gone is removed at start ($t ms)" test "$t" != timeout
tap_ok "stale: h1 says so" grep -q "removing the stale XFRM policy out 10.244" "$RUN_DIR/h1.log"
tap_ok "stale: someone else's policy (reqid 12) is left alone" \
	eval "host_exec 1 ip xfrm policy show | grep -q 'src 192.168.7.0/24 dst 192.168.8.0/24'"

# A peer leaves: its policies go from the others.
key=$(lease_key 3)
weftd_host_stop 3
etcd_del "$key"
rm -f "$RUN_DIR/h3.env.gone"
mv "$RUN_DIR/h3.env" "$RUN_DIR/h3.env.gone"
for n in 1 2; do
	t=$(time_until 10 eval "[ \"\$(policies $n | grep -v 192.168.7.0)\" = \"\$(want_policies $n)\" ]")
	tap_ok "leave: h3's policies gone from h$n ($t ms)" test "$t" != timeout
done
weftd_host_stop 1
tap_eq "h1: weftd exits 0 on SIGTERM" 0 "$?"
tap_done
