#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build weft's container image (what `make image` runs; root, Debian's podman and
# debootstrap: `scripts/deps.sh image`). No registry is needed: the base is a
# minimal Debian root made by debootstrap from the Debian archive, added to an
# empty image (FROM scratch) by `podman build`, then weft's files on top:
#
#   /opt/bin/weftd, /opt/bin/flanneld -> weftd   the agent (ENTRYPOINT /opt/bin/flanneld,
#                                                as flannel's image)
#   /opt/bin/weftctl, /opt/bin/mk-docker-opts.sh
#   /opt/bin/install-conf                        atomic copy, as flannel's (init containers)
#   /flannel                                     the CNI plugin, where flannel's
#                                                flannel-cni-plugin image has it
#   iptables (nft and legacy), nft, libnftables, libssl3, libsodium, jansson,
#   libmnl, libyaml, ca-certificates             what weftd links, loads and runs
#
# Usage: scripts/image.sh [BUILD_DIR]       (binaries from BUILD_DIR, default build)
#
# Environment:
#   IMAGE=weft  IMAGE_TAG=<git describe>   the image is tagged IMAGE:IMAGE_TAG and IMAGE:latest
#   IMAGE_ARCHIVE=BUILD_DIR/image/weft-image.tar
#                                          `podman save --format oci-archive` of it; empty: none
#   IMAGE_EXTRA_PACKAGES="..."             more Debian packages in the base (e.g. for the ipsec
#                                          backend: strongswan-charon libstrongswan-standard-plugins)
#   DEBIAN_SUITE=bookworm  DEBIAN_MIRROR=http://deb.debian.org/debian
#   PODMAN="podman ..."                    the podman command (tests add --root/--runroot)
#
# The debootstrap result is cached as BUILD_DIR/image/base-<key>.tar, the key a
# hash of everything it is made of (suite, mirror, package list, this recipe's
# version): a second build only adds weft's files. `make clean` drops it.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${1:-build}
IMAGE=${IMAGE:-weft}
IMAGE_TAG=${IMAGE_TAG:-$(git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)}
IMAGE_ARCHIVE=${IMAGE_ARCHIVE-$BUILD_DIR/image/weft-image.tar}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
read -r -a PODMAN_CMD <<<"${PODMAN:-podman}"
read -r -a EXTRA <<<"${IMAGE_EXTRA_PACKAGES:-}"

# What the agent needs at run time, beyond debootstrap's minbase (Priority:
# required + apt). Linked: libmnl0 libjansson4 libyaml-0-2 libssl3 (libcrypto);
# dlopen'ed: libnftables1 (nftables mode), libssl3 (TLS), libsodium23 (wireguard);
# run: iptables, iptables-restore, ip6tables, ip6tables-restore (iptables mode,
# found on PATH), nft (for people, weftd uses libnftables); ca-certificates for
# TLS without a CA file.
PKGS=(libmnl0 libjansson4 libyaml-0-2 libssl3 libsodium23 libnftables1 nftables iptables
	ca-certificates "${EXTRA[@]}")
# Bump when the recipe below changes what goes into the base.
RECIPE=3

