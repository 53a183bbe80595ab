#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# weft's CNI plugin, installed as "flannel", driven exactly as a runtime drives
# it (tests/netns/lib.sh pod_add_cni: libcni's conflist semantics), with the
# real Debian reference plugins as delegates, on one host namespace:
#
#     $NS-h1   cni0 10.244.1.1/24 (made by bridge), portmap rules (iptables-nft)
#       |  veth   |  veth   ...
#     $NS-h1-p1  $NS-h1-p2  ...   pods: eth0 10.244.1.x/24
#
# A hand-written subnet.env stands in for weftd. Checks: the pod's address,
# routes and MTU, cni0's .1, the stored delegate configuration (bytes, modes),
# portmap chaining, DEL (interface, address, state file; twice), CHECK, 50
# ADD/DEL cycles leaving nothing behind, every error case end to end (code on
# stdout, non-zero exit), VERSION, STATUS, GC. Nothing outside the namespaces
# and $RUN_DIR is touched.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/tap.sh
NS=${NS:-wc$$}
. tests/netns/lib.sh

for t in bridge host-local portmap loopback; do
	[ -x /usr/lib/cni/$t ] || { tap_skip "CNI plugin tests" "no /usr/lib/cni/$t"; tap_done; exit 0; }
done

on_cleanup ns_cleanup
H=$(host_ns 1)
ip netns add "$H" || { tap_ok "host namespace" false; tap_done; exit 1; }
ip -n "$H" link set lo up
printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n' \
	>"$RUN_DIR/h1.env"
DATA=$RUN_DIR/h1-flannel
IPAM=$RUN_DIR/h1-ipam
BIN=$RUN_DIR/cni-bin

