/* Who may use the mount: root, and with --group the members of that
 * group.  fs.c calls gfs_access_ok at the top of every operation that
 * acts for a user, nodes.c the two checks of what stays root's. */
#ifndef GFS_ACCESS_H
#define GFS_ACCESS_H

#include <stdbool.h>
#include <sys/stat.h>

#include "gardenfs/gfs.h"
#include "lib/spec.h"

/* Once at start: NULL, root's alone; else a group name (or number) whose
 * members may use the mount too.  ENOENT for an unknown group. */
int gfs_access_setup(const char *group, gfs_err *err);
/* The options the mount needs: "allow_other,default_permissions" with a
 * group, else NULL (the kernel lets nobody but root in). */
const char *gfs_access_mount_opts(void);

/* Replies EACCES to req and returns false when its sender may not act on
 * x (NULL: only the sender is checked). */
bool gfs_access_ok(fuse_req_t req, const struct gfs_ref *x);
/* Owner, group and modes as the kernel must see them to check them. */
void gfs_access_stat(const struct gfs_ref *x, struct stat *st);

/* What makes host root stays root's: EPERM, with the reason, when req's
 * sender is not root and the spec asks for it (privileged=true, bind=,
 * rootfs=), or the container to destroy is privileged. */
int gfs_access_create(fuse_req_t req, const struct gfs_createspec *s,
		      gfs_err *err);
int gfs_access_destroy(fuse_req_t req, const struct gdn_ctr *c, gfs_err *err);

#endif
