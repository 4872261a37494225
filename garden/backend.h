/* The daemon's backend of garden/: containers by runtime/ (see
 * garden/backend.c). */
#ifndef GFS_GARDEN_BACKEND_H
#define GFS_GARDEN_BACKEND_H

#include "garden/garden.h"

#include "net/net.h"

struct bk_config {
	const char *depot;
	uint64_t ready_timeout_ms; /* the init's first answer; 0: 10 s */
	/* networking (net/net.h); net.tag NULL: none */
	struct net_config net;
};

/* After rt_setup and loop_init: the backend, or NULL with err. */
const struct gdn_backend *bk_setup(const struct bk_config *cfg, gfs_err *err);
/* Once the daemon is what it will stay (after daemonizing: its first
 * worker thread starts here). */
void bk_start(void);
/* At daemon exit; with no container left the network goes too. */
void bk_shutdown(bool none_left);

#endif
