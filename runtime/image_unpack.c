/* Unpacking tarballs and OCI layouts into the image cache: not yet. */
#include <errno.h>

#include "runtime/image.h"

int rt_image_unpack(const char *spec, const char *cache, char **dir,
		    struct rt_image *cfg, gfs_err *err)
{
	(void)cache;
	(void)dir;
	(void)cfg;
	return gfs_error(err, ENOTSUP, "image %s: only directories are supported so far", spec);
}
