/* Loading the seccomp filter of unprivileged containers into a spawned
 * child.  The program itself was made by libseccomp when gardenfs-init was
 * built (runtime/init/seccomp.c, tools/mkseccomp.c): it is the same one a
 * statically linked libseccomp would make at run time, without the cost. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/init/harden.h"
#include "seccomp_filter.h" /* build/gen: gfs_seccomp_filter[] */

int init_seccomp_load(void)
{
	struct sock_fprog prog = {
	    .len = (unsigned short)(sizeof gfs_seccomp_filter /
				    sizeof gfs_seccomp_filter[0]),
	    .filter = (struct sock_filter *)gfs_seccomp_filter,
	};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}
