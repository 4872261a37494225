/* What each file of the tree says and does: one row per node type and its
 * handlers (Plan 9's Dirtab plus the `case`s of devproc.c).  A new file is
 * a row here, a type in gfs.h and a place in a table of fs.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "gardenfs/gfs.h"
#include "lib/parse.h"
#include "lib/spec.h"

int gfs_render_ping(struct gfs_ctx *x, sbuf *out, gfs_err *err)
{
	(void)x;
	(void)err;
	if (access(gfs.opt.depot, W_OK) < 0)
		sbuf_printf(out, "depot %s is not writable: %m\n",
			    gfs.opt.depot);
	else if (gfs.nctrs >= gfs.opt.max_containers)
		sbuf_printf(out, "all %llu containers are in use\n",
			    (unsigned long long)gfs.opt.max_containers);
	else
		sbuf_adds(out, "ok\n");
	return 0;
}

static uint64_t mem_total(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long kb = 0;
	if (f) {
		char line[256];
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
				break;
		fclose(f);
	}
	return kb * 1024;
}

int gfs_render_capacity(struct gfs_ctx *x, sbuf *out, gfs_err *err)
{
	(void)x;
	struct statvfs sv;
	if (statvfs(gfs.opt.depot, &sv) < 0)
		return gfs_error_sys(err, errno, "statvfs %s", gfs.opt.depot);
	sbuf_printf(out, "memory_in_bytes %llu\n",
		    (unsigned long long)mem_total());
	/* the store's size when there is one, else the depot's file system */
	uint64_t disk = gfs_disk_capacity();
	if (!disk)
		disk = (uint64_t)sv.f_blocks * sv.f_frsize;
	sbuf_printf(out, "disk_in_bytes %llu\n", (unsigned long long)disk);
	sbuf_printf(out, "max_containers %llu\n",
		    (unsigned long long)gfs.opt.max_containers);
	return 0;
}

int gfs_render_toperrors(struct gfs_ctx *x, sbuf *out, gfs_err *err)
{
	(void)x;
	(void)err;
	gfs_errlog_render(&gfs.errors, out);
	return 0;
}

/* ctl: `create KEY=VALUE ...` and `destroy H` (Plan 9's Cmdtab). */
static int ctl_create(char **words, struct gfs_fh *fh, gfs_err *err)
{
	struct gfs_createspec cs;
	int r = gfs_createspec_parse(words + 1, &cs, err);
	if (r < 0)
		return r;
	char gen[32];
	const char *handle = cs.handle;
	if (!handle) {
		/* generated: short, unique in this daemon's life and depot */
		static unsigned long long seq;
		do
			snprintf(gen, sizeof gen, "c%llx-%llx",
				 (unsigned long long)gfs_now_ms(), ++seq);
		while (gfs_ctr_find(gen));
		handle = gen;
	}
	if (cs.network || cs.bandwidth) {
		const char *k = cs.network ? "network" : "bandwidth";
		gfs_createspec_free(&cs);
		return gfs_error(err, EINVAL,
				 "create: %s= is not supported yet", k);
	}
	struct rt_create rc = {
	    .handle = handle,
	    .rootfs = cs.rootfs,
	    .privileged = cs.privileged,
	    .env = cs.env,
	    .binds = cs.binds,
	};
	struct gfs_ctr *c;
	r = gfs_ctr_create(handle, &rc, cs.props, cs.grace_set, cs.grace, &c,
			   err);
	/* initial limits: all of them or no container */
	struct {
		bool set;
		enum gfs_type t;
		uint64_t v;
	} lim[] = {{cs.memory_set, T_LMEMORY, cs.memory},
		   {cs.cpu_set, T_LCPU, cs.cpu},
		   {cs.pids_set, T_LPIDS, cs.pids}};
	if (r == 0 && cs.disk && gfs_apply_disk(c, cs.disk, err) < 0) {
		gfs_err e2 = {0};
		gfs_ctr_destroy(c, &e2);
		r = gfs_error_wrap(err, "create %s", handle);
	}
	for (size_t i = 0; r == 0 && i < sizeof lim / sizeof *lim; i++) {
		if (!lim[i].set)
			continue;
		r = gfs_set_limit(c, lim[i].t, lim[i].v, err);
		if (r < 0) {
			gfs_err e2 = {0};
			gfs_ctr_destroy(c, &e2);
			gfs_error_wrap(err, "create %s", handle);
		}
	}
	if (r == 0) {
		sbuf_reset(&fh->answer);
		fh->answer_off = 0;
		sbuf_printf(&fh->answer, "%s\n", handle);
	}
	gfs_createspec_free(&cs);
	return r;
}

