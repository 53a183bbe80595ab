# SPDX-License-Identifier: Apache-2.0
# Hosts on the ipsec backend (requires lib.sh): each weftd with its own
# --ipsec-run-dir, so that its charon's config, VICI socket, pid file and log
# are the host's own; swanctl pointed at a host's charon.

ipsec_dir() { echo "$RUN_DIR/h$1-ipsec"; }

# weftd on host N for the ipsec backend, with the environment in
# IPSEC_WEFTD_ENV (an array of VAR=value, may be empty).
ipsec_weftd() { # N [weftd args...]
	local n=$1
	shift
	run_bg "h$n" env "${IPSEC_WEFTD_ENV[@]}" ip netns exec "$(host_ns "$n")" "$WEFT_BUILD/weftd" \
		--etcd-endpoints "$ETCD_ENDPOINT" --subnet-file "$RUN_DIR/h$n.env" \
		--ipsec-run-dir "$(ipsec_dir "$n")" "$@"
}
IPSEC_WEFTD_ENV=()

swan() { # N swanctl-args...
	local n=$1
	shift
	swanctl "$@" --uri "unix://$(ipsec_dir "$n")/charon.vici" 2>/dev/null
}

# A PSK of 96 characters, as the backend wants at least.
ipsec_psk() { python3 -c 'import secrets; print(secrets.token_hex(48))'; }
