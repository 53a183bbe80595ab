/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WG_DEVICE_RX_H
#define WEFT_WG_DEVICE_RX_H

/*
 * The receive path of the userspace device without the socket: what the
 * rx thread does to each received message, callable by the fuzzer and unit
 * tests with their own writer. Internal to src/wg and its tests.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "datapath/gso.h"
#include "wg/config.h"

struct wg_device;
struct wg_peer;
struct wg_aead;

typedef int wg_rx_write_cb(void *arg, const struct iovec *iov, int iovcnt);

struct wg_rx {
	struct wg_device *d;
	uint64_t *ctr; /* WG_COUNTERS */
	wg_rx_write_cb *write;
	void *arg;
	bool vnet;
	struct wg_aead *aead;
	uint32_t last_idx; /* the index looked up last in this batch (until flush) */
	struct wg_peer *last_peer;
	struct gro gro;
};

int wg_rx_init(struct wg_rx *rx, struct wg_device *d, uint64_t *ctr, wg_rx_write_cb *write,
	       void *arg);
void wg_rx_destroy(struct wg_rx *rx);
/* One received message: a train of seg-byte datagrams (0 = one datagram);
 * data is modified in place and must stay until wg_rx_flush. */
void wg_rx_message(struct wg_rx *rx, const union wg_endpoint *from, uint8_t *data, size_t len,
		   size_t seg, int64_t now);
void wg_rx_datagram(struct wg_rx *rx, const union wg_endpoint *from, uint8_t *dg, size_t len,
		    int64_t now);
void wg_rx_flush(struct wg_rx *rx);

/* A detached device (tests, the fuzzer): one pass of the hs thread's work
 * (queued handshake messages, initiations asked for, timers) at now. */
void wg_device_hs_run(struct wg_device *d, int64_t now);

#endif
