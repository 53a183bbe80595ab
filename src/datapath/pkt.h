/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_DATAPATH_PKT_H
#define WEFT_DATAPATH_PKT_H

/*
 * Byte-level access to packet headers. Packets sit at any offset in the
 * receive buffers (a UDP GRO train of odd-sized datagrams), so headers are
 * never cast to structs: fields are read and written through memcpy, which
 * compiles to plain unaligned loads and stores.
 */
#include <stdint.h>
#include <string.h>

/* IPv4 header offsets */
#define IP4_TOS 1
#define IP4_TOTLEN 2
#define IP4_ID 4
#define IP4_FRAG 6
#define IP4_TTL 8
#define IP4_PROTO 9
#define IP4_CSUM 10
#define IP4_SADDR 12
#define IP4_DADDR 16
#define IP4_MIN_HLEN 20

#define IP4_DF 0x4000
#define IP4_MF 0x2000
#define IP4_OFFMASK 0x1fff

/* TCP header offsets */
#define TCP_SPORT 0
#define TCP_DPORT 2
#define TCP_SEQ 4
#define TCP_ACK 8
#define TCP_DOFF 12
#define TCP_FLAGS 13
#define TCP_WIN 14
#define TCP_CSUM 16
#define TCP_MIN_HLEN 20

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20
#define TCPF_ECE 0x40
#define TCPF_CWR 0x80

/* UDP header offsets */
#define UDP_LEN 4
#define UDP_CSUM 6
#define UDP_HLEN 8

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Native-order views, for checksum fields and addresses (see csum.h). */
static inline uint16_t get_ne16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static inline void put_ne16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline uint32_t get_ne32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline unsigned ip4_hlen(const uint8_t *ip)
{
	return (unsigned)(ip[0] & 0x0f) * 4;
}

static inline unsigned tcp_hlen(const uint8_t *tcp)
{
	return (unsigned)(tcp[TCP_DOFF] >> 4) * 4;
}

#endif
