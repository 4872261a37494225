/* Processes: the daemon's half of spawn (user, environment, the files in
 * procs/ID, the request to the init), signals, stop and stdin.  Output
 * goes to files the kernel writes, stdin comes from a FIFO in the depot,
 * so nothing here depends on the daemon staying alive. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/spec.h"
#include "runtime/proto.h"
#include "runtime/rt_priv.h"

#define DEFAULT_PATH                                                           \
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Appends NAME=VALUE entries; a later NAME replaces an earlier one in
 * place, so the order of first appearance is kept. */
static void env_merge(char ***env, size_t *n, char *const *add)
{
	for (; add && *add; add++) {
		const char *eq = strchr(*add, '=');
		size_t k = eq ? (size_t)(eq - *add) : strlen(*add);
		size_t i;
		for (i = 0; i < *n; i++)
			if (strncmp((*env)[i], *add, k) == 0 &&
			    (*env)[i][k] == '=')
				break;
		if (i < *n) {
			free((*env)[i]);
			(*env)[i] = xstrdup(*add);
			continue;
		}
		*env = xrealloc(*env, (*n + 2) * sizeof **env);
		(*env)[(*n)++] = xstrdup(*add);
		(*env)[*n] = NULL;
	}
}

static char **build_env(struct rt_ctr *c, const struct gfs_procspec *spec,
			const struct rt_user *u)
{
	char **env = xcalloc(1, sizeof *env);
	size_t n = 0;
	cleanup_free char *home = xasprintf("HOME=%s", u->home);
	cleanup_free char *user =
	    u->name ? xasprintf("USER=%s", u->name) : NULL;
	char *defs[] = {DEFAULT_PATH, home, user, NULL};

	env_merge(&env, &n, defs);
	env_merge(&env, &n, c->env);
	env_merge(&env, &n, spec->env);
	return env;
}

static int write_small(struct rt_ctr *c, uint32_t id, const char *name,
		       const char *text, gfs_err *err)
{
	cleanup_free char *p = rt_proc_path(c, id, name);
	return gfs_write_file(p, text, strlen(text), err);
}

static void build_request(sbuf *b, uint32_t id, const struct rt_user *u,
			  const char *dir, const struct gfs_procspec *spec,
			  char **env)
{
	proto_add(b, "spawn");
	proto_addu(b, id);
	proto_addu(b, u->uid);
	proto_addu(b, u->gid);
	proto_addu(b, u->ngroups);
	for (size_t i = 0; i < u->ngroups; i++)
		proto_addu(b, u->groups[i]);
	proto_add(b, dir);
	proto_add(b, "1");
	proto_add(b, spec->path);
	proto_addu(b, 1 + gfs_strv_len(spec->args));
	proto_add(b, spec->path);
	for (char **a = spec->args; a && *a; a++)
		proto_add(b, *a);
	proto_addu(b, gfs_strv_len(env));
	for (char **e = env; *e; e++)
		proto_add(b, *e);
	size_t nrl = 0;
	for (int r = 0; r < GFS_RLIM_N; r++)
		nrl += spec->rlim_set[r];
	proto_addu(b, nrl);
	for (int r = 0; r < GFS_RLIM_N; r++) {
		if (!spec->rlim_set[r])
			continue;
		proto_addu(b, (unsigned)gfs_rlim_resource((enum gfs_rlim)r));
		proto_addu(b, spec->rlim[r]);
	}
	/* the optional trailer (runtime/proto.h) */
	proto_add(b, spec->no_new_privs ? "1" : "0");
	proto_add(b, spec->tty ? "1" : "0");
	if (spec->tty) {
		proto_addu(
		    b, (unsigned)(spec->tty_columns ? spec->tty_columns : 80));
		proto_addu(b, (unsigned)(spec->tty_rows ? spec->tty_rows : 24));
	}
}

int rt_reserve_id(struct rt_ctr *c, uint32_t *id, gfs_err *err)
{
	/* spent on disk before anything uses it: ids never repeat */
	char n[16];
	cleanup_free char *next = xasprintf("%s/next-id", c->dir);
	snprintf(n, sizeof n, "%u\n", c->next_id + 1);
	int r = gfs_write_file(next, n, strlen(n), err);
	if (r < 0)
		return r;
	*id = c->next_id++;
	return 0;
}

