/* The runtime's side of the disk store: see runtime/store.c. */
#ifndef GFS_RT_STORE_H
#define GFS_RT_STORE_H

#include "lib/err.h"
#include "runtime/rt.h"

/* Opens the store (unless cfg->store_size is 0) and links DEPOT/containers
 * and DEPOT/images into it.  Before anything else of rt_setup. */
int rt_store_setup(const struct rt_config *cfg, gfs_err *err);
/* Makes DIR/data, what a container writes: a subvolume of the store (DIR
 * is DEPOT/containers/H), or a plain directory without a store. */
int rt_store_ctr_dir(const char *dir, gfs_err *err);
/* Removes DIR (in containers/ or trash/) with everything in it, the
 * subvolume and its qgroup too. */
int rt_store_ctr_remove(const char *dir, gfs_err *err);
/* recursive removal (runtime/fsutil.c) */
int rt_rm_rf(const char *path, gfs_err *err);

#endif
