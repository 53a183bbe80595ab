// SPDX-License-Identifier: Apache-2.0
/* A device's TX checksum offload through SIOCETHTOOL (see ethtool.h). */
#include "nl/ethtool.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"

/* One ETHTOOL_* command with a struct ethtool_value on dev. Any socket
 * reaches the device ioctls; an IPv4 one is what ethtool(8) opens first,
 * a netlink one its fallback (IPv4 compiled out). */
static int ethtool_value(const char *dev, struct ethtool_value *v, struct err *err)
{
	struct ifreq ifr;
	int fd, rc = 0;

	if (strlen(dev) >= sizeof(ifr.ifr_name))
		return err_set(err, -EINVAL, "device name '%s' is too long", dev);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(err, -errno, "socket for SIOCETHTOOL: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, dev, strlen(dev));
	ifr.ifr_data = (char *)v;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		rc = -errno;
		err_set(err, rc, "%s: SIOCETHTOOL %s: %s", dev,
			v->cmd == ETHTOOL_STXCSUM ? "ETHTOOL_STXCSUM" : "ETHTOOL_GTXCSUM",
			strerror(errno));
	}
	close(fd);
	return rc;
}

int ethtool_tx_csum_get(const char *dev, bool *ret, struct err *err)
{
	struct ethtool_value v = { .cmd = ETHTOOL_GTXCSUM };
	int rc = ethtool_value(dev, &v, err);

	if (rc == 0)
		*ret = v.data != 0;
	return rc;
}

int ethtool_tx_csum_set(const char *dev, bool on, struct err *err)
{
	struct ethtool_value v = { .cmd = ETHTOOL_STXCSUM, .data = on };

	return ethtool_value(dev, &v, err);
}
