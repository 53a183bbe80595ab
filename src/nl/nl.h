/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NL_NL_H
#define WEFT_NL_NL_H

/*
 * rtnetlink over libmnl: the only code in weft that speaks to the kernel's
 * routing stack. Every request carries NLM_F_ACK and its ACK is read; the
 * extended ACK text, when the kernel sends one, goes into err. Sequence
 * numbers and the port id are checked on every message. Dumps that the
 * kernel marks NLM_F_DUMP_INTR are restarted.
 *
 * Batches send many requests in few sendmsg calls and still check one ACK
 * per request (what makes thousands of peers cheap to program).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;
struct err;
struct nl;

/* Results a caller must look at (iproute2 marks its talk functions so).
 * Deletes are not marked: best-effort cleanup may ignore them. */
#define NL_MUST_CHECK __attribute__((warn_unused_result))

/* Routes weft installs carry this rtm_protocol, so that we only ever remove
 * our own (values 0..4 and the ones iproute2 names in rt_protos are taken). */
#define WEFT_RTPROT 151

NL_MUST_CHECK int nl_open(struct nl **ret);
void nl_close(struct nl *nl);
/* The socket's netlink port id: the kernel's notifications of changes made
 * through it carry it in nlmsg_pid. */
uint32_t nl_portid(const struct nl *nl);

/* Buffer for building one request: nl_msg_start() returns a zeroed nlmsghdr
 * with type and flags (NLM_F_REQUEST | NLM_F_ACK added) and room for
 * NL_MSG_MAX bytes; libmnl's mnl_attr_put* fill it. */
#define NL_MSG_MAX 8192
struct nlmsghdr *nl_msg_start(struct nl *nl, uint16_t type, uint16_t flags);

/* Send the message built by nl_msg_start and wait for its ACK. 0 or -errno;
 * on error err says what the kernel said (extended ACK) if anything. */
NL_MUST_CHECK int nl_request(struct nl *nl, struct nlmsghdr *msg, struct err *err);

/* Send a dump request and call cb for each answer message (cb returns 0 to
 * continue, < 0 to stop with that error). Restarted from the beginning when
 * the kernel reports an interrupted dump (-EINTR after 8 restarts). The
 * answer is collected whole first, so cb sees each entry of one consistent
 * dump exactly once, and may itself use nl. */
typedef int nl_dump_cb(const struct nlmsghdr *nlh, void *arg);
NL_MUST_CHECK int nl_dump(struct nl *nl, struct nlmsghdr *msg, nl_dump_cb *cb, void *arg);

/*
 * Batches: nl_batch_msg() gives the next message slot of the batch (same
 * contract as nl_msg_start); nl_batch_commit() sends everything queued (in
 * chunks as the socket takes them), reads every ACK, and calls done(arg, i,
 * error) for each request i in queue order (error 0 or -errno, with the
 * extended ACK in the err passed to done). Returns the number of failed
 * requests, or a negative errno for a socket failure.
 *
 * done may be NULL; otherwise it is called exactly once per queued request,
 * also after a socket failure (with that error). -ENOBUFS for a request
 * means its ACK was lost to a receive-buffer overrun: the outcome is
 * unknown, and replace/delete requests can simply be queued again. Chunks
 * are sized from the socket buffers so that this should not happen.
 */
struct nlmsghdr *nl_batch_msg(struct nl *nl, uint16_t type, uint16_t flags);
typedef void nl_batch_done(void *arg, size_t index, int error, const struct err *err);
NL_MUST_CHECK int nl_batch_commit(struct nl *nl, nl_batch_done *done, void *arg);
size_t nl_batch_pending(const struct nl *nl);

#endif
