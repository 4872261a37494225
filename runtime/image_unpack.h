/* rt_image_unpack with a say on device nodes, for privileged containers.
 * (runtime/image.h declares the plain rt_image_unpack, which refuses
 * them.) */
#ifndef GFS_IMAGE_UNPACK_H
#define GFS_IMAGE_UNPACK_H

#include <stdbool.h>

#include "runtime/image.h"

/* As rt_image_unpack; with allow_devices, character and block device
 * nodes in the image are made instead of refused.  A tree that holds any
 * is cached apart (cache/<key>-dev), so an unprivileged container never
 * gets it. */
int rt_image_unpack2(const char *spec, const char *cache, bool allow_devices,
		     char **dir, struct rt_image *cfg, gfs_err *err);

#endif
