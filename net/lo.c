/* The loopback of a fresh network namespace: down until someone brings it
 * up.  gardenfs-init calls this inside the container, so it stays small and
 * static-friendly (an ioctl, no netlink library). */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/err.h"
#include "net/net.h"

int net_lo_up(gfs_err *err)
{
	struct ifreq ifr;
	cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return gfs_error_sys(err, errno, "socket for lo");
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return gfs_error_sys(err, errno, "getting the flags of lo");
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return gfs_error_sys(err, errno, "bringing lo up");
	return 0;
}
