// SPDX-License-Identifier: Apache-2.0
/*
 * The rtnetlink socket: requests, dumps and batches over libmnl.
 *
 * Replies are matched on our port id and on the sequence number of the
 * request being answered; anything else in the queue (the tail of an earlier
 * dump we stopped reading, a reply to a request that timed out) is skipped,
 * so a late message can never be taken for the answer to a new request.
 *
 * rtnetlink handles a request inside sendmsg(), in our context, and queues
 * the replies (one ACK skb per request) on our receive queue without
 * blocking: an ACK that does not fit the receive buffer is dropped and the
 * next recvmsg() fails with ENOBUFS. Batches are therefore cut in chunks
 * whose ACKs fit the receive buffer, and each chunk's ACKs are read before
 * the next chunk is sent. Because the kernel is done with a chunk when
 * sendmsg() returns, every ACK that will ever arrive is queued by then: after
 * an overrun a non-blocking drain finds all survivors.
 */
#include "nl/nl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "core/err.h"
#include "core/ipnet.h"
#include "nl/build.h"

#define NL_RX_SIZE	(64 * 1024)	  /* the kernel fills dump skbs up to 32 KiB */
#define NL_RCVBUF	(4 * 1024 * 1024) /* holds the ACKs of one batch chunk */
#define NL_CHUNK_MAX	(64 * 1024)	  /* bytes per batch sendmsg */
#define NL_ACK_COST	1536 /* rcvbuf charge of one ACK skb: ~800 measured, 2x margin */
#define NL_BATCH_MAX	(64u * 1024 * 1024)
#define NL_BATCH_KEEP	(64 * 1024) /* batch and dump buffers kept for reuse, at most */
#define NL_DUMP_RETRIES 8
#define NL_DUMP_MAX	(128u * 1024 * 1024) /* one dump, collected */
#define NL_TIMEOUT_S	30 /* a kernel answer never takes this long */
#define NL_NONE		((size_t)-1)

struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	size_t chunk_bytes; /* largest batch sendmsg */
	size_t chunk_msgs;  /* most requests per chunk: their ACKs fit rcvbuf */
	size_t ack_cost;    /* NL_ACK_COST; tests lower it to provoke overruns */

	/* Queued batch: batch_len bytes of finished messages, then the one
	 * being built at batch_open. Bytes past batch_len are kept zeroed so
	 * that builders never send stale padding. */
	uint8_t *batch;
	size_t batch_len, batch_cap, batch_open, batch_n;

	/* A dump is collected whole before any of it is handed out, so that
	 * an interrupted one can be restarted without the caller seeing an
	 * entry twice. */
	uint8_t *dump;
	size_t dump_len, dump_cap;
	unsigned dump_restarts;

	const struct nl_io *io; /* the fuzzer's kernel, else NULL */

	uint8_t rx[NL_RX_SIZE] __attribute__((aligned(8)));
	uint8_t req[NL_MSG_MAX] __attribute__((aligned(8)));
};

/* What nl_wait() is waiting for: the answer to one request or dump. */
struct nl_wait {
	uint32_t seq;
	nl_dump_cb *cb;
	void *arg;
	bool collect; /* data messages go to nl->dump instead of cb */
	int cb_error; /* first error returned by cb (or collecting): stop */
	bool intr;    /* NLM_F_DUMP_INTR or lost messages: the dump is incomplete */
	int trunc;    /* a message was too big for rx: -EMSGSIZE */
	struct err *err;
};

static int nl_ext_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= NLMSGERR_ATTR_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

/* Fill err for a kernel error code, with the extended ACK text that follows
 * off bytes of payload when the kernel sent one. */