static int ctl_destroy(char **words, struct gfs_fh *fh, gfs_err *err)
{
	(void)fh;
	if (!words[1] || words[2])
		return gfs_error(err, EINVAL, "usage: destroy HANDLE");
	struct gfs_ctr *c = gfs_ctr_find(words[1]);
	if (!c)
		return gfs_error(err, ENOENT, "destroy: no container %s",
				 words[1]);
	return gfs_ctr_destroy(c, err);
}

static const struct {
	const char *verb;
	int (*fn)(char **words, struct gfs_fh *fh, gfs_err *err);
} ctl_verbs[] = {
    {"create", ctl_create},
    {"destroy", ctl_destroy},
};

int gfs_write_ctl(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		  size_t len, gfs_err *err)
{
	(void)x;
	cleanup_free char *cmd = NULL;
	int r = gfs_command(buf, len, &cmd, err);
	if (r < 0)
		return gfs_error_wrap(err, "ctl");
	cleanup_strv char **words = NULL;
	r = gfs_split_words(cmd, &words, err);
	if (r < 0)
		return gfs_error_wrap(err, "ctl");
	if (!words[0])
		return gfs_error(err, EINVAL, "ctl: empty command");
	for (size_t i = 0; i < sizeof ctl_verbs / sizeof *ctl_verbs; i++)
		if (strcmp(words[0], ctl_verbs[i].verb) == 0)
			return ctl_verbs[i].fn(words, fh, err);
	return gfs_error(err, EINVAL,
			 "ctl: unknown verb '%.64s' (create, destroy)",
			 words[0]);
}

static const char *ctr_state(struct gfs_ctr *c)
{
	return c->rt->stopped ? "stopped" : "active";
}

int gfs_render_info(struct gfs_ctx *x, sbuf *out, gfs_err *err)
{
	(void)err;
	struct gfs_ctr *c = x->c;
	sbuf_printf(out, "state %s\n", ctr_state(c));
	sbuf_adds(out, "events");
	const char *e = c->events.s ? c->events.s : "";
	sbuf_addc(out, ' ');
	for (const char *p = e; *p; p++) {
		if (*p == '\n') {
			if (p[1])
				sbuf_addc(out, ' ');
		} else {
			sbuf_addc(out, *p);
		}
	}
	sbuf_addc(out, '\n');
	/* networking is another issue: the keys are there, empty */
	sbuf_adds(out, "host_ip \ncontainer_ip \nexternal_ip \n");
	sbuf_printf(out, "container_path %s\n", c->rt->dir);
	sbuf_adds(out, "process_ids ");
	bool first = true;
	for (size_t i = 0; i < c->rt->nprocs; i++) {
		struct rt_proc *p = c->rt->procs[i];
		if (p->exited)
			continue;
		sbuf_printf(out, first ? "%u" : " %u", p->id);
		first = false;
	}
	sbuf_addc(out, '\n');
	sbuf_adds(out, "mapped_ports \n");
	return 0;
}

int gfs_render_events(struct gfs_ctx *x, sbuf *out, gfs_err *err)
{
	(void)err;
	if (x->c->events.len)
		sbuf_add(out, x->c->events.s, x->c->events.len);
	return 0;
}