# plugin CMD ID CONF [VAR=VALUE...]: our binary run directly in the host
# namespace with a clean CNI environment; stdout in $OUT, exit status in $RC.
plugin() {
	local cmd=$1 id=$2 conf=$3
	shift 3
	OUT=$(ip netns exec "$H" env -i PATH="$PATH" CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" \
		CNI_NETNS=/var/run/netns/"$id" CNI_IFNAME=eth0 CNI_PATH="$BIN" "$@" "$BIN/flannel" \
		<<<"$conf" 2>>"$RUN_DIR/cni.log") && RC=0 || RC=$?
}
json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($1)" "$2"; }
err_is() { # LABEL CODE MSG_SUBSTRING: the last plugin run failed so
	local code
	code=$(json 'd["code"]' "$OUT" 2>/dev/null)
	tap_eq "$1: exit 1" 1 "$RC"
	tap_eq "$1: code $2" "$2" "$code"
	tap_ok "$1: message names it" grep -qF -- "$3" <<<"$(json 'd["msg"]' "$OUT" 2>/dev/null)"
}
conf() { # CNI_VERSION [EXTRA]: the flannel plugin's configuration as a runtime passes it
	echo "{\"name\":\"cbr0\",\"cniVersion\":\"$1\",\"type\":\"flannel\",\"subnetFile\":\"$RUN_DIR/h1.env\",\"dataDir\":\"$DATA\",\"delegate\":{\"hairpinMode\":true,\"isDefaultGateway\":true},\"ipam\":{\"dataDir\":\"$IPAM\"}${2:-}}"
}
# Counts that cannot come out 0 because the place looked at is gone.
count() { grep -c . || true; } # lines on stdin (grep -c prints 0 and fails on none)
allocated() { if [ -d "$IPAM/cbr0" ]; then find "$IPAM/cbr0" -name '10.*' | count; else echo "no $IPAM/cbr0"; fi; }
veths() { local l; if l=$(ip -n "$H" -o link show type veth); then count <<<"$l"; else echo "ip failed"; fi; }
stored() { if [ -d "$DATA" ]; then find "$DATA" -type f | count; else echo "no $DATA"; fi; }

# ---- ADD through the conflist (flannel, then portmap with prevResult) ----
PORTMAPS='[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]' pod_add_cni 1 1 >/dev/null
tap_ok "ADD pod 1 (conflist flannel + portmap)" test -n "${POD_IP[1.1]:-}"
P1=$(pod_ns 1 1)
ip1=${POD_IP[1.1]:-none}
tap_ok "pod 1's address $ip1 is in 10.244.1.0/24, not .1" \
	python3 -c 'import ipaddress,sys; a=ipaddress.ip_address(sys.argv[1]); assert a in ipaddress.ip_network("10.244.1.0/24") and str(a)!="10.244.1.1"' "$ip1"
tap_eq "pod 1's eth0 holds it" "$ip1/24" "$(ip -n "$P1" -4 -o addr show dev eth0 | awk '{print $4}')"
tap_eq "pod 1's eth0 MTU is FLANNEL_MTU" 1450 "$(ip -n "$P1" -o link show dev eth0 | grep -o 'mtu [0-9]*' | cut -d' ' -f2)"
tap_eq "cni0 holds 10.244.1.1/24" "10.244.1.1/24" "$(ip -n "$H" -4 -o addr show dev cni0 | awk '{print $4}')"
tap_eq "pod route to the flannel network via cni0" "10.244.0.0/16 via 10.244.1.1 dev eth0 " \
	"$(ip -n "$P1" route show 10.244.0.0/16)"
tap_eq "pod default route via cni0 (isDefaultGateway)" "default via 10.244.1.1 dev eth0 " \
	"$(ip -n "$P1" route show default)"
want="{\"cniVersion\":\"0.3.1\",\"hairpinMode\":true,\"ipMasq\":false,\"ipam\":{\"dataDir\":\"$IPAM\",\"ranges\":[[{\"subnet\":\"10.244.1.0/24\"}]],\"routes\":[{\"dst\":\"10.244.0.0/16\"}],\"type\":\"host-local\"},\"isDefaultGateway\":true,\"isGateway\":true,\"mtu\":1450,\"name\":\"cbr0\",\"type\":\"bridge\"}"
tap_eq "stored delegate configuration is the delegate JSON, byte for byte" "$want" "$(cat "$DATA/$P1" 2>&1)"
tap_eq "stored file mode 0600" 600 "$(stat -c %a "$DATA/$P1" 2>&1)"
tap_eq "dataDir mode 0700" 700 "$(stat -c %a "$DATA" 2>&1)"
tap_ok "host-local reserved the address in the test's ipam dataDir" test -e "$IPAM/cbr0/$ip1"
tap_ok "portmap (chained with prevResult) set up hostPort 8080" \
	eval "ip netns exec $H iptables -t nat -S | grep -q -- '--dport 8080'"

pod_add_cni 1 2 >/dev/null
ip2=${POD_IP[1.2]:-none}
tap_ok "ADD pod 2 ($ip2), another address" test "$ip2" != "$ip1" -a "$ip2" != none
tap_ok "pod 1 reaches pod 2" pod_ping 1 1 "$ip2"
tap_ok "pod 2 reaches the gateway" pod_ping 1 2 10.244.1.1

# ---- DEL ----
tap_ok "DEL pod 1 (portmap, then flannel)" pod_del_cni 1 1
tap_ok "pod 1's namespace is still there" ip -n "$P1" link show lo
tap_fail_with "pod 1's eth0 is gone" 1 '^Device "eth0" does not exist\.$' ip -n "$P1" link show eth0
tap_no_file "its address is free again" "$IPAM/cbr0/$ip1"
tap_no_file "its stored configuration is gone" "$DATA/$P1"
tap_lacks "portmap's rule is gone" '--dport 8080' '^-P PREROUTING ' \
	ip netns exec "$H" iptables -t nat -S
tap_ok "a second DEL succeeds" pod_del_cni 1 1
plugin DEL "$P1" "$(conf 0.3.1)"
tap_eq "a third DEL (plugin alone) exits 0 with empty stdout" "0:" "$RC:$OUT"

# ---- CHECK (a 1.0.0 configuration: CHECK exists from 0.4.0) ----
C=$NS-chk
ip netns add "$C"
plugin ADD "$C" "$(conf 1.0.0)"
tap_eq "ADD with cniVersion 1.0.0" 0 "$RC"
# The bridge plugin checks every route of the result; before plugins 1.3.0 it
# cannot match a route without "gw" (containernetworking/plugins#886), and
# flannel's routes have none: give them the gateway they are installed with.
result=$(python3 -c 'import json,sys
r = json.loads(sys.argv[1])
for rt in r.get("routes", []):
    rt.setdefault("gw", "10.244.1.1")
print(json.dumps(r))' "$OUT")
result_ip=$(json 'd["ips"][0]["address"]' "$result")
plugin CHECK "$C" "$(conf 1.0.0 ",\"prevResult\":$result")"
tap_eq "CHECK (delegated to bridge with the cached result) succeeds, prints nothing" "0:" "$RC:$OUT"
ip -n "$C" addr flush dev eth0
plugin CHECK "$C" "$(conf 1.0.0 ",\"prevResult\":$result")"
err_is "CHECK once the pod lost its address (bridge's error passed through)" 999 \
	"Failed to match addr ${result_ip:-?} on interface eth0"