static int nl_ack_error(const struct nlmsghdr *nlh, size_t off, int code, struct err *err)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { 0 };
	const char *msg = NULL;

	if (!err)
		return code;
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && off <= mnl_nlmsg_get_payload_len(nlh))
		mnl_attr_parse(nlh, (unsigned)off, nl_ext_attr_cb, tb);
	if (tb[NLMSGERR_ATTR_MSG] &&
	    mnl_attr_validate(tb[NLMSGERR_ATTR_MSG], MNL_TYPE_NUL_STRING) == 0)
		msg = mnl_attr_get_str(tb[NLMSGERR_ATTR_MSG]);
	if (msg && *msg)
		return err_set(err, code, "%s (kernel: %s)", strerror(-code), msg);
	if (tb[NLMSGERR_ATTR_MISS_TYPE] &&
	    mnl_attr_validate(tb[NLMSGERR_ATTR_MISS_TYPE], MNL_TYPE_U32) == 0)
		return err_set(err, code, "%s (kernel: missing attribute %u)", strerror(-code),
			       mnl_attr_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]));
	return err_set(err, code, "%s", strerror(-code));
}

/* NLMSG_ERROR: 0 for an ACK, else the kernel's -errno (err filled). */
static int nl_parse_error(const struct nlmsghdr *nlh, struct err *err)
{
	const struct nlmsgerr *e;
	size_t off = sizeof(*e);
	int code;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return err_set(err, -EPROTO, "truncated netlink error message");
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error == 0)
		return 0;
	code = e->error;
	if (code > 0 || code < -4095)
		return err_set(err, -EPROTO, "bad netlink error code %d", code);
	/* Without NETLINK_CAP_ACK the request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= sizeof(struct nlmsghdr))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	return nl_ack_error(nlh, off, code, err);
}

/* NLMSG_DONE: a dump may end with an error code in its payload. */
static int nl_parse_done(const struct nlmsghdr *nlh, struct err *err)
{
	int code;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int))
		return 0;
	memcpy(&code, mnl_nlmsg_get_payload(nlh), sizeof(code));
	if (code >= 0)
		return 0;
	if (code < -4095)
		return err_set(err, -EPROTO, "bad netlink error code %d", code);
	return nl_ack_error(nlh, sizeof(int), code, err);
}

static int nl_setsockopt(int fd, int level, int name, int val)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) < 0)
		return -errno;
	return 0;
}

static int nl_getsockopt(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int val = 0;

	if (getsockopt(fd, level, name, &val, &len) < 0)
		return -errno;
	return val;
}

/* Size batch chunks from the socket's buffers as they are now (someone may
 * have changed them since the last commit). */
static int nl_chunk_limits(struct nl *nl)
{
	int fd = mnl_socket_get_fd(nl->sock);
	int rcv = nl_getsockopt(fd, SOL_SOCKET, SO_RCVBUF);
	int snd = nl_getsockopt(fd, SOL_SOCKET, SO_SNDBUF);

	if (rcv < 0 || snd < 0)
		return rcv < 0 ? rcv : snd;
	/* netlink_sendmsg() refuses more than sk_sndbuf - 32 bytes at once. */
	nl->chunk_bytes = NL_CHUNK_MAX;
	if ((size_t)snd / 2 < nl->chunk_bytes)
		nl->chunk_bytes = (size_t)snd / 2;
	if (nl->chunk_bytes < NL_MSG_MAX)
		nl->chunk_bytes = NL_MSG_MAX;
	/* The first ACK is always queued (the queue is empty then). */
	nl->chunk_msgs = (size_t)rcv / nl->ack_cost;
	if (nl->chunk_msgs < 1)
		nl->chunk_msgs = 1;
	return 0;
}

int nl_open(struct nl **ret_nl)
{
	return nl_open_proto(NETLINK_ROUTE, ret_nl);
}

