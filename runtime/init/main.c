/* gardenfs-init's entry: the daemon cloned us into fresh namespaces and
 * exec'd us with the sync socket on fd 3 and the listening socket on fd 4.
 * Our config comes as a packet on fd 3 (runtime/proto.h), never on argv:
 * the container's ps must show a bare "gardenfs-init", no host path.  We
 * build the root, wait until the daemon has put us in our cgroups, make
 * our cgroup namespace, say "ok" (or why not) on fd 3, and serve. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <poll.h>
#include <sched.h>
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

/* Reads the config packet; its fields point into the returned buffer. */
static char *read_config(struct init_cfg *cfg, char ***fields)
{
	char *buf = xmalloc(PROTO_CONFIG_MAX + 1);
	size_t n = 0;
	ssize_t len = proto_recv(PROTO_INIT_SYNC_FD, buf, PROTO_CONFIG_MAX,
				 NULL, NULL, NULL);
	char **f = len > 0 ? proto_split(buf, (size_t)len, &n) : NULL;
	if (!f || n < 5 || strcmp(f[0], "config") != 0) {
		free(f);
		free(buf);
		return NULL;
	}
	cfg->handle = f[1];
	cfg->lower = f[2];
	cfg->dir = f[3];
	cfg->privileged = strcmp(f[4], "1") == 0;
	cfg->binds = f + 5; /* proto_split NULL-terminates */
	cfg->hosts = cfg->resolv = NULL;
	/* after the binds, "--" and KEY VALUE pairs */
	for (size_t i = 5; i < n; i++) {
		if (strcmp(f[i], "--") != 0)
			continue;
		f[i] = NULL;
		for (size_t k = i + 1; k + 1 < n; k += 2) {
			if (strcmp(f[k], "hosts") == 0)
				cfg->hosts = f[k + 1];
			else if (strcmp(f[k], "resolv") == 0)
				cfg->resolv = f[k + 1];
		}
		break;
	}
	*fields = f;
	return buf;
}

/* The daemon moves us into our cgroups while we build the root, and says
 * "cgroup" when that is done; only then is the cgroup we are in the one
 * that a new cgroup namespace must have as its root.  Every process we
 * spawn inherits the namespace, so none of them sees the host's cgroup
 * paths.  We wait for it even when the root failed, so that the daemon,
 * which sends it before it reads our answer, gets that answer and not a
 * broken pipe. */
static int wait_cgroup(gfs_err *err)
{
	char buf[16];
	struct pollfd pf = {PROTO_INIT_SYNC_FD, POLLIN, 0};
	int r = poll(&pf, 1, PROTO_CGROUP_WAIT_MS);
	if (r <= 0)
		return gfs_error(err, ETIMEDOUT,
				 "gardenfs-init: the daemon did not say when "
				 "our cgroups were ready");
	ssize_t n = recv(PROTO_INIT_SYNC_FD, buf, sizeof buf, 0);
	if (n != 7 || memcmp(buf, "cgroup", 7) != 0)
		return gfs_error(err, EPROTO,
				 "gardenfs-init: expected \"cgroup\" from the "
				 "daemon");
	return 0;
}

static int init_cgroupns(gfs_err *err)
{
	if (unshare(CLONE_NEWCGROUP) < 0)
		return gfs_error_sys(err, errno, "making the cgroup namespace");
	return 0;
}

int main(void)
{
	struct init_cfg cfg;
	gfs_err err = {0};
	char **fields = NULL;

	char *buf = read_config(&cfg, &fields);
	if (!buf) {
		report("error 22 gardenfs-init: no config from the daemon");
		return 2;
	}
	gfs_err werr = {0};
	int r = init_rootfs(&cfg, &err);
	if (wait_cgroup(r < 0 ? &werr : &err) < 0 && r == 0)
		r = -err.code;
	if (r == 0)
		r = init_cgroupns(&err);
	if (r < 0) {
		char *line = xasprintf("error %d %s", err.code, err.msg);
		report(line);
		free(line);
		free(fields);
		free(buf);
		return 1;
	}
	if (init_write_etc("hosts", cfg.hosts, &err) < 0 ||
	    init_write_etc("resolv.conf", cfg.resolv, &err) < 0) {
		char *line = xasprintf("error %d %s", err.code, err.msg);
		report(line);
		free(line);
		free(fields);
		free(buf);
		return 1;
	}
	prctl(PR_SET_NAME, "gardenfs-init", 0, 0, 0);
	/* Nobody in the container may ptrace pid 1 or read its memory; its
	 * /proc files become root's. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	report("ok");
	close(PROTO_INIT_SYNC_FD);
	bool priv = cfg.privileged;
	free(fields);
	free(buf);
	return init_serve(PROTO_INIT_LISTEN_FD, priv) < 0 ? 1 : 0;
}
