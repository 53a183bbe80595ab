#!/usr/bin/env bash
# Install the Debian packages weft needs to build and test, only those missing.
# Usage: scripts/deps.sh [build|test|image|all]   (default: all)
set -euo pipefail

build_pkgs=(make gcc pkg-config libc6-dev libmnl-dev libssl-dev libjansson-dev libyaml-dev
	libnftables-dev libcmocka-dev libsodium-dev)
test_pkgs=(clang libclang-rt-14-dev etcd-server etcd-client containernetworking-plugins
	nftables iptables iperf3 iproute2 iputils-ping openssl curl procps python3
	wireguard-go wireguard-tools tcpdump ethtool
	strongswan-charon libcharon-extra-plugins libstrongswan-standard-plugins strongswan-swanctl
	docker.io podman busybox-static)

# make image and tests/netns/test_image.sh: the image's base is made by
# debootstrap and built and run by podman (with runc, the runtime it was tested
# with; podman takes crun or runc); the test reads the manifests.
image_pkgs=(debootstrap podman runc python3-yaml)
test_pkgs+=("${image_pkgs[@]}")
# tests/integration/test_prometheus_rules.sh: promtool checks contrib/prometheus/
# (the package's server is never started: see policy-rc.d below).
test_pkgs+=(prometheus)

case "${1:-all}" in
build) want=("${build_pkgs[@]}") ;;
image) want=("${image_pkgs[@]}") ;;
test | all) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*)
	echo "deps.sh: unknown set '$1' (expected build, test, image or all)" >&2
	exit 2
	;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# No daemon may start in the root namespace when a package is installed
# (docker.io, containerd; the tests start their own in network namespaces):
# Debian's maintainer scripts start services through invoke-rc.d or
# deb-systemd-invoke, which ask policy-rc.d; 101 means "not allowed".
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# deps.sh: no service starts while packages are installed\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi

# Daemons in the root network namespace (container daemons; prometheus,
# whose package would start its server), one pid a line.
root_daemons() {
	local root_net d pid
	root_net=$(readlink /proc/self/ns/net)
	for d in dockerd containerd prometheus; do
		for pid in $(pgrep -x "$d" || true); do
			[ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" != "$root_net" ] || echo "$pid $d"
		done
	done | sort
}
before=$(root_daemons)

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Check it: the install started no container daemon in the root namespace.
started=$(comm -13 <(echo "$before") <(root_daemons))
if [ -n "$started" ]; then
	echo "deps.sh: the install started, in the root network namespace: $(tr '\n' ' ' <<<"$started")" >&2
	echo "deps.sh: stop it (the tests start their own daemons in network namespaces)" >&2
	exit 1
fi
