/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NL_ETHTOOL_H
#define WEFT_NL_ETHTOOL_H

/*
 * A device's TX checksum offload through the SIOCETHTOOL ioctl: the legacy
 * ETHTOOL_GTXCSUM / ETHTOOL_STXCSUM commands, which read and set all of the
 * device's TX checksum features at once (for a vxlan device,
 * tx-checksum-ip-generic), as `ethtool -K DEV tx on|off` does. Turning it off
 * also turns off what the kernel makes depend on it (TSO, UFO: the device
 * then hands the stack segments whose checksums it computes itself).
 * The device is looked up by name in the caller's network namespace.
 */
#include <stdbool.h>

struct err;

/* *ret: whether TX checksum offload is on. */
int ethtool_tx_csum_get(const char *dev, bool *ret, struct err *err);
/* Turn it on or off; -EOPNOTSUPP when the device has no such switch. */
int ethtool_tx_csum_set(const char *dev, bool on, struct err *err);

#endif