plugin DEL "$C" "$(conf 1.0.0 ",\"prevResult\":$result")"
tap_eq "DEL of the CHECK pod" 0 "$RC"
plugin CHECK "$C" "$(conf 1.0.0 ",\"prevResult\":$result")"
err_is "CHECK after DEL" 3 "no delegate configuration stored for container $C"

# ---- 50 ADD/DEL cycles leave nothing behind ----
Y=$NS-cyc
ip netns add "$Y"
a0=$(allocated) v0=$(veths) s0=$(stored) bad=0 t0=$(now_ms)
for i in $(seq 1 50); do
	plugin ADD "$Y" "$(conf 0.3.1)" CNI_CONTAINERID="cyc-$i"
	[ "$RC" = 0 ] || { bad=$((bad + 1)); echo "# ADD $i: $OUT"; }
	plugin DEL "$Y" "$(conf 0.3.1)" CNI_CONTAINERID="cyc-$i"
	[ "$RC" = 0 ] || { bad=$((bad + 1)); echo "# DEL $i: $OUT"; }
done
echo "# 50 ADD/DEL cycles in $(($(now_ms) - t0)) ms"
tap_eq "50 ADD/DEL cycles all succeed" 0 "$bad"
tap_eq "no stored configuration left" "$s0" "$(stored)"
tap_eq "no host-local allocation left" "$a0" "$(allocated)"
tap_eq "no veth left in the host" "$v0" "$(veths)"
tap_ok "the cycles' pod namespace is still there" ip -n "$Y" link show lo
tap_fail_with "no eth0 left in the pod" 1 '^Device "eth0" does not exist\.$' ip -n "$Y" link show eth0

# ---- errors, end to end ----
OUT=$(ip netns exec "$H" env -i PATH="$PATH" "$BIN/flannel" </dev/null 2>/dev/null) && RC=0 || RC=$?
err_is "no CNI_COMMAND" 4 "required env variables [CNI_COMMAND] missing"
OUT=$(ip netns exec "$H" env -i PATH="$PATH" CNI_COMMAND=ADD CNI_NETNS=/var/run/netns/$Y \
	CNI_IFNAME=eth0 "$BIN/flannel" <<<"$(conf 0.3.1)" 2>/dev/null) && RC=0 || RC=$?