int nl_open_proto(int protocol, struct nl **ret_nl)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	struct nl *nl;
	int fd, ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->batch_open = NL_NONE;
	nl->ack_cost = NL_ACK_COST;
	nl->sock = mnl_socket_open2(protocol, SOCK_CLOEXEC);
	if (!nl->sock) {
		ret = -errno;
		goto out;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	fd = mnl_socket_get_fd(nl->sock);

	/* Best effort, all of them: kernels before 4.12 (EXT_ACK) and 4.20
	 * (strict checking) still work, with less said and filtered. CAP_ACK
	 * keeps error ACKs small: we match them by sequence number, not by the
	 * echoed request. */
	(void)nl_setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
	(void)nl_setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
	(void)nl_setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);
	/* FORCE needs CAP_NET_ADMIN; plain SO_RCVBUF is capped by rmem_max. */
	if (nl_setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, NL_RCVBUF) < 0)
		(void)nl_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, NL_RCVBUF);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		ret = -errno;
		goto out;
	}
	ret = nl_chunk_limits(nl);
	if (ret < 0)
		goto out;
	nl->seq = (uint32_t)time(NULL);
	*ret_nl = nl;
	nl = NULL;
	ret = 0;
out:
	nl_close(nl);
	return ret;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->batch);
	free(nl->dump);
	free(nl);
}

static struct nlmsghdr *nl_msg_init(void *buf, uint16_t type, uint16_t flags, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags | NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	return nlh;
}

struct nlmsghdr *nl_msg_start(struct nl *nl, uint16_t type, uint16_t flags)
{
	/* Zeroed whole: libmnl does not clear attribute padding. */
	memset(nl->req, 0, sizeof(nl->req));
	return nl_msg_init(nl->req, type, flags, ++nl->seq);
}