say() { printf 'image: %s\n' "$*"; }
die() {
	printf 'image: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, podman build); try: sudo make image"
for t in debootstrap "${PODMAN_CMD[0]}"; do
	command -v "$t" >/dev/null || die "$t not found; install it with: scripts/deps.sh image"
done
for b in weftd weftctl weft-cni; do
	[ -x "$BUILD_DIR/$b" ] || die "$BUILD_DIR/$b missing: run make first"
done

# Absolute paths: the podman command may run in another mount namespace
# (nsenter, as the test does), where the working directory is /.
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
[ -z "$IMAGE_ARCHIVE" ] || IMAGE_ARCHIVE=$(realpath -m "$IMAGE_ARCHIVE")
dir=$BUILD_DIR/image
mkdir -p "$dir"
t0=$(date +%s)

# --- the base: debootstrap --variant=minbase + PKGS, slimmed, as a tarball ---
key=$(printf '%s\n' "$RECIPE" "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "${PKGS[@]}" | sha256sum | cut -c1-16)
base=$dir/base-$key.tar
root=
ctx=$dir/context.$$

cleanup() {
	rm -rf "$ctx"
	cleanup_root
}
cleanup_root() {
	[ -n "$root" ] && [ -d "$root" ] || return 0
	# debootstrap mounts proc and sys in the target while it works; a failure
	# may leave them.
	local m
	for m in $(findmnt -rno TARGET | grep -F "$(realpath "$root")/" | sort -r); do
		umount -l "$m" || true
	done
	rm -rf --one-file-system "$root"
}
trap cleanup EXIT

slim() { # ROOT
	local r=$1
	# As Debian's -slim images: no documentation but the copyright files, no
	# manual pages, translations, apt lists or caches, and dpkg told to keep it
	# so for packages installed later in images built on this one.
	find "$r/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
	find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "$r"/usr/share/{man,info,groff,lintian,linda}/* "$r"/usr/share/locale/*
	rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old \
		"$r"/var/lib/dpkg/*-old "$r"/var/cache/ldconfig/aux-cache
	find "$r/var/log" -type f -delete
	# The runtime provides these.
	rm -f "$r/etc/resolv.conf" "$r/etc/hostname" "$r/etc/machine-id"
	cat >"$r/etc/dpkg/dpkg.cfg.d/weft-image-slim" <<'EOF'
# weft image (scripts/image.sh): no documentation in the image.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
EOF
}

if [ -f "$base" ]; then
	say "base: $base (cached; debootstrap skipped)"
else
	root=$dir/rootfs.$$
	rm -rf "$root"
	mkdir -p "$root"
	say "base: debootstrap --variant=minbase $DEBIAN_SUITE from $DEBIAN_MIRROR, with ${PKGS[*]}"
	if ! debootstrap --variant=minbase --components=main --include="$(IFS=,; echo "${PKGS[*]}")" \
		"$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >"$dir/debootstrap.log" 2>&1; then
		tail -20 "$dir/debootstrap.log" >&2
		die "debootstrap failed (log: $dir/debootstrap.log)"
	fi
	slim "$root"
	# /dev, /proc, /sys, /run and /tmp are the runtime's.
	tar --numeric-owner -C "$root" -cf "$base.tmp.$$" \
		--exclude=./dev/* --exclude=./proc/* --exclude=./sys/* --exclude=./run/* --exclude=./tmp/* .
	mv -f "$base.tmp.$$" "$base"
	cleanup_root
	root=
	say "base: $base ($(du -m "$base" | cut -f1) MiB) in $(($(date +%s) - t0)) s"
fi

# --- weft's files and the image ---
mkdir -p "$ctx/files/opt/bin"
ln -f "$base" "$ctx/base.tar" 2>/dev/null || cp -f "$base" "$ctx/base.tar"
put_bin() { # SRC DEST: stripped when strip is there
	if command -v strip >/dev/null; then
		strip --strip-unneeded -o "$2" "$1"
	else
		cp -f "$1" "$2"
	fi
	chmod 0755 "$2"
}
put_bin "$BUILD_DIR/weftd" "$ctx/files/opt/bin/weftd"
put_bin "$BUILD_DIR/weftctl" "$ctx/files/opt/bin/weftctl"
put_bin "$BUILD_DIR/weft-cni" "$ctx/files/flannel"
ln -s weftd "$ctx/files/opt/bin/flanneld"
install -m 0755 contrib/mk-docker-opts.sh contrib/kubernetes/install-conf "$ctx/files/opt/bin/"

cat >"$ctx/Containerfile" <<EOF
FROM scratch
ADD base.tar /
COPY files/ /
ENV PATH=/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.title="weft" \\
      org.opencontainers.image.description="weft, a C re-implementation of flannel: weftd (also as flanneld), weftctl and the CNI plugin" \\
      org.opencontainers.image.version="$IMAGE_TAG" \\
      org.opencontainers.image.licenses="Apache-2.0" \\
      org.opencontainers.image.base.name="debian:$DEBIAN_SUITE (debootstrap --variant=minbase)"
ENTRYPOINT ["/opt/bin/flanneld"]
EOF

say "podman build -t $IMAGE:$IMAGE_TAG -t $IMAGE:latest"
"${PODMAN_CMD[@]}" build --format oci --pull=never -f "$ctx/Containerfile" \
	-t "$IMAGE:$IMAGE_TAG" -t "$IMAGE:latest" "$ctx" >"$ctx/build.log" 2>&1 || {
	cp -f "$ctx/build.log" "$dir/build.log"
	tail -20 "$dir/build.log" >&2
	die "podman build failed (log: $dir/build.log)"
}

mb() { awk -v s="$1" 'BEGIN { printf "%.1f MB", s / 1000000 }'; } # as podman images
size=$("${PODMAN_CMD[@]}" image inspect --format '{{.Size}}' "$IMAGE:$IMAGE_TAG")
id=$("${PODMAN_CMD[@]}" image inspect --format '{{.Id}}' "$IMAGE:$IMAGE_TAG")
if [ -n "$IMAGE_ARCHIVE" ]; then
	rm -f "$IMAGE_ARCHIVE"
	"${PODMAN_CMD[@]}" save --format oci-archive -o "$IMAGE_ARCHIVE" "$IMAGE:$IMAGE_TAG" >/dev/null
	archive=", archive $IMAGE_ARCHIVE ($(mb "$(stat -c %s "$IMAGE_ARCHIVE")"): oci-archive, layers compressed)"
fi
say "$IMAGE:$IMAGE_TAG (also $IMAGE:latest), id ${id:0:12}: $(mb "$size")${archive:-}; built in $(($(date +%s) - t0)) s"
