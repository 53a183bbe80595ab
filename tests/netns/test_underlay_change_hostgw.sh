#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_underlay_change.sh with the host-gw backend: routes via the peers'
# public addresses follow a recreated or readdressed interface.
cd "$(dirname "$0")/../.."
UNDERLAY_BACKEND=host-gw exec bash tests/netns/test_underlay_change.sh