int rt_spawn(struct rt_ctr *c, const struct gfs_procspec *spec, uint32_t id,
	     const char *name, struct rt_proc **out, gfs_err *err)
{
	struct rt_user u;
	int r;

	if (c->stopped || c->stopping)
		return gfs_error(err, EPERM, "container %s is stopped",
				 c->handle);
	if (c->sock < 0)
		return gfs_error(err, EPERM, "container %s has no init",
				 c->handle);
	if (spec->tty && (spec->tty_columns > 65535 || spec->tty_rows > 65535))
		return gfs_error(err, EINVAL, "window size %dx%d is too large",
				 spec->tty_columns, spec->tty_rows);
	if (!spec->path || !*spec->path)
		return gfs_error(err, EINVAL, "no path to run");
	/* an OCI image's User and WorkingDir are the defaults */
	struct rt_priv *pv = c->priv;
	r = rt_user_resolve(c, spec->user ? spec->user : pv->img_user, &u, err);
	if (r < 0)
		return r;
	const char *dir = spec->dir && *spec->dir ? spec->dir
			  : pv->img_dir		  ? pv->img_dir
						  : u.home;
	if (dir[0] != '/') {
		rt_user_free(&u);
		return gfs_error(err, EINVAL, "dir %s is not absolute", dir);
	}

	if (rt_proc_find(c, id)) {
		rt_user_free(&u);
		return gfs_error(err, EEXIST, "process %u exists", id);
	}
	cleanup_free char *pdir = xasprintf("%s/procs/%u", c->dir, id);
	cleanup_free char *odir = xasprintf("%s/data/out/%u", c->dir, id);
	if (mkdir(pdir, 0700) < 0) {
		rt_user_free(&u);
		return gfs_error_sys(err, errno, "creating %s", pdir);
	}
	if (mkdir(odir, 0700) < 0) {
		rt_user_free(&u);
		r = gfs_error_sys(err, errno, "creating %s", odir);
		rt_rm_rf(pdir, GFS_IGNORE);
		return r;
	}
	cleanup_free char *cmd = gfs_procspec_command(spec);
	cleanup_free char *cmdl = xasprintf("%s\n", cmd);
	cleanup_free char *po = rt_proc_path(c, id, "stdout");
	cleanup_free char *pe = rt_proc_path(c, id, "stderr");
	cleanup_free char *pi = rt_proc_path(c, id, "stdin");
	cleanup_close int fo = -1, fe = -1, fi = -1, fk = -1;
	cleanup_strv char **env = NULL;
	sbuf b = SBUF_INIT;

	int cols = spec->tty_columns ? spec->tty_columns : 80;
	int rows = spec->tty_rows ? spec->tty_rows : 24;
	cleanup_free char *ttyl = xasprintf("%d %d\n", cols, rows);
	r = write_small(c, id, "command", cmdl, err);
	if (r == 0 && name)
		r = write_small(c, id, "name", name, err);
	if (r == 0 && spec->tty)
		r = write_small(c, id, "tty", ttyl, err);
	if (r < 0)
		goto fail;
	fo = open(po, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	fe = open(pe, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fo < 0 || fe < 0) {
		r = gfs_error_sys(err, errno, "creating the output files");
		goto fail;
	}
	if (mkfifo(pi, 0600) < 0) {
		r = gfs_error_sys(err, errno, "creating %s", pi);
		goto fail;
	}
	fi = open(pi, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	/* the keeper holds the FIFO open for writing until "eof", so the
	 * process sees EOF only when asked, not whenever no writer is on */
	fk = open(pi, O_RDWR | O_CLOEXEC);
	if (fi < 0 || fk < 0) {
		r = gfs_error_sys(err, errno, "opening %s", pi);
		goto fail;
	}
	env = build_env(c, spec, &u);
	build_request(&b, id, &u, dir, spec, env);
	if (b.len > PROTO_MSG_MAX - 64) {
		r = gfs_error(err, E2BIG, "arguments and environment too big");
		goto fail;
	}
	int fds[4] = {fi, fk, fo, fe};
	r = rt_send(c, &b, fds, 4, err);
	if (r < 0)
		goto fail;
	struct rt_proc *p = xcalloc(1, sizeof *p);
	p->id = id;
	p->name = name ? xstrdup(name) : xasprintf("%u", id);
	p->state = RT_STARTING;
	p->command = steal_ptr(cmd);
	p->tty = spec->tty;
	p->cols = cols;
	p->rows = rows;
	rt_proc_add(c, p);
	*out = p;
	sbuf_free(&b);
	rt_user_free(&u);
	return 0;
fail:
	sbuf_free(&b);
	rt_user_free(&u);
	rt_rm_rf(pdir, GFS_IGNORE);
	rt_rm_rf(odir, GFS_IGNORE);
	return r;
}

void rt_spawn_abandon(struct rt_ctr *c, struct rt_proc *p, const gfs_err *err)
{
	struct rt_priv *pv = c->priv;
	if (p->state != RT_STARTING)
		return;
	p->state = RT_FAILED;
	p->exited = true;
	p->status = 255;
	p->spawn_err = *err;
	pv->abandoned =
	    xrealloc(pv->abandoned, (pv->nabandoned + 1) * sizeof(uint32_t));
	pv->abandoned[pv->nabandoned++] = p->id;
	/* the init reads in order: a kill now reaches it if it started */
	sbuf b = SBUF_INIT;
	proto_add(&b, "signal");
	proto_addu(&b, p->id);
	proto_addu(&b, 9);
	rt_send(c, &b, NULL, 0, GFS_IGNORE);
	sbuf_free(&b);
}

void rt_proc_forget(struct rt_ctr *c, struct rt_proc *p)
{
	for (size_t i = 0; i < c->nprocs; i++)
		if (c->procs[i] == p) {
			memmove(c->procs + i, c->procs + i + 1,
				(c->nprocs - i - 1) * sizeof *c->procs);
			c->nprocs--;
			break;
		}
	rt_proc_free(p);
}

int rt_proc_remove_files(const char *dir, uint32_t id, gfs_err *err)
{
	cleanup_free char *pdir = xasprintf("%s/procs/%u", dir, id);
	cleanup_free char *odir = xasprintf("%s/data/out/%u", dir, id);
	int r = rt_rm_rf(odir, err);
	int r2 = rt_rm_rf(pdir, r < 0 ? GFS_IGNORE : err);
	return r < 0 ? r : r2;
}

int rt_write_etc(struct rt_ctr *c, const char *name, const char *text,
		 gfs_err *err)
{
	sbuf b = SBUF_INIT;
	proto_add(&b, "etc");
	proto_add(&b, name);
	proto_add(&b, text);
	int r = b.len > PROTO_MSG_MAX - 64
		    ? gfs_error(err, E2BIG, "/etc/%s is too big", name)
		    : rt_send(c, &b, NULL, 0, err);
	sbuf_free(&b);
	return r;
}

int rt_tty_resize(struct rt_ctr *c, struct rt_proc *p, int cols, int rows,
		  gfs_err *err)
{
	if (!p->tty)
		return gfs_error(err, EINVAL, "process %s has no tty", p->name);
	if (p->exited || c->sock < 0)
		return gfs_error(err, ESRCH, "process %s has exited", p->name);
	if (cols <= 0 || rows <= 0 || cols > 65535 || rows > 65535)
		return gfs_error(err, EINVAL, "window size %dx%d out of range",
				 cols, rows);
	cleanup_free char *line = xasprintf("%d %d\n", cols, rows);
	int r = write_small(c, p->id, "tty", line, err);
	if (r < 0)
		return r;
	sbuf b = SBUF_INIT;
	proto_add(&b, "tty");
	proto_addu(&b, p->id);
	proto_addu(&b, (unsigned)cols);
	proto_addu(&b, (unsigned)rows);
	r = rt_send(c, &b, NULL, 0, err);
	sbuf_free(&b);
	if (r == 0) {
		p->cols = cols;
		p->rows = rows;
	}
	return r;
}

int rt_signal(struct rt_ctr *c, struct rt_proc *p, int sig, gfs_err *err)
{
	if (p->exited || c->sock < 0)
		return gfs_error(err, ESRCH, "process %u has exited", p->id);
	sbuf b = SBUF_INIT;
	proto_add(&b, "signal");
	proto_addu(&b, p->id);
	proto_addu(&b, (unsigned)sig);
	int r = rt_send(c, &b, NULL, 0, err);
	sbuf_free(&b);
	return r;
}

int rt_stop(struct rt_ctr *c, bool kill, gfs_err *err)
{
	if (c->stopped)
		return 0;
	sbuf b = SBUF_INIT;
	proto_add(&b, "stop");
	proto_add(&b, kill ? "1" : "0");
	int r = rt_send(c, &b, NULL, 0, err);
	sbuf_free(&b);
	if (r == 0)
		c->stopping = true;
	return r;
}

int rt_stdin_open(struct rt_ctr *c, struct rt_proc *p, gfs_err *err)
{
	cleanup_free char *path = rt_proc_path(c, p->id, "stdin");
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ENXIO)
		return gfs_error(err, EPIPE, "process %u no longer reads stdin",
				 p->id);
	return gfs_error_sys(err, errno, "opening %s", path);
}

int rt_stdin_eof(struct rt_ctr *c, struct rt_proc *p, gfs_err *err)
{
	if (c->sock < 0 || p->exited)
		return 0;
	sbuf b = SBUF_INIT;
	proto_add(&b, "eof");
	proto_addu(&b, p->id);
	int r = rt_send(c, &b, NULL, 0, err);
	sbuf_free(&b);
	return r;
}