static int nl_send(struct nl *nl, const void *buf, size_t len)
{
	ssize_t n;

	if (nl->io)
		return nl->io->send(nl->io->arg, buf, len);
	do
		n = mnl_socket_sendto(nl->sock, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO; /* netlink takes a datagram whole or not at all */
	return 0;
}

/* One datagram from the kernel into nl->rx: its length or -errno
 * (-EAGAIN: nothing queued, or the receive timeout passed). */
static ssize_t nl_recv(struct nl *nl, int flags)
{
	struct sockaddr_nl addr;
	struct iovec iov = { .iov_base = nl->rx, .iov_len = sizeof(nl->rx) };
	struct msghdr msg = { 0 };
	ssize_t n;

	if (nl->io) {
		n = nl->io->recv(nl->io->arg, nl->rx, sizeof(nl->rx), flags & MSG_DONTWAIT);
		return n > (ssize_t)sizeof(nl->rx) ? -EMSGSIZE : n;
	}
	for (;;) {
		memset(&addr, 0, sizeof(addr));
		msg.msg_name = &addr;
		msg.msg_namelen = sizeof(addr);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_flags = 0;
		n = recvmsg(mnl_socket_get_fd(nl->sock), &msg, flags);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		if (msg.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		/* Only the kernel (port 0) answers requests. */
		if (msg.msg_namelen != sizeof(addr) || addr.nl_pid != 0)
			continue;
		return n;
	}
}

static int nl_dump_collect(struct nl *nl, const struct nlmsghdr *nlh)
{
	size_t len = NLMSG_ALIGN(nlh->nlmsg_len), cap;
	uint8_t *p;

	if (nl->dump_cap - nl->dump_len < len) {
		if (nl->dump_len + len > NL_DUMP_MAX)
			return -E2BIG;
		cap = nl->dump_cap ? nl->dump_cap : 64 * 1024;
		while (cap - nl->dump_len < len)
			cap *= 2;
		if (cap > NL_DUMP_MAX)
			cap = NL_DUMP_MAX;
		p = realloc(nl->dump, cap);
		if (!p)
			return -ENOMEM;
		nl->dump = p;
		nl->dump_cap = cap;
	}
	memcpy(nl->dump + nl->dump_len, nlh, nlh->nlmsg_len);
	memset(nl->dump + nl->dump_len + nlh->nlmsg_len, 0, len - nlh->nlmsg_len);
	nl->dump_len += len;
	return 0;
}

/* Hand a complete dump to cb. The buffer is detached meanwhile, so that cb
 * may itself use nl (even dump again). */
static int nl_dump_deliver(struct nl *nl, nl_dump_cb *cb, void *arg)
{
	uint8_t *buf = nl->dump;
	size_t cap = nl->dump_cap, len = nl->dump_len;
	const struct nlmsghdr *nlh;
	int ret = 0;

	nl->dump = NULL;
	nl->dump_len = nl->dump_cap = 0;
	for (nlh = (const struct nlmsghdr *)buf; buf && nl_msg_ok(nlh, len);
	     nlh = nl_msg_next(nlh, &len)) {
		ret = cb(nlh, arg);
		if (ret < 0)
			break;
	}
	if (!nl->dump && cap <= NL_BATCH_KEEP) {
		nl->dump = buf;
		nl->dump_cap = cap;
	} else {
		free(buf);
	}
	return ret < 0 ? ret : 0;
}

/*
 * Read until the answer to w->seq is complete: its ACK (0), its NLMSG_DONE
 * (0), or its NLMSG_ERROR (the kernel's -errno). Data messages of w->seq go
 * to w->cb. Socket failures are returned as -errno.
 */
static int nl_wait(struct nl *nl, struct nl_wait *w)
{
	const struct nlmsghdr *nlh;
	bool drain = false;
	ssize_t n;
	size_t len;
	int ret;

	for (;;) {
		n = nl_recv(nl, drain ? MSG_DONTWAIT : 0);
		if (n == -ENOBUFS) {
			/* Something of ours may be lost: what is left is queued. */
			drain = true;
			w->intr = true;
			continue;
		}
		if (n == -EMSGSIZE) {
			w->trunc = -EMSGSIZE;
			continue;
		}
		if (n == -EAGAIN)
			return drain ? -ENOBUFS : -ETIMEDOUT;
		if (n < 0)
			return (int)n;
		len = (size_t)n;
		for (nlh = (const struct nlmsghdr *)nl->rx; nl_msg_ok(nlh, len);
		     nlh = nl_msg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != w->seq || !mnl_nlmsg_portid_ok(nlh, nl->portid))
				continue; /* stale: an earlier request's */
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				w->intr = true;
			switch (nlh->nlmsg_type) {
			case NLMSG_NOOP:
				break;
			case NLMSG_ERROR:
				ret = nl_parse_error(nlh, w->err);
				return ret < 0 ? ret : w->trunc;
			case NLMSG_DONE:
				ret = nl_parse_done(nlh, w->err);
				return ret < 0 ? ret : w->trunc;
			default:
				if (nlh->nlmsg_type < NLMSG_MIN_TYPE || w->cb_error || w->intr)
					break;
				if (w->collect)
					ret = nl_dump_collect(nl, nlh);
				else
					ret = w->cb ? w->cb(nlh, w->arg) : 0;
				if (ret < 0)
					w->cb_error = ret;
				break;
			}
		}
	}
}

int nl_talk(struct nl *nl, struct nlmsghdr *msg, nl_dump_cb *cb, void *arg, struct err *err)
{
	struct nl_wait w = { .seq = msg->nlmsg_seq, .cb = cb, .arg = arg, .err = err };
	int ret;

	msg->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	ret = nl_send(nl, msg, msg->nlmsg_len);
	if (ret < 0)
		return err_set(err, ret, "sending netlink request: %s", strerror(-ret));
	ret = nl_wait(nl, &w);
	if (ret == -ETIMEDOUT || ret == -ENOBUFS || ret == -EMSGSIZE)
		err_set(err, ret, "reading netlink answer: %s", strerror(-ret));
	if (ret == 0 && w.cb_error)
		ret = w.cb_error;
	return ret;
}

int nl_request(struct nl *nl, struct nlmsghdr *msg, struct err *err)
{
	return nl_talk(nl, msg, NULL, NULL, err);
}

int nl_dump(struct nl *nl, struct nlmsghdr *msg, nl_dump_cb *cb, void *arg)
{
	struct nl_wait w;
	int ret;

	msg->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
	for (int attempt = 0;; attempt++) {
		/* A fresh seq per attempt: the rest of an interrupted dump is
		 * then recognisably stale. */
		if (attempt > 0) {
			msg->nlmsg_seq = ++nl->seq;
			nl->dump_restarts++;
		}
		memset(&w, 0, sizeof(w));
		w.seq = msg->nlmsg_seq;
		w.collect = true;
		nl->dump_len = 0;
		ret = nl_send(nl, msg, msg->nlmsg_len);
		if (ret < 0)
			return ret;
		/* Always read to the end, even when collecting failed: the
		 * kernel refuses a new dump (EBUSY) while one is running. */
		ret = nl_wait(nl, &w);
		if (w.cb_error)
			return w.cb_error;
		if (ret < 0 && ret != -ENOBUFS)
			return ret;
		if (!w.intr && ret == 0)
			return nl_dump_deliver(nl, cb, arg);
		if (attempt == NL_DUMP_RETRIES)
			return -EINTR;
	}
}

uint32_t nl_portid(const struct nl *nl)
{
	return nl->portid;
}

int nl_fd(const struct nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

void nl_set_ack_cost(struct nl *nl, size_t cost)
{
	nl->ack_cost = cost ? cost : NL_ACK_COST;
}

void nl_set_io(struct nl *nl, const struct nl_io *io)
{
	nl->io = io;
}

unsigned nl_dump_restarts(const struct nl *nl)
{
	return nl->dump_restarts;
}

/* ---- batches ---- */

/* Seal the message being built: it becomes part of the batch. */
static void nl_batch_seal(struct nl *nl)
{
	struct nlmsghdr *nlh;
	size_t len;

	if (nl->batch_open == NL_NONE)
		return;
	nlh = (struct nlmsghdr *)(nl->batch + nl->batch_open);
	len = NLMSG_ALIGN(nlh->nlmsg_len);
	if (len < NLMSG_HDRLEN || len > NL_MSG_MAX) {
		/* A builder wrote past its room or broke the header. */
		nl_batch_cancel(nl);
		return;
	}
	nl->batch_len = nl->batch_open + len;
	nl->batch_n++;
	nl->batch_open = NL_NONE;
}

void nl_batch_cancel(struct nl *nl)
{
	if (nl->batch_open == NL_NONE)
		return;
	memset(nl->batch + nl->batch_open, 0, NL_MSG_MAX);
	nl->batch_open = NL_NONE;
}

struct nlmsghdr *nl_batch_msg(struct nl *nl, uint16_t type, uint16_t flags)
{
	size_t cap;
	uint8_t *p;

	nl_batch_seal(nl);
	if (nl->batch_cap - nl->batch_len < NL_MSG_MAX) {
		if (nl->batch_len + NL_MSG_MAX > NL_BATCH_MAX)
			return NULL;
		cap = nl->batch_cap ? nl->batch_cap * 2 : 64 * 1024;
		if (cap > NL_BATCH_MAX)
			cap = NL_BATCH_MAX;
		p = realloc(nl->batch, cap);
		if (!p)
			return NULL;
		memset(p + nl->batch_cap, 0, cap - nl->batch_cap);
		nl->batch = p;
		nl->batch_cap = cap;
	}
	nl->batch_open = nl->batch_len;
	return nl_msg_init(nl->batch + nl->batch_open, type, flags, ++nl->seq);
}

size_t nl_batch_pending(const struct nl *nl)
{
	return nl->batch_n + (nl->batch_open != NL_NONE);
}

struct nl_batch_run {
	nl_batch_done *done;
	void *arg;
	size_t index; /* of the next request to report */
	int failures;
};

static void nl_batch_report(struct nl_batch_run *run, int error, const struct err *err)
{
	static const struct err none;

	if (error)
		run->failures++;
	if (run->done)
		run->done(run->arg, run->index, error, err ? err : &none);
	run->index++;
}

static size_t nl_batch_next(const struct nl *nl, size_t off)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)(nl->batch + off);

	return off + NLMSG_ALIGN(nlh->nlmsg_len);
}

