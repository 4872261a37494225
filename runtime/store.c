/* The runtime's use of the disk store (quota/): opened once at start; each
 * container's directory DEPOT/containers/H is a subvolume of it, so that
 * the container's writable layer, its process output and its state count
 * against its disk limit, and destroy is one subvolume deletion.
 *
 * With a store, DEPOT/containers and DEPOT/images are symbolic links to
 * store/containers and store/images, so every path of the runtime stays as
 * it was; without one (--store-size 0) they are plain directories. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "quota/quota.h"
#include "runtime/rt.h"
#include "runtime/rt_priv.h"
#include "runtime/store.h"

static struct quota_store *store;

struct quota_store *rt_store(void)
{
	return store;
}

/* DEPOT/NAME -> store/NAME, made once; an existing plain directory (a depot
 * from before the store) is left as it is and the store is not used. */
static int link_into_store(const char *depot, const char *name, gfs_err *err)
{
	cleanup_free char *target =
	    xasprintf("%s/%s", quota_store_path(store), name);
	if (mkdir(target, 0700) < 0 && errno != EEXIST)
		return gfs_error_sys(err, errno, "creating %s", target);
	if (chmod(target, 0700) < 0)
		return gfs_error_sys(err, errno, "chmod 0700 %s", target);
	cleanup_free char *link = xasprintf("%s/%s", depot, name);
	cleanup_free char *rel = xasprintf("store/%s", name);
	struct stat st;
	if (lstat(link, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			return 0;
		return gfs_error(err, EEXIST,
				 "%s is a directory of a depot without a store",
				 link);
	}
	if (symlink(rel, link) < 0)
		return gfs_error_sys(err, errno, "linking %s", link);
	return 0;
}

int rt_store_setup(const struct rt_config *cfg, gfs_err *err)
{
	if (cfg->store_size == 0)
		return 0;
	int r = quota_store_open(cfg->depot, cfg->store_size, &store, err);
	if (r < 0)
		return gfs_error_wrap(err, "disk store");
	/* root's alone, like the depot (see rt_setup) */
	if (chmod(quota_store_path(store), 0700) < 0) {
		r = gfs_error_sys(err, errno, "chmod 0700 %s",
				  quota_store_path(store));
		quota_store_close(store, false, GFS_IGNORE);
		store = NULL;
		return r;
	}
	r = link_into_store(cfg->depot, "containers", err);
	if (r == 0)
		r = link_into_store(cfg->depot, "images", err);
	if (r == 0)
		r = link_into_store(cfg->depot, "trash", err);
	if (r < 0) {
		quota_store_close(store, false, GFS_IGNORE);
		store = NULL;
		return gfs_error_wrap(err, "disk store");
	}
	return 0;
}

/* The data subvolume of the container directory dir, by its name in the
 * store: "containers/H/data" for a live one, "trash/T/data" for one
 * being destroyed (the last two components of dir). */
static char *subvol_name(const char *dir)
{
	const char *s = dir + strlen(dir);
	int slashes = 0;
	while (s > dir && slashes < 2)
		if (*--s == '/')
			slashes++;
	return xasprintf("%s/data", slashes == 2 ? s + 1 : s);
}

int rt_store_ctr_dir(const char *dir, gfs_err *err)
{
	cleanup_free char *data = xasprintf("%s/data", dir);
	if (!store)
		return mkdir(data, 0700) < 0
			   ? gfs_error_sys(err, errno, "creating %s", data)
			   : 0;
	cleanup_free char *name = subvol_name(dir);
	int r = quota_subvol_create(store, name, NULL, err);
	if (r < 0)
		return r;
	if (chmod(data, 0700) < 0)
		return gfs_error_sys(err, errno, "chmod 0700 %s", data);
	return 0;
}

int rt_store_ctr_remove(const char *dir, gfs_err *err)
{
	if (store) {
		cleanup_free char *name = subvol_name(dir);
		int r = quota_subvol_destroy(store, name, err);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	/* the state beside it, or everything without a store */
	return rt_rm_rf(dir, err);
}

int rt_disk_limit(struct rt_ctr *c, uint64_t bytes, gfs_err *err)
{
	if (!store)
		return gfs_error(
		    err, ENOTSUP,
		    "the depot has no disk store (--store-size 0)");
	cleanup_free char *name = subvol_name(c->dir);
	return quota_set_limit(store, name, bytes, err);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int rt_disk_usage(struct rt_ctr *c, uint64_t *bytes, uint64_t *inodes,
		  gfs_err *err)
{
	*bytes = *inodes = 0;
	if (!store)
		return 0;
	struct rt_priv *pv = c->priv;
	cleanup_free char *name = subvol_name(c->dir);
	/* bytes from the qgroup: one item, cheap */
	int r = quota_usage(store, name, bytes, NULL, err);
	if (r < 0)
		return r;
	/* inodes: a walk of the subvolume's metadata; a big tree's count is
	 * kept for a while (RT_DISK_STALE_MS) */
	uint64_t now = mono_ms();
	if (pv->disk_at && now - pv->disk_at < RT_DISK_STALE_MS) {
		*inodes = pv->disk_inodes;
		return 0;
	}
	r = quota_usage(store, name, NULL, inodes, err);
	if (r < 0)
		return r;
	uint64_t took = mono_ms() - now;
	pv->disk_inodes = *inodes;
	pv->disk_at = took >= RT_DISK_SLOW_MS ? now : 0;
	return 0;
}

uint64_t rt_disk_capacity(void)
{
	uint64_t bytes = 0;
	if (store && quota_store_size(store, &bytes, GFS_IGNORE) == 0)
		return bytes;
	return 0;
}

void rt_shutdown(bool unmount)
{
	rt_reaper_close();
	if (!store)
		return;
	gfs_err err = {0};
	quota_store_close(store, unmount, &err);
	store = NULL;
}
