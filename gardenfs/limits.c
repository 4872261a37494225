/* limits/memory, limits/cpu, limits/pids and metrics, and the OOM watch:
 * the front of runtime/cgroup.c.  A limit reads back exactly what was
 * written (kept in meta/limit.NAME), since the kernel may round it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "gardenfs/gfs.h"
#include "lib/parse.h"
#include "runtime/cgroup.h"

static const struct limit {
	enum gfs_type type;
	const char *name; /* file name, and meta/limit.NAME */
	const char *key;  /* what a read says */
	bool size;	  /* takes K M G T */
	int (*set)(struct cg *cg, uint64_t v, gfs_err *err);
} limits[] = {
    {T_LMEMORY, "memory", "limit_in_bytes", true, cg_set_memory},
    {T_LCPU, "cpu", "limit_in_shares", false, cg_set_cpu_shares},
    {T_LPIDS, "pids", "max", false, cg_set_pids_max},
};

static const struct limit *limit_of(enum gfs_type t)
{
	for (size_t i = 0; i < sizeof limits / sizeof *limits; i++)
		if (limits[i].type == t)
			return &limits[i];
	return NULL;
}

static uint64_t stored(struct gfs_ctr *c, const struct limit *l)
{
	cleanup_free char *path = xasprintf("%s/limit.%s", c->meta, l->name);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	char buf[64] = "";
	uint64_t v = 0;
	if (fgets(buf, sizeof buf, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (gfs_parse_u64(buf, &v, NULL) < 0)
			v = 0;
	}
	fclose(f);
	return v;
}

int gfs_render_limit(struct gfs_ctx *x, sbuf *out, gfs_err *err)
{
	(void)err;
	const struct limit *l = limit_of(x->type);
	sbuf_printf(out, "%s %llu\n", l->key,
		    (unsigned long long)stored(x->c, l));
	return 0;
}

static int apply(struct gfs_ctr *c, const struct limit *l, uint64_t v,
		 gfs_err *err)
{
	if (!c->rt->cg)
		return gfs_error(err, EIO, "the container has no cgroup");
	int r = l->set(c->rt->cg, v, err);
	if (r < 0)
		return gfs_error_wrap(err, "limits/%s", l->name);
	cleanup_free char *path = xasprintf("%s/limit.%s", c->meta, l->name);
	cleanup_free char *line = xasprintf("%llu\n", (unsigned long long)v);
	return gfs_write_file(path, line, strlen(line), err);
}

int gfs_set_limit(struct gfs_ctr *c, enum gfs_type t, uint64_t v, gfs_err *err)
{
	return apply(c, limit_of(t), v, err);
}

int gfs_write_limit(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		    size_t len, gfs_err *err)
{
	const struct limit *l = limit_of(x->type);
	if (fh->wrote)
		return gfs_error(err, EINVAL,
				 "limits/%s: one value per open: this write "
				 "would continue an earlier one",
				 l->name);
	cleanup_free char *cmd = NULL;
	uint64_t v;
	int r = gfs_command(buf, len, &cmd, err);
	if (r == 0)
		r = l->size ? gfs_parse_size(cmd, &v, err)
			    : gfs_parse_u64(cmd, &v, err);
	if (r < 0)
		return gfs_error_wrap(err, "limits/%s", l->name);
	fh->wrote = true;
	return apply(x->c, l, v, err);
}

int gfs_render_metrics(struct gfs_ctx *x, sbuf *out, gfs_err *err)
{
	struct gfs_ctr *c = x->c;
	struct cg_metrics m;
	memset(&m, 0, sizeof m);
	if (!c->rt->cg)
		return gfs_error(err, EIO, "the container has no cgroup");
	int r = cg_metrics(c->rt->cg, &m, err);
	if (r < 0)
		return gfs_error_wrap(err, "metrics");
	for (int i = 0; i < CG_MEM_N; i++)
		sbuf_printf(out, "memory.%s %llu\n", cg_mem_names[i],
			    (unsigned long long)m.mem[i]);
	sbuf_printf(out, "cpu.usage %llu\ncpu.user %llu\ncpu.system %llu\n",
		    (unsigned long long)m.cpu_usage,
		    (unsigned long long)m.cpu_user,
		    (unsigned long long)m.cpu_system);
	uint64_t bytes = 0, inodes = 0;
	gfs_disk_usage(c, &bytes, &inodes);
	sbuf_printf(out, "disk.bytes_used %llu\ndisk.inodes_used %llu\n",
		    (unsigned long long)bytes, (unsigned long long)inodes);
	sbuf_printf(out, "pids.current %llu\npids.max %llu\n",
		    (unsigned long long)m.pids_current,
		    (unsigned long long)m.pids_max);
	uint64_t now = gfs_wall_ms();
	sbuf_printf(out, "age %llu\n",
		    (unsigned long long)(now > c->rt->created_ms
					     ? now - c->rt->created_ms
					     : 0));
	return 0;
}

/* OOM: the cgroup's fd is in the loop; when it fires and the kernel did
 * kill, `oom` goes to events and the container is stopped. */
void gfs_oom_register(struct gfs_ctr *c)
{
	gfs_err err = {0};
	if (!c->rt->cg || c->rt->stopped)
		return;
	int fd = cg_oom_fd(c->rt->cg, &err);
	if (fd < 0) {
		gfs_log("%s: no OOM notification: %s", c->handle, err.msg);
		return;
	}
	c->ev_oom.kind = EV_OOM;
	c->ev_oom.c = c;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLPRI,
				 .data.ptr = &c->ev_oom};
	if (epoll_ctl(gfs.epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
		c->oom_reg = fd;
}

void gfs_oom_unregister(struct gfs_ctr *c)
{
	if (c->oom_reg >= 0)
		epoll_ctl(gfs.epfd, EPOLL_CTL_DEL, c->oom_reg, NULL);
	c->oom_reg = -1;
}

void gfs_oom_event(struct gfs_ctr *c)
{
	gfs_err err = {0};
	bool oom = false;
	if (cg_oom_check(c->rt->cg, &oom, &err) < 0) {
		gfs_log("%s: %s", c->handle, err.msg);
		return;
	}
	if (!oom)
		return;
	gfs_log("%s: out of memory: stopping it", c->handle);
	if (gfs_meta_add_event(c, "oom", &err) < 0)
		gfs_report(c, &err);
	c->ver_events++;
	c->ver_info++;
	gfs_notify_pollers(c, T_EVENTS, 0);
	gfs_notify_pollers(c, T_INFO, 0);
	if (!c->rt->stopped && !c->rt->stopping &&
	    rt_stop(c->rt, true, &err) < 0)
		gfs_report(c, &err);
}