static uint32_t nl_batch_seq(const struct nl *nl, size_t off)
{
	return ((const struct nlmsghdr *)(nl->batch + off))->nlmsg_seq;
}

/* Report every request in [off, end) with the same error. */
static void nl_batch_fail(struct nl *nl, struct nl_batch_run *run, size_t off, size_t end,
			  int error, const char *what)
{
	struct err e;

	err_set(&e, error, "%s: %s", what, strerror(-error));
	for (; off < end; off = nl_batch_next(nl, off))
		nl_batch_report(run, error, &e);
}

/*
 * Read the ACKs of the chunk [start, end) that was just sent, reporting each
 * request in order. 0 when the chunk is accounted for (ACKs lost to an
 * overrun are reported as -ENOBUFS failures), or a socket -errno after which
 * the rest of the chunk has been reported failed.
 */
static int nl_batch_acks(struct nl *nl, struct nl_batch_run *run, size_t start, size_t end)
{
	const struct nlmsghdr *nlh;
	size_t next = start, off;
	bool drain = false;
	struct err e;
	ssize_t n;
	size_t len;
	int error;

	while (next < end) {
		n = nl_recv(nl, drain ? MSG_DONTWAIT : 0);
		if (n == -ENOBUFS) {
			drain = true;
			/* Smaller chunks for the rest of this commit. */
			if (nl->chunk_msgs > 1)
				nl->chunk_msgs /= 2;
			continue;
		}
		if (n == -EAGAIN && drain) {
			nl_batch_fail(nl, run, next, end, -ENOBUFS, "netlink ACK lost");
			return 0;
		}
		if (n < 0) {
			error = n == -EAGAIN ? -ETIMEDOUT : (int)n;
			nl_batch_fail(nl, run, next, end, error, "reading netlink ACKs");
			return error;
		}
		len = (size_t)n;
		for (nlh = (const struct nlmsghdr *)nl->rx; nl_msg_ok(nlh, len) && next < end;
		     nlh = nl_msg_next(nlh, &len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR || !mnl_nlmsg_portid_ok(nlh, nl->portid))
				continue;
			/* ACKs come in request order; normally this is next. */
			for (off = next; off < end; off = nl_batch_next(nl, off))
				if (nl_batch_seq(nl, off) == nlh->nlmsg_seq)
					break;
			if (off == end)
				continue; /* stale */
			if (off != next) {
				/* Earlier ACKs were overrun. */
				nl_batch_fail(nl, run, next, off, -ENOBUFS, "netlink ACK lost");
			}
			e.msg[0] = '\0';
			error = nl_parse_error(nlh, &e);
			nl_batch_report(run, error, &e);
			next = nl_batch_next(nl, off);
		}
	}
	return 0;
}

