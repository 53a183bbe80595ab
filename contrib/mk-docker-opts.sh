#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# mk-docker-opts.sh: flannel's script name for `weftctl docker-opts`, which
# takes the script's options (-f FILE, -d FILE, -i, -c, -k KEY, -m; grouped
# as getopts allows: -ic, -mkKEY, -fFILE) and writes the same bytes.
# `make install` puts it next to weftctl; weftctl is looked for there first
# (also through a symlink to this script), then on PATH. All arguments are
# passed on unchanged.

self=$0
hops=0
while [ "$hops" -lt 8 ]; do
	hops=$((hops + 1))
	case $self in
	*/*) dir=${self%/*} ;;
	*) dir=. ;;
	esac
	if [ -x "$dir/weftctl" ] && [ ! -d "$dir/weftctl" ]; then
		exec "$dir/weftctl" docker-opts "$@"
	fi
	# A symlink to this script: try the directory of its target too.
	[ -L "$self" ] || break
	link=$(readlink "$self") || break
	case $link in
	/*) self=$link ;;
	*) self=$dir/$link ;;
	esac
done
if command -v weftctl >/dev/null 2>&1; then
	exec weftctl docker-opts "$@"
fi
echo "mk-docker-opts.sh: weftctl not found next to $0 or on PATH" >&2
exit 1
