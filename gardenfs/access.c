/* Access to the mount (--group).
 *
 * Without a group the mount is root's: it is made without allow_other, so
 * the kernel refuses every other user before a request reaches us.  With
 * one it is made with allow_other and default_permissions: every file is
 * the group's, with the owner's permission bits copied to the group's and
 * none for others, so the kernel checks the modes itself (EACCES for
 * others on ls, cat, mkdir); and every request is checked again here,
 * from the sender's ids in fuse_req_ctx, so that a descriptor passed to a
 * non-member does not work either.
 *
 * Members are as good as container root of every unprivileged container
 * (host uid id_base and up), not as host root: privileged containers,
 * bind mounts of host paths and rootfs= (a directory image is copied
 * with the daemon's rights, so rootfs=/root would hand out root's files)
 * stay root's.  A member who asks for one gets EPERM and the reason in
 * errors; a privileged container that root made is listed but not theirs
 * to enter or destroy (its directory shows mode 0500, and every request
 * about it gets EACCES). */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gardenfs/access.h"
#include "lib/buf.h"
#include "lib/parse.h"

static bool grouped;
static gid_t group_gid;
static char *group_name;

int gfs_access_setup(const char *group, gfs_err *err)
{
	grouped = false;
	free(group_name);
	group_name = NULL;
	if (!group)
		return 0;
	struct group gr, *res = NULL;
	char buf[16384];
	int e = getgrnam_r(group, &gr, buf, sizeof buf, &res);
	uint64_t n = 0;
	if (!res && gfs_parse_u64(group, &n, GFS_IGNORE) == 0 &&
	    n < (gid_t)-1) {
		e = getgrgid_r((gid_t)n, &gr, buf, sizeof buf, &res);
	}
	if (!res)
		return gfs_error(err, e ? e : ENOENT, "--group %s: %s", group,
				 e ? strerror(e) : "no such group");
	if (gr.gr_gid == 0)
		return gfs_error(err, EINVAL,
				 "--group %s: gid 0 is root's group already",
				 group);
	grouped = true;
	group_gid = gr.gr_gid;
	group_name = xstrdup(gr.gr_name);
	return 0;
}

const char *gfs_access_mount_opts(void)
{
	return grouped ? "allow_other,default_permissions" : NULL;
}

static bool is_root(fuse_req_t req)
{
	return fuse_req_ctx(req)->uid == 0;
}

/* The sender's groups are its process's (the kernel's default_permissions
 * check looks at the same), not the group file's: a user added to the
 * group is a member once logged in again. */
static bool is_member(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	if (ctx->uid == 0)
		return true;
	if (!grouped)
		return false;
	if (ctx->gid == group_gid)
		return true;
	gid_t small[64];
	gid_t *g = small;
	int n = fuse_req_getgroups(req, 64, small);
	cleanup_free gid_t *big = NULL;
	if (n > 64) {
		big = xcalloc((size_t)n, sizeof *big);
		g = big;
		n = fuse_req_getgroups(req, n, big);
	}
	for (int i = 0; i < n; i++)
		if (g[i] == group_gid)
			return true;
	return false;
}

/* A privileged container is root's: listed at the top, but nothing of
 * it, its directory included, answers anyone else. */
static bool roots_alone(const struct gfs_ref *x)
{
	return x && x->c && x->c->privileged;
}

bool gfs_access_ok(fuse_req_t req, const struct gfs_ref *x)
{
	bool ok = is_member(req);
	if (ok && roots_alone(x))
		ok = is_root(req);
	if (!ok)
		fuse_reply_err(req, EACCES);
	return ok;
}

void gfs_access_stat(const struct gfs_ref *x, struct stat *st)
{
	if (!grouped)
		return;
	mode_t user = st->st_mode & 0700;
	st->st_uid = 0;
	st->st_gid = group_gid;
	st->st_mode = (st->st_mode & ~(mode_t)07777) | user |
		      (roots_alone(x) ? 0 : user >> 3);
}

static int refuse(fuse_req_t req, const char *what, gfs_err *err)
{
	return gfs_error(err, EPERM,
			 "%s is root's alone (uid %u uses the mount as a "
			 "member of group %s)",
			 what, (unsigned)fuse_req_ctx(req)->uid,
			 group_name ? group_name : "-");
}

int gfs_access_create(fuse_req_t req, const struct gfs_createspec *s,
		      gfs_err *err)
{
	if (is_root(req))
		return 0;
	if (s->privileged)
		return refuse(req, "privileged=true", err);
	if (s->binds && s->binds[0])
		return refuse(req, "bind=", err);
	if (s->rootfs)
		return refuse(req, "rootfs=", err);
	return 0;
}

int gfs_access_destroy(fuse_req_t req, const struct gdn_ctr *c, gfs_err *err)
{
	if (is_root(req) || !c->privileged)
		return 0;
	return refuse(req, "destroying a privileged container", err);
}
