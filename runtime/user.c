/* Resolving a process's user from the container's own /etc/passwd and
 * /etc/group.  The daemon reads them through the init's root with
 * RESOLVE_IN_ROOT, so an image's symlinks cannot point us at host files,
 * and no container code runs to answer. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/rt_priv.h"

#define ETC_MAX (4 << 20)

/* The file's text, or NULL when it is missing or not a regular file (a
 * FIFO there must not hang the daemon). */
static char *read_etc(int root, const char *path)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	cleanup_close int fd =
	    (int)syscall(SYS_openat2, root, path, &how, sizeof how);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > ETC_MAX)
		return NULL;
	sbuf b = SBUF_INIT;
	char chunk[8192];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof chunk)) > 0 && b.len < ETC_MAX)
		sbuf_add(&b, chunk, (size_t)n);
	return sbuf_steal(&b);
}

/* Splits one colon-separated line into at most max fields, in place. */
static size_t fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

static bool parse_id(const char *s, uint32_t *out)
{
	char *end;
	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || errno || v >= UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Finds a passwd entry by name (or by uid when name is NULL). */
static bool passwd_find(char *text, const char *name, uid_t uid,
			struct rt_user *u)
{
	char *save = NULL;
	for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *f[7];
		uint32_t id, gid;
		if (fields(l, f, 7) < 7 || !parse_id(f[2], &id) ||
		    !parse_id(f[3], &gid))
			continue;
		if (name ? strcmp(f[0], name) != 0 : id != uid)
			continue;
		u->uid = id;
		u->gid = gid;
		u->name = xstrdup(f[0]);
		u->home = xstrdup(f[5][0] ? f[5] : "/");
		return true;
	}
	return false;
}

/* The gid of a group name, and the supplementary groups of user. */
static void group_scan(char *text, const char *user, const char *gname,
		       bool *gfound, gid_t *gid, struct rt_user *u)
{
	char *save = NULL;
	for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *f[4];
		uint32_t id;
		if (fields(l, f, 4) < 4 || !parse_id(f[2], &id))
			continue;
		if (gname && strcmp(f[0], gname) == 0 && !*gfound) {
			*gfound = true;
			*gid = id;
		}
		if (!user)
			continue;
		char *s2 = NULL;
		for (char *m = strtok_r(f[3], ",", &s2); m;
		     m = strtok_r(NULL, ",", &s2)) {
			if (strcmp(m, user) != 0)
				continue;
			u->groups = xrealloc(u->groups,
					     (u->ngroups + 1) * sizeof(gid_t));
			u->groups[u->ngroups++] = id;
			break;
		}
	}
}

void rt_user_free(struct rt_user *u)
{
	free(u->groups);
	free(u->name);
	free(u->home);
	memset(u, 0, sizeof *u);
}

int rt_user_resolve(struct rt_ctr *c, const char *spec, struct rt_user *u,
		    gfs_err *err)
{
	cleanup_free char *copy = xstrdup(spec && *spec ? spec : "root");
	cleanup_free char *passwd = NULL, *group = NULL;
	char *gpart = strchr(copy, ':');
	uint32_t id;

	memset(u, 0, sizeof *u);
	if (gpart)
		*gpart++ = '\0';
	cleanup_close int root = rt_root_fd(c, err);
	if (root < 0)
		return root;
	passwd = read_etc(root, "etc/passwd");
	group = read_etc(root, "etc/group");

	if (parse_id(copy, &id)) {
		cleanup_free char *p = passwd ? xstrdup(passwd) : NULL;
		if (!passwd_find(p, NULL, id, u)) {
			/* a number need not be in passwd (as in runc) */
			u->uid = id;
			u->gid = 0;
			u->home = xstrdup("/");
		}
	} else {
		cleanup_free char *p = passwd ? xstrdup(passwd) : NULL;
		if (!passwd_find(p, copy, 0, u)) {
			if (strcmp(copy, "root") == 0 && !passwd) {
				/* an image without /etc/passwd still has root
				 */
				u->uid = u->gid = 0;
				u->name = xstrdup("root");
				u->home = xstrdup("/root");
			} else {
				rt_user_free(u);
				return gfs_error(err, ENOENT,
						 "user %s not found in the "
						 "container's /etc/passwd",
						 copy);
			}
		}
	}
	bool gfound = false;
	gid_t gid = u->gid;
	cleanup_free char *g = group ? xstrdup(group) : NULL;
	const char *gname = gpart && !parse_id(gpart, &id) ? gpart : NULL;
	group_scan(g, u->name, gname, &gfound, &gid, u);
	if (gpart) {
		if (parse_id(gpart, &id)) {
			u->gid = id;
		} else if (gfound) {
			u->gid = gid;
		} else {
			rt_user_free(u);
			return gfs_error(
			    err, ENOENT,
			    "group %s not found in the container's "
			    "/etc/group",
			    gpart);
		}
	}
	/* the primary group is a member too, as initgroups(3) has it */
	bool has = false;
	for (size_t i = 0; i < u->ngroups; i++)
		has = has || u->groups[i] == u->gid;
	if (!has) {
		u->groups =
		    xrealloc(u->groups, (u->ngroups + 1) * sizeof(gid_t));
		memmove(u->groups + 1, u->groups, u->ngroups * sizeof(gid_t));
		u->groups[0] = u->gid;
		u->ngroups++;
	}
	if (u->uid >= rt_cfg.id_count && !c->privileged) {
		uid_t bad = u->uid;
		rt_user_free(u);
		return gfs_error(err, EINVAL,
				 "uid %u is not mapped in the container",
				 (unsigned)bad);
	}
	return 0;
}
