/* quota: the depot's disk store.  A btrfs file system (the depot's own, or
 * a sparse file loop-mounted at DEPOT/store) holding one subvolume per
 * container, each with a qgroup whose limit is the container's hard disk
 * limit and whose counters are its disk usage.  Everything is done with
 * btrfs ioctls; the only command ever run is mkfs.btrfs, once per depot.
 *
 * Limits are on referenced bytes (BTRFS_QGROUP_LIMIT_MAX_RFER): everything a
 * subvolume points at counts, shared extents (reflinks, snapshots) included.
 * Exclusive bytes would let a container's usage change when some other
 * subvolume is deleted, and let reflinked data escape the limit.
 *
 * Freshness: btrfs accounts qgroups at transaction commit, so usage and
 * inode counts are as of the last commit (at most the commit interval,
 * 30 s by default, behind; a `sync` anywhere commits).  Limits are enforced
 * at write time against reserved space, so they are never behind. */
#ifndef GFS_QUOTA_H
#define GFS_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/err.h"

struct quota_store;

/* Opens (creating on first use) the store of depot.  If depot is on btrfs,
 * subvolumes live in DEPOT/store, a plain directory.  Otherwise DEPOT/store
 * is a mount of DEPOT/store.img, a sparse file of size bytes formatted once
 * with mkfs.btrfs and attached to a loop device with autoclear; an existing
 * btrfs mount at DEPOT/store (from an earlier run) is used as it is, and
 * an existing store.img keeps its size.  Quotas are enabled in both cases.
 * The mount is private and lives in the caller's mount namespace. */
int quota_store_open(const char *depot, uint64_t size, struct quota_store **out,
		     gfs_err *err);

/* Frees the store.  With unmount (ask only when no container is left), a
 * loop-backed store is unmounted and its loop device freed; EBUSY when
 * something still uses it, and then the store is freed anyway. */
int quota_store_close(struct quota_store *s, bool unmount, gfs_err *err);

/* Where subvolumes live (DEPOT/store), owned by the store. */
const char *quota_store_path(const struct quota_store *s);

/* The store's size in bytes (the sum of its devices' sizes). */
int quota_store_size(struct quota_store *s, uint64_t *bytes, gfs_err *err);

/* Creates subvolume name (one path component) in the store; *path (when
 * path is not NULL) gets its absolute path, to free.  Its qgroup is
 * 0/<subvolume id>, made by the kernel.  EEXIST when it is there. */
int quota_subvol_create(struct quota_store *s, const char *name, char **path,
			gfs_err *err);

/* Deletes subvolume name with everything in it (nested subvolumes too),
 * waits for btrfs to drop it, and removes its qgroup.  ENOENT when there is
 * no such subvolume. */
int quota_subvol_destroy(struct quota_store *s, const char *name, gfs_err *err);

/* Sets the hard limit on the bytes subvolume name refers to; 0 removes it.
 * Writes past it fail with EDQUOT. */
int quota_set_limit(struct quota_store *s, const char *name, uint64_t bytes,
		    gfs_err *err);

/* Usage of subvolume name: referenced bytes from its qgroup, and the number
 * of inodes in it (its root directory included).  Either pointer may be
 * NULL.  Counting inodes walks the subvolume's metadata with tree searches,
 * about 7 ms per 10,000 files here (50,000 in 34 ms), and sees what
 * was committed (see above);
 * pass inodes NULL to skip it. */
int quota_usage(struct quota_store *s, const char *name, uint64_t *bytes,
		uint64_t *inodes, gfs_err *err);

/* Snapshots the subvolume at src (any path on the store's file system that
 * is a subvolume's root) as a new writable subvolume dst_name in the store:
 * a cheap copy, e.g. for a uid-shifted image.  *path as above. */
int quota_snapshot(struct quota_store *s, const char *src, const char *dst_name,
		   char **path, gfs_err *err);

/* Helpers on any btrfs directory, for callers outside the store (the image
 * cache): whether fd is on btrfs, is a subvolume's root; making and deleting
 * subvolume name in directory dirfd (deletion does not wait for the space
 * and leaves the qgroup to the kernel's own cleanup). */
bool quota_is_btrfs(int fd);
bool quota_is_subvol(int fd);
int quota_subvol_make_at(int dirfd, const char *name, gfs_err *err);
int quota_subvol_remove_at(int dirfd, const char *name, gfs_err *err);

#endif
