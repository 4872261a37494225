/* gardenfs-init's entry: the daemon cloned us into fresh namespaces and
 * exec'd us with the container's config on argv, the sync socket on fd 3
 * and the listening socket on fd 4.  We build the root, say "ok" (or why
 * not) on fd 3, and serve. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/buf.h"
#include "runtime/init/init.h"
#include "runtime/proto.h"

static void report(const char *line)
{
	/* one packet; the daemon reads it with a timeout */
	send(PROTO_INIT_SYNC_FD, line, strlen(line), MSG_NOSIGNAL);
}

int main(int argc, char **argv)
{
	struct init_cfg cfg;
	gfs_err err = {0};

	if (argc < 5) {
		report("error 22 gardenfs-init: bad arguments");
		return 2;
	}
	cfg.handle = argv[1];
	cfg.lower = argv[2];
	cfg.dir = argv[3];
	cfg.privileged = strcmp(argv[4], "1") == 0;
	cfg.binds = argv + 5;

	if (init_rootfs(&cfg, &err) < 0) {
		char *line = xasprintf("error %d %s", err.code, err.msg);
		report(line);
		free(line);
		return 1;
	}
	prctl(PR_SET_NAME, "gardenfs-init", 0, 0, 0);
	/* Nobody in the container may ptrace pid 1 or read its memory; its
	 * /proc files become root's. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	report("ok");
	close(PROTO_INIT_SYNC_FD);
	return init_serve(PROTO_INIT_LISTEN_FD, cfg.privileged) < 0 ? 1 : 0;
}