static void nl_batch_reset(struct nl *nl)
{
	if (nl->batch_cap > NL_BATCH_KEEP) {
		free(nl->batch);
		nl->batch = NULL;
		nl->batch_cap = 0;
	} else if (nl->batch) {
		memset(nl->batch, 0, nl->batch_len);
	}
	nl->batch_len = 0;
	nl->batch_n = 0;
	nl->batch_open = NL_NONE;
}

int nl_batch_commit(struct nl *nl, nl_batch_done *done, void *arg)
{
	struct nl_batch_run run = { .done = done, .arg = arg };
	size_t off = 0, start, n;
	int sock_error = 0, ret;

	nl_batch_seal(nl);
	if (nl->batch_len) {
		ret = nl_chunk_limits(nl);
		if (ret < 0)
			sock_error = ret;
	}
	while (off < nl->batch_len) {
		start = off;
		for (n = 0; off < nl->batch_len && n < nl->chunk_msgs; n++) {
			size_t next = nl_batch_next(nl, off);

			if (n > 0 && next - start > nl->chunk_bytes)
				break;
			off = next;
		}
		if (sock_error) {
			nl_batch_fail(nl, &run, start, off, sock_error, "netlink socket failed");
			continue;
		}
		ret = nl_send(nl, nl->batch + start, off - start);
		if (ret < 0) {
			sock_error = ret;
			nl_batch_fail(nl, &run, start, off, ret, "sending netlink batch");
			continue;
		}
		ret = nl_batch_acks(nl, &run, start, off);
		if (ret < 0)
			sock_error = ret;
	}
	nl_batch_reset(nl);
	return sock_error ? sock_error : run.failures;
}

