#!/usr/bin/env bash
# Install the Debian packages weft needs to build and test, only those missing.
# Usage: scripts/deps.sh [build|test|image|all]   (default: all)
set -euo pipefail

build_pkgs=(make gcc pkg-config libc6-dev libmnl-dev libssl-dev libjansson-dev libyaml-dev
	libnftables-dev libcmocka-dev libsodium-dev)
test_pkgs=(clang libclang-rt-14-dev etcd-server etcd-client containernetworking-plugins
	nftables iptables iperf3 iproute2 iputils-ping openssl curl procps python3
	wireguard-go wireguard-tools tcpdump
	strongswan-charon libcharon-extra-plugins libstrongswan-standard-plugins strongswan-swanctl)

# make image and tests/netns/test_image.sh: the image's base is made by
# debootstrap and built and run by podman (with runc, the runtime it was tested
# with; podman takes crun or runc); the test reads the manifests.
image_pkgs=(debootstrap podman runc python3-yaml)
test_pkgs+=("${image_pkgs[@]}")

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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