int gfs_render_errors(struct gfs_ctx *x, sbuf *out, gfs_err *err)
{
	(void)err;
	gfs_errlog_render(&x->c->errors, out);
	return 0;
}

int gfs_render_grace(struct gfs_ctx *x, sbuf *out, gfs_err *err)
{
	(void)err;
	sbuf_printf(out, "%llu\n", (unsigned long long)x->c->grace);
	return 0;
}

int gfs_write_grace(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		    size_t len, gfs_err *err)
{
	(void)fh;
	cleanup_free char *cmd = NULL;
	uint64_t v;
	int r = gfs_command(buf, len, &cmd, err);
	if (r == 0)
		r = gfs_parse_u64(cmd, &v, err);
	if (r == 0 && v > 100ULL * 365 * 24 * 3600)
		r = gfs_error(err, EINVAL, "%llu seconds is over a century",
			      (unsigned long long)v);
	if (r < 0)
		return gfs_error_wrap(err, "grace");
	uint64_t old = x->c->grace;
	x->c->grace = v;
	r = gfs_meta_save_grace(x->c, err);
	if (r < 0) {
		x->c->grace = old;
		return r;
	}
	x->c->grace_deadline_ms = 0;
	gfs_ctr_activity(x->c);
	return 0;
}

int gfs_write_stop(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		   size_t len, gfs_err *err)
{
	(void)fh;
	cleanup_free char *cmd = NULL;
	int r = gfs_command(buf, len, &cmd, err);
	if (r < 0)
		return gfs_error_wrap(err, "stop");
	bool kill;
	if (strcmp(cmd, "term") == 0)
		kill = false;
	else if (strcmp(cmd, "kill") == 0)
		kill = true;
	else
		return gfs_error(err, EINVAL,
				 "stop: unknown verb '%.64s' (term, kill)",
				 cmd);
	struct rt_ctr *c = x->c->rt;
	if (c->stopped && !c->stopping)
		return 0;
	if (!c->stopping || kill) {
		r = rt_stop(c, kill, err);
		if (r < 0)
			return r;
	}
	return 1; /* parked until the stopped callback */
}

int gfs_write_new(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		  size_t len, gfs_err *err)
{
	struct gfs_procspec spec;
	int r = gfs_procspec_parse(buf, len, &spec, err);
	if (r < 0)
		return gfs_error_wrap(err, "procs/new");
	struct rt_proc *p;
	r = rt_spawn(x->c->rt, &spec, &p, err);
	gfs_procspec_free(&spec);
	if (r < 0)
		return gfs_error_wrap(err, "procs/new");
	sbuf_reset(&fh->answer);
	fh->answer_off = 0;
	sbuf_printf(&fh->answer, "%u\n", p->id);
	x->c->ver_info++;
	gfs_notify_pollers(x->c, T_INFO, 0);
	gfs_ctr_activity(x->c);
	return 0;
}

int gfs_write_signal(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		     size_t len, gfs_err *err)
{
	(void)fh;
	cleanup_free char *cmd = NULL;
	int r = gfs_command(buf, len, &cmd, err);
	if (r < 0)
		return gfs_error_wrap(err, "signal");
	int sig = gfs_signal_parse(cmd, err);
	if (sig < 0)
		return gfs_error_wrap(err, "procs/%u/signal", x->idx);
	if (x->p->exited)
		return gfs_error(err, ESRCH,
				 "procs/%u/signal: the process has exited",
				 x->idx);
	return rt_signal(x->c->rt, x->p, sig, err);
}

int gfs_render_status(struct gfs_ctx *x, sbuf *out, gfs_err *err)
{
	(void)err;
	struct rt_proc *p = x->p;
	sbuf_printf(out, "pid %d\n", (int)p->pid);
	sbuf_printf(out, "state %s\n", p->exited ? "exited" : "running");
	if (p->exited)
		sbuf_printf(out, "exit_status %d\n", p->status);
	sbuf_printf(out, "command %s\n", p->command ? p->command : "");
	return 0;
}
