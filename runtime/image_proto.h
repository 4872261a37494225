/* The verdict of gardenfs-unpack (runtime/unpack/) to the daemon
 * (runtime/image_unpack.c), one line on its status pipe:
 *
 *   ok HEX ENTRIES BYTES DEVICES     HEX: the sha256 of every byte of the
 *                                    archive; DEVICES: 1 when a device
 *                                    node was made
 *   error ERRNO REASON
 *
 * Pure: no I/O, so that unit tests reach all of it.  The child's arguments:
 *
 *   gardenfs-unpack oci=0|1 devices=0|1 limit=BYTES limit_ms=N ppid=N
 *                   what=NAME
 */
#ifndef GFS_IMAGE_PROTO_H
#define GFS_IMAGE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* The child's descriptors: the archive (a regular file, read to its end),
 * the status pipe, and the tree to fill (a directory of the cache); 2 is
 * /dev/null. */
#define RT_UNPACK_ARCHIVE_FD 0
#define RT_UNPACK_STATUS_FD  1
#define RT_UNPACK_ROOT_FD    3

/* A record with its newline is at most this long (below PIPE_BUF: written
 * and read whole). */
#define RT_UNPACK_RECORD_MAX 640

struct rt_unpack_verdict {
	char hex[65];
	uint64_t entries, bytes;
	bool devices;
};

/* Each writes one record with its newline into buf (RT_UNPACK_RECORD_MAX
 * bytes) and returns its length.  msg is cut to fit; newlines and control
 * bytes become spaces. */
size_t rt_unpack_record_ok(char *buf, const struct rt_unpack_verdict *v);
size_t rt_unpack_record_error(char *buf, int code, const char *msg);

/* Parses everything the child wrote (len bytes): 0 and *v for "ok"; for
 * "error", the child's errno, negative, with its reason in err; -EPROTO
 * (err filled) for anything else, a missing newline or trailing bytes
 * included. */
int rt_unpack_record_parse(const char *buf, size_t len,
			   struct rt_unpack_verdict *v, gfs_err *err);

#endif
