/* The private protocol between the daemon (runtime/) and gardenfs-init
 * (runtime/init/), over a SOCK_SEQPACKET unix socket: one message is one
 * packet, a run of NUL-terminated fields, the first of which is the verb.
 * Numbers are decimal.  Both sides include this header; it holds only small
 * inline helpers so that it needs no object file of its own.
 *
 * daemon -> init                            init -> daemon
 *   hello                                     running ID NSPID   (per process)
 *   spawn ID UID GID NG G... DIR MKDIR        exit ID STATUS     (until acked)
 *         PATH ARGC ARGV... ENVC ENV...       ready              (end of hello)
 *         NR (RES VALUE)...                   started ID NSPID +
 *         [NNP [TTY [COLS ROWS]]]                    SCM_CREDENTIALS
 *         + fds: stdin, keeper, stdout, stderr   error ID ERRNO REASON
 *   signal ID SIG   eof ID   ack ID           stopped
 *   tty ID COLS ROWS   stop KILL
 *
 * Optional trailing fields of spawn, absent in older messages:
 *   NNP   "1": no_new_privs before exec; "0" or absent: not.
 *   TTY   "1": the process runs on a pty the init makes (a new session,
 *         the pty its controlling terminal and its stdin, stdout and
 *         stderr); the init copies the master into the stdout file and the
 *         stdin FIFO into the master, and at the FIFO's end writes the
 *         terminal's EOF character.  COLS ROWS: its window size.
 * Fields after the last one the init knows are ignored, so a newer daemon
 * may append more.
 * "tty ID COLS ROWS" resizes a TTY process's window (SIGWINCH).
 * "etc NAME TEXT" (NAME hosts or resolv.conf) writes /etc/NAME. */
#ifndef GFS_RT_PROTO_H
#define GFS_RT_PROTO_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/buf.h"

/* A spawn request carries argv and env; the daemon raises its send buffer
 * so that this much fits in one packet. */
#define PROTO_MSG_MAX (1024 * 1024)
#define PROTO_SNDBUF  (2 * 1024 * 1024)
#define PROTO_MAX_FDS 4

/* Fixed fds of gardenfs-init at exec time. */
#define PROTO_INIT_SYNC_FD   3
#define PROTO_INIT_LISTEN_FD 4
/* The directories its root is made of, O_PATH, opened in its own mount
 * namespace before it became the container's root (runtime/reaper.c): the
 * image (the overlay's lower dir), data/upper, data/work and the mount
 * point rootfs/.  The depot is root's and 0700: the container's root
 * could not walk to them by path.  The init closes them once mounted. */
#define PROTO_INIT_LOWER_FD  5
#define PROTO_INIT_UPPER_FD  6
#define PROTO_INIT_WORK_FD   7
#define PROTO_INIT_ROOTFS_FD 8
#define PROTO_INIT_NLAYERS   4
/* The first packet on the sync socket, once the id maps are written:
 *   g LOWER UPPER WORK ROOTFS      (absolute paths, in this order)
 * read by the clone child before it execs the init. */
#define PROTO_INIT_GO_MAX (4 * 4096 + 16)

/* The init's config comes as one packet on the sync socket, not on its
 * command line, so that the container's ps shows no host path:
 *   config HANDLE LOWER DIR PRIVILEGED(0|1) BIND...
 * It must fit the socketpair's default send buffer.  Once the daemon has
 * moved the init into its cgroups it sends one more packet, "cgroup", on
 * the same socket: only then does the init make its cgroup namespace
 * (whose root is the cgroup it is in at that moment) and answer "ok". */
#define PROTO_CONFIG_MAX (128 * 1024)
/* How long the init waits for "cgroup" (the daemon waits longer for
 * "ok"). */
#define PROTO_CGROUP_WAIT_MS 8000

static inline void proto_add(sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s) + 1);
}

static inline void proto_addu(sbuf *b, unsigned long long v)
{
	char n[24];
	int len = snprintf(n, sizeof n, "%llu", v);
	sbuf_add(b, n, (size_t)len + 1);
}

static inline void proto_addi(sbuf *b, long long v)
{
	char n[24];
	int len = snprintf(n, sizeof n, "%lld", v);
	sbuf_add(b, n, (size_t)len + 1);
}

/* Splits a received packet into its fields (pointers into buf).  A packet
 * whose last byte is not NUL is malformed: NULL. */
static inline char **proto_split(char *buf, size_t len, size_t *n)
{
	size_t count = 0;

	if (len == 0 || buf[len - 1] != '\0')
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			count++;
	char **f = xcalloc(count + 1, sizeof *f);
	size_t k = 0;
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		f[k++] = buf + i;
	*n = count;
	return f;
}

/* Strict decimal field; false when it is not one. */
static inline bool proto_num(const char *s, unsigned long long max,
			     unsigned long long *out)
{
	unsigned long long v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return true;
}

/* Sends one packet with optional fds and credentials.  Returns 0 or a
 * negative errno (-EAGAIN on a full nonblocking socket). */
static inline int proto_send(int sock, const void *buf, size_t len,
			     const int *fds, size_t nfds,
			     const struct ucred *cred)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS) +
		       CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {0};
	size_t space = 0;

	memset(&u, 0, sizeof u);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > PROTO_MAX_FDS)
		return -EINVAL;
	if (nfds)
		space += CMSG_SPACE(sizeof(int) * nfds);
	if (cred)
		space += CMSG_SPACE(sizeof *cred);
	if (space) {
		mh.msg_control = u.b;
		mh.msg_controllen = space;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (nfds) {
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
			cm = CMSG_NXTHDR(&mh, cm);
		}
		if (cred) {
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_CREDENTIALS;
			cm->cmsg_len = CMSG_LEN(sizeof *cred);
			memcpy(CMSG_DATA(cm), cred, sizeof *cred);
		}
	}
	for (;;) {
		ssize_t r = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (r >= 0)
			return (size_t)r == len ? 0 : -EMSGSIZE;
		if (errno != EINTR)
			return -errno;
	}
}

/* Receives one packet into buf (cap bytes; one more is written: a NUL so
 * that a bad packet cannot run off).  Returns its length, 0 at EOF, or a
 * negative errno.  Received fds (CLOEXEC) go to fds/nfds (at most
 * PROTO_MAX_FDS; extras are closed), credentials to cred when given. */
static inline ssize_t proto_recv(int sock, char *buf, size_t cap, int *fds,
				 size_t *nfds, struct ucred *cred)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 16) +
		       CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {buf, cap};
	struct msghdr mh = {0};
	ssize_t r;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.b;
	mh.msg_controllen = sizeof u.b;
	if (nfds)
		*nfds = 0;
	if (cred)
		cred->pid = 0;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
	     cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SCM_RIGHTS) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int got[16];
			memcpy(got, CMSG_DATA(cm), k * sizeof(int));
			for (size_t i = 0; i < k; i++) {
				if (fds && nfds && *nfds < PROTO_MAX_FDS)
					fds[(*nfds)++] = got[i];
				else
					close(got[i]);
			}
		} else if (cm->cmsg_type == SCM_CREDENTIALS && cred) {
			memcpy(cred, CMSG_DATA(cm), sizeof *cred);
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (size_t i = 0; nfds && i < *nfds; i++)
			close(fds[i]);
		if (nfds)
			*nfds = 0;
		return -EMSGSIZE;
	}
	buf[r] = '\0';
	return r;
}

#endif
