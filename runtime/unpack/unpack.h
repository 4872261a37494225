/* gardenfs-unpack: the child that unpacks one image tarball or OCI layer
 * into a tree of the image cache (the daemon's side is
 * runtime/image_unpack.c).  What its two files share. */
#ifndef GFS_UNPACK_H
#define GFS_UNPACK_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"
#include "runtime/image_proto.h"

/* The descriptors the daemon hands over (runtime/image_proto.h). */
#define UX_ARCHIVE_FD RT_UNPACK_ARCHIVE_FD
#define UX_STATUS_FD  RT_UNPACK_STATUS_FD
#define UX_ROOT_FD    RT_UNPACK_ROOT_FD

/* What an entry costs against the output bound besides its data: about
 * what a file system spends on an inode and a name, so that an archive of
 * millions of empty files is bounded too. */
#define UX_ENTRY_COST 512

struct ux_job {
	bool oci;	  /* a layer: whiteouts apply */
	bool devices;	  /* device nodes are made, not refused */
	uint64_t limit;	  /* the output bound, bytes */
	const char *what; /* names the archive in reasons */
};

/* The decompression filters libarchive runs in-process; one that would
 * fall back to an external program is never enabled (probe once, before
 * the seccomp filter). */
void ux_filters_probe(void);

/* Applies the archive on UX_ARCHIVE_FD to the tree on UX_ROOT_FD. */
int ux_extract(const struct ux_job *j, struct rt_unpack_verdict *res,
	       gfs_err *err);

#endif