/* ---- attribute helpers shared by the object files ---- */

size_t nl_addr_len(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

struct nl_table {
	const struct nlattr **tb;
	uint16_t max;
};

static int nl_table_cb(const struct nlattr *a, void *data)
{
	const struct nl_table *t = data;
	uint16_t type = mnl_attr_get_type(a);

	/* Newer kernels send types we do not know: not an error. */
	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

int nl_parse_attrs(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
		   uint16_t max)
{
	struct nl_table t = { .tb = tb, .max = max };

	memset(tb, 0, sizeof(*tb) * ((size_t)max + 1));
	if (mnl_nlmsg_get_payload_len(nlh) < hdrlen)
		return -EBADMSG;
	if (mnl_attr_parse(nlh, (unsigned)hdrlen, nl_table_cb, &t) < 0)
		return -EBADMSG;
	return 0;
}

int nl_parse_nested(const struct nlattr *nest, const struct nlattr **tb, uint16_t max)
{
	struct nl_table t = { .tb = tb, .max = max };

	memset(tb, 0, sizeof(*tb) * ((size_t)max + 1));
	if (mnl_attr_parse_nested(nest, nl_table_cb, &t) < 0)
		return -EBADMSG;
	return 0;
}

bool nl_attr_addr(const struct nlattr *a, int family, struct ip_addr *ret)
{
	size_t len;

	if (!a)
		return false;
	len = mnl_attr_get_payload_len(a);
	if (family == AF_UNSPEC)
		family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : AF_UNSPEC;
	if (!nl_addr_len(family) || len != nl_addr_len(family))
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->family = (uint8_t)family;
	memcpy(ret->b, mnl_attr_get_payload(a), len);
	return true;
}

bool nl_attr_u32(const struct nlattr *a, uint32_t *ret)
{
	if (!a || mnl_attr_get_payload_len(a) < sizeof(uint32_t))
		return false;
	*ret = mnl_attr_get_u32(a);
	return true;
}

bool nl_attr_u8(const struct nlattr *a, uint8_t *ret)
{
	if (!a || mnl_attr_get_payload_len(a) < sizeof(uint8_t))
		return false;
	*ret = mnl_attr_get_u8(a);
	return true;
}

int nl_put_addr(struct nlmsghdr *nlh, size_t size, uint16_t type, const struct ip_addr *a)
{
	size_t len = nl_addr_len(a->family);

	if (!len)
		return -EINVAL;
	if (!mnl_attr_put_check(nlh, size, type, len, a->b))
		return -EMSGSIZE;
	return 0;
}

void *nl_put_header(struct nlmsghdr *nlh, size_t size, size_t len)
{
	if (nlh->nlmsg_len + MNL_ALIGN(len) > size)
		return NULL;
	return mnl_nlmsg_put_extra_header(nlh, len);
}
