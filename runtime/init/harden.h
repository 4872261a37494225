/* The hardening a spawned process gets before exec (spawn.c's child):
 * the seccomp filter (seccomp.c), the capability sets (caps.c) and the
 * safe creation of its working directory (dir.c).  Pure enough to be unit
 * tested: nothing here depends on the init's state. */
#ifndef GFS_INIT_HARDEN_H
#define GFS_INIT_HARDEN_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

/* --- seccomp (seccomp.c) --- */

/* Builds the filter of unprivileged containers: Docker's default profile
 * (an allow-list, io_uring removed as Docker 25 did) for x86_64 and i386,
 * computed for Docker's default capability set.  What the profile blocks
 * fails with EPERM; clone3 with ENOSYS (so that glibc falls back to
 * clone, whose namespace flags the profile checks); a system call newer
 * than every one the profile names fails with ENOSYS, so that programs
 * fall back as they would on an older kernel; x32 calls kill the process.
 * prog->filter is malloc'd (free it). */
int gfs_seccomp_build(struct sock_fprog *prog, gfs_err *err);

/* Loads that filter, as built by gfs_seccomp_build when gardenfs-init was
 * built (seccomp_load.c), into the calling process: 0 or -errno.  Without
 * no_new_privs the caller needs CAP_SYS_ADMIN in its namespace. */
int init_seccomp_load(void);

/* --- capabilities (caps.c) --- */

/* Docker's default capability set as a mask of CAP_* bits (0xa80425fb). */
uint64_t gfs_caps_default(void);

/* Cuts the bounding set down to keep (a mask); needs CAP_SETPCAP. */
int init_caps_bound(uint64_t keep, gfs_err *err);
/* Sets effective and permitted to want (a subset of what we hold),
 * inheritable to none, and clears the ambient set. */
int init_caps_set(uint64_t want, gfs_err *err);
/* What is in the bounding set, and in the permitted set, now, as masks. */
uint64_t init_caps_bounding(void);
uint64_t init_caps_permitted(void);

/* --- the working directory (dir.c) --- */

/* Makes sure dir exists (absolute, inside the container's root): when it
 * does not, creates the missing components one by one, walking with
 * O_NOFOLLOW|O_DIRECTORY from the root, each new one made with mkdirat and
 * handed to uid:gid with fchown on its own descriptor.  A symlink on the
 * way is refused (ELOOP), so that a user who controls part of the path
 * cannot make root create or chown a directory elsewhere (the class of
 * CVE-2024-45310). */
int init_make_dir(const char *dir, uid_t uid, gid_t gid, gfs_err *err);

/* The components of an absolute path for that walk: "/a//b/./c/" gives
 * "a", "b", "c".  ".." is refused (EINVAL): the walk never goes up.
 * Returns the number of components (0 for "/"), or a negative errno. */
int gfs_path_components(const char *path, char *buf, size_t buflen,
			const char **comps, int max);

#endif
