/* Images: what an overlay lower dir is made from.  A directory is used in
 * place; a tarball or an OCI layout is unpacked once into a cache.  For
 * unprivileged containers a uid/gid-shifted copy is kept per image. */
#ifndef GFS_IMAGE_H
#define GFS_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

struct rt_image {
	char *lower; /* absolute path of the tree to mount read-only */
	char *
	    *env; /* defaults from an OCI config, NULL-terminated, never NULL */
	char *workdir; /* from an OCI config, or NULL */
	char *user;    /* from an OCI config, or NULL */
};

/* Once, before any image is unpacked: the gardenfs-unpack binary
 * (absolute path), which unpacks every tarball and OCI layer in a child.
 * ENOENT/EACCES when it cannot be run. */
int rt_image_setup(const char *helper_path, gfs_err *err);

/* spec: a directory, a tarball, or oci:DIR[:TAG].  cache: a directory for
 * unpacked and shifted trees (DEPOT/images).  shift: ids shifted by base
 * (count ids) for a user namespace. */
int rt_image_prepare(const char *spec, const char *cache, bool shift,
		     uid_t base, uint32_t count, struct rt_image *out,
		     gfs_err *err);
void rt_image_free(struct rt_image *img);

/* Unpacks a tarball or OCI layout (anything that is not a directory) into
 * a new directory under cache, keyed by content, and returns its path and
 * the config defaults.  Implemented in runtime/image_unpack.c. */
int rt_image_unpack(const char *spec, const char *cache, char **dir,
		    struct rt_image *cfg, gfs_err *err);

#endif
