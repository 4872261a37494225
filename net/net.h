/* Container networking.  For now: the loopback of a fresh namespace. */
#ifndef GFS_NET_H
#define GFS_NET_H

#include "lib/err.h"

/* Brings "lo" up in the caller's network namespace. */
int net_lo_up(gfs_err *err);

#endif