err_is "no CNI_CONTAINERID, no CNI_PATH" 4 "required env variables [CNI_CONTAINERID,CNI_PATH] missing"
plugin ADD "$Y" "{\"name\":"
err_is "unparsable stdin" 6 "error unmarshall network config"
plugin ADD "$Y" "{\"cniVersion\":\"0.3.1\",\"type\":\"flannel\"}"
err_is "no name" 7 "missing network name"
plugin ADD "$Y" "$(conf 0.3.1 ',"delegate":{"name":"x"}')"
err_is "delegate with name" 7 "'delegate' dictionary must not have 'name' field, it'll be set by flannel"
plugin ADD "$Y" "$(conf 0.3.1 ',"delegate":{"ipam":{}}')"
err_is "delegate with ipam" 7 "'delegate' dictionary must not have 'ipam' field, it'll be set by flannel"
plugin ADD "$Y" "$(conf 0.3.1 ",\"subnetFile\":\"$RUN_DIR/none.env\"")"
err_is "subnet.env missing" 5 "failed to load flannel 'subnet.env' file: open $RUN_DIR/none.env: no such file or directory. Check the flannel pod log for this node."
printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_IPMASQ=true\n' >"$RUN_DIR/part.env"
plugin ADD "$Y" "$(conf 0.3.1 ",\"subnetFile\":\"$RUN_DIR/part.env\"")"
err_is "subnet.env without FLANNEL_MTU" 7 "$RUN_DIR/part.env is missing FLANNEL_MTU"
plugin ADD "$Y" "$(conf 0.9.9)"
err_is "unsupported cniVersion" 1 "incompatible CNI versions"
plugin ADD "$Y" "$(conf 0.3.1)" CNI_PATH="$RUN_DIR/nowhere:/nonexistent"
err_is "bridge not in CNI_PATH" 7 "failed to find plugin \"bridge\" in path [$RUN_DIR/nowhere /nonexistent]"
plugin ADD "$NS-nonexistent" "$(conf 0.3.1)"
err_is "delegate failure (no such netns): bridge's error passed through" 999 \
	"failed to open netns \"/var/run/netns/$NS-nonexistent\""
tap_no_file "nothing left behind after the failed ADD" "$DATA/$NS-nonexistent"
tap_eq "no address reserved by the failed ADD" "$a0" "$(allocated)"

# ---- VERSION, --version, STATUS, GC ----
plugin VERSION x ""
tap_eq "VERSION" '0:{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' "$RC:$OUT"
tap_ok "--version names weft" eval "'$BIN/flannel' --version | grep -q '^CNI Plugin weft version '"
plugin STATUS x "$(conf 1.1.0)"
tap_eq "STATUS with a complete subnet.env: ready" "0:" "$RC:$OUT"
plugin STATUS x "$(conf 1.1.0 ",\"subnetFile\":\"$RUN_DIR/none.env\"")"
err_is "STATUS without subnet.env" 50 "plugin not available: failed to load flannel 'subnet.env' file"
plugin STATUS x "$(conf 1.0.0)"
err_is "STATUS with a 1.0.0 configuration" 1 "config version does not allow STATUS"

P2=$(pod_ns 1 2)
cp "$DATA/$P2" "$DATA/stale-1"
cp "$DATA/$P2" "$DATA/stale-2"
plugin GC x "$(conf 1.1.0 ",\"cni.dev/valid-attachments\":[{\"containerID\":\"$P2\",\"ifname\":\"eth0\"}]")"
tap_eq "GC succeeds" "0:" "$RC:$OUT"
tap_no_file "GC removed stale configurations" "$DATA/stale-1" "$DATA/stale-2"
tap_ok "GC kept the live pod's" test -e "$DATA/$P2"
plugin GC x "$(conf 1.1.0)"
err_is "GC without cni.dev/valid-attachments" 7 "cni.dev/valid-attachments"

# ---- the end: nothing left ----
tap_ok "DEL pod 2" pod_del_cni 1 2
tap_eq "no stored configuration left at all" 0 "$(stored)"
tap_eq "no host-local allocation left at all" 0 "$(allocated)"
tap_eq "no veth left at all" 0 "$(veths)"
tap_done
