/* What each file of the tree says and does (the handlers of tab.c's rows):
 * text in, text out, over garden/.  Garden's rules are garden/'s; here is
 * only how they look as files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gardenfs/access.h"
#include "gardenfs/nodes.h"
#include "lib/parse.h"
#include "lib/spec.h"

/* A write or namespace request answered when garden/ completes it.  These
 * are not interruptible: garden always completes, in bounded time. */
struct later {
	fuse_req_t req;
	struct gfs_fh *fh; /* the writer's file (live until we reply) */
	size_t size;
	struct gdn_ctr *c; /* procs/new: where errors go (a reference) */
};

static struct later *later_new(fuse_req_t req, struct gfs_fh *fh, size_t size)
{
	struct later *l = xcalloc(1, sizeof *l);
	l->req = req;
	l->fh = fh;
	l->size = size;
	return l;
}

/* --- the top level --- */

int gfs_render_ping(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)x;
	(void)err;
	gdn_ping(out);
	return 0;
}

int gfs_render_capacity(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)x;
	struct gdn_capacity cap;
	int r = gdn_capacity(&cap, err);
	if (r < 0)
		return r;
	sbuf_printf(out, "memory_in_bytes %llu\n",
		    (unsigned long long)cap.memory);
	sbuf_printf(out, "disk_in_bytes %llu\n", (unsigned long long)cap.disk);
	sbuf_printf(out, "max_containers %llu\n",
		    (unsigned long long)cap.max_containers);
	return 0;
}

int gfs_render_top_errors(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)x;
	(void)err;
	gdn_errlog_render(&gdn_top_errors, out);
	return 0;
}

int gfs_ctrs_lookup(const struct gfs_ref *dir, const char *name,
		    struct gfs_ref *out)
{
	struct gdn_ctr *c = gdn_ctr_find(name);
	if (!c)
		return -ENOENT;
	out->row = dir->row->dyn->row;
	out->c = c;
	return 0;
}

void gfs_ctrs_list(const struct gfs_ref *dir, struct gfs_fh *fh,
		   void (*add)(struct gfs_fh *fh, const char *name,
			       const struct gfs_ref *x))
{
	uint32_t slot = 0;
	for (struct gdn_ctr *c; (c = gdn_ctr_next(&slot));) {
		struct gfs_ref y = {.row = dir->row->dyn->row, .c = c};
		add(fh, c->handle, &y);
	}
}

static void created(void *arg, struct gdn_ctr *c, const gfs_err *err)
{
	struct later *l = arg;
	if (err->code) {
		gfs_reply_fail(l->req, NULL, err);
	} else if (l->fh) {
		gfs_answer(l->fh, "%s\n", c->handle);
		l->fh->wrote = true;
		fuse_reply_write(l->req, l->size);
	} else {
		gfs_reply_ctr_entry(l->req, c);
	}
	free(l);
}

void gfs_mkdir_ctr(fuse_req_t req, const char *name)
{
	gfs_err err = {0};
	struct gfs_createspec spec = {.handle = xstrdup(name)};
	struct gdn_ctr *c;
	struct later *l = later_new(req, NULL, 0);
	if (gdn_create(&spec, created, l, &c, &err) < 0) {
		free(l);
		gfs_reply_fail(req, NULL, &err);
	}
}

static void destroyed(void *arg, struct gdn_ctr *c, const gfs_err *err)
{
	(void)c;
	struct later *l = arg;
	if (err->code)
		gfs_reply_fail(l->req, NULL, err);
	else if (l->fh)
		fuse_reply_write(l->req, l->size);
	else
		fuse_reply_err(l->req, 0);
	free(l);
}

static int destroy(const char *handle, struct later *l, gfs_err *err)
{
	struct gdn_ctr *c = gdn_ctr_find(handle);
	if (!c)
		return gfs_error(err, ENOENT, "destroy: no container %s",
				 handle);
	if (gfs_access_destroy(l->req, c, err) < 0)
		return gfs_error_wrap(err, "destroy %s", handle);
	return gdn_destroy(c, destroyed, l, err);
}

void gfs_rmdir_ctr(fuse_req_t req, const char *name)
{
	gfs_err err = {0};
	if (gfs_row_find(&gfs_root, name)) {
		gfs_error(&err, EPERM, "%s is not a container", name);
		gfs_reply_fail(req, NULL, &err);
		return;
	}
	struct later *l = later_new(req, NULL, 0);
	if (destroy(name, l, &err) < 0) {
		free(l);
		gfs_reply_fail(req, NULL, &err);
	}
}

/* ctl: `create KEY=VALUE ...` and `destroy H` (Plan 9's Cmdtab). */
static int ctl_create(struct gfs_cmd *k, char **words, gfs_err *err)
{
	struct gfs_createspec spec;
	int r = gfs_createspec_parse(words + 1, &spec, err);
	if (r < 0)
		return gfs_error_wrap(err, "create");
	r = gfs_access_create(k->req, &spec, err);
	if (r < 0) {
		gfs_createspec_free(&spec);
		return gfs_error_wrap(err, "create");
	}
	struct gdn_ctr *c;
	struct later *l = later_new(k->req, k->fh, k->len);
	r = gdn_create(&spec, created, l, &c, err);
	if (r < 0) {
		free(l);
		return r;
	}
	return GFS_LATER;
}

static int ctl_destroy(struct gfs_cmd *k, char **words, gfs_err *err)
{
	if (!words[1] || words[2])
		return gfs_error(err, EINVAL, "usage: destroy HANDLE");
	struct later *l = later_new(k->req, k->fh, k->len);
	int r = destroy(words[1], l, err);
	if (r < 0) {
		free(l);
		return r;
	}
	return GFS_LATER;
}

static const struct {
	const char *verb;
	int (*fn)(struct gfs_cmd *k, char **words, gfs_err *err);
} ctl_verbs[] = {
    {"create", ctl_create},
    {"destroy", ctl_destroy},
};

int gfs_cmd_ctl(struct gfs_cmd *k, gfs_err *err)
{
	cleanup_strv char **words = NULL;
	int r = gfs_split_words(k->line, &words, err);
	if (r < 0)
		return gfs_error_wrap(err, "ctl");
	if (!words[0])
		return gfs_error(err, EINVAL, "ctl: empty command");
	for (size_t i = 0; i < sizeof ctl_verbs / sizeof *ctl_verbs; i++)
		if (strcmp(words[0], ctl_verbs[i].verb) == 0)
			return ctl_verbs[i].fn(k, words, err);
	char ex[GFS_EXCERPT_MAX];
	return gfs_error(err, EINVAL,
			 "ctl: unknown verb `%s` (create, destroy)",
			 gfs_excerpt(ex, words[0], strlen(words[0])));
}

/* --- a container --- */

int gfs_render_info(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)err;
	struct gdn_ctr *c = x->c;
	sbuf_printf(out, "state %s\n", c->stopped ? "stopped" : "active");
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
	struct gdn_net net;
	gdn_net_info(c, &net);
	sbuf_printf(out, "host_ip %s\ncontainer_ip %s\nexternal_ip %s\n",
		    net.ip.host_ip, net.ip.container_ip, net.ip.external_ip);
	sbuf_printf(out, "container_path %s\n", c->path);
	sbuf_adds(out, "process_ids ");
	bool first = true;
	for (size_t i = 0; i < c->nprocs; i++) {
		struct gdn_proc *p = c->pbyid[i];
		if (p->state != GDN_RUNNING)
			continue;
		sbuf_printf(out, first ? "%s" : " %s", p->name);
		first = false;
	}
	sbuf_addc(out, '\n');
	sbuf_adds(out, "mapped_ports");
	for (size_t i = 0; i < net.nports; i++)
		sbuf_printf(out, "%s%u:%u", i ? " " : " ", net.ports[i].host,
			    net.ports[i].ctr);
	if (!net.nports)
		sbuf_addc(out, ' ');
	sbuf_addc(out, '\n');
	gdn_net_free(&net);
	return 0;
}

uint64_t gfs_version_info(const struct gfs_ref *x)
{
	return x->c->ver_info;
}

uint64_t gfs_version_events(const struct gfs_ref *x)
{
	return x->c->ver_events;
}

int gfs_render_events(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)err;
	if (x->c->events.len)
		sbuf_add(out, x->c->events.s, x->c->events.len);
	return 0;
}

int gfs_render_errors(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)err;
	gdn_errlog_render(&x->c->errors, out);
	return 0;
}

int gfs_render_grace(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)err;
	sbuf_printf(out, "%llu\n", (unsigned long long)x->c->grace);
	return 0;
}

int gfs_cmd_grace(struct gfs_cmd *k, gfs_err *err)
{
	uint64_t v;
	if (gfs_parse_u64(k->line, &v, err) < 0)
		return gfs_error_wrap(err, "grace");
	return gdn_set_grace(k->x->c, v, err);
}

static void stopped(void *arg, struct gdn_ctr *c, const gfs_err *err)
{
	(void)c;
	(void)err;
	struct later *l = arg;
	/* a stop is done when every process is dead, destroyed or not */
	fuse_reply_write(l->req, l->size);
	free(l);
}

int gfs_cmd_stop(struct gfs_cmd *k, gfs_err *err)
{
	bool kill;
	if (strcmp(k->line, "term") == 0)
		kill = false;
	else if (strcmp(k->line, "kill") == 0)
		kill = true;
	else {
		char ex[GFS_EXCERPT_MAX];
		return gfs_error(err, EINVAL,
				 "stop: unknown verb `%s` (term, kill)",
				 gfs_excerpt(ex, k->line, strlen(k->line)));
	}
	struct later *l = later_new(k->req, k->fh, k->len);
	int r = gdn_stop(k->x->c, kill, stopped, l, err);
	if (r != 0)
		free(l);
	return r == 0 ? GFS_LATER : r < 0 ? r : 0;
}

int gfs_render_metrics(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	struct gdn_metrics m;
	int r = gdn_metrics(x->c, &m, err);
	if (r < 0)
		return r;
	for (int i = 0; i < CG_MEM_N; i++)
		sbuf_printf(out, "memory.%s %llu\n", cg_mem_names[i],
			    (unsigned long long)m.cg.mem[i]);
	sbuf_printf(out, "cpu.usage %llu\ncpu.user %llu\ncpu.system %llu\n",
		    (unsigned long long)m.cg.cpu_usage,
		    (unsigned long long)m.cg.cpu_user,
		    (unsigned long long)m.cg.cpu_system);
	sbuf_printf(out, "disk.bytes_used %llu\ndisk.inodes_used %llu\n",
		    (unsigned long long)m.disk_bytes,
		    (unsigned long long)m.disk_inodes);
	sbuf_printf(out, "pids.current %llu\npids.max %llu\n",
		    (unsigned long long)m.cg.pids_current,
		    (unsigned long long)m.cg.pids_max);
	sbuf_printf(out, "age %llu\n", (unsigned long long)m.age_ms);
	if (m.has_net)
		sbuf_printf(
		    out,
		    "network.rx_bytes %llu\nnetwork.tx_bytes %llu\n"
		    "network.rx_packets %llu\nnetwork.tx_packets %llu\n"
		    "network.rx_dropped %llu\nnetwork.tx_dropped %llu\n",
		    (unsigned long long)m.net.rx_bytes,
		    (unsigned long long)m.net.tx_bytes,
		    (unsigned long long)m.net.rx_packets,
		    (unsigned long long)m.net.tx_packets,
		    (unsigned long long)m.net.rx_dropped,
		    (unsigned long long)m.net.tx_dropped);
	return 0;
}

/* --- limits/ --- */

const struct gfs_limit gfs_limit_memory = {GDN_LIM_MEMORY, "memory",
					   "limit_in_bytes", true};
const struct gfs_limit gfs_limit_cpu = {GDN_LIM_CPU, "cpu", "limit_in_shares",
					false};
const struct gfs_limit gfs_limit_pids = {GDN_LIM_PIDS, "pids", "max", false};

int gfs_render_limit(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)err;
	const struct gfs_limit *l = x->row->arg;
	sbuf_printf(out, "%s %llu\n", l->key,
		    (unsigned long long)x->c->limit[l->which]);
	return 0;
}

int gfs_cmd_limit(struct gfs_cmd *k, gfs_err *err)
{
	const struct gfs_limit *l = k->x->row->arg;
	uint64_t v;
	if (k->fh->wrote)
		return gfs_error(err, EINVAL,
				 "limits/%s: one value per open: this write "
				 "would continue an earlier one",
				 l->name);
	int r = l->size ? gfs_parse_size(k->line, &v, err)
			: gfs_parse_u64(k->line, &v, err);
	if (r < 0)
		return gfs_error_wrap(err, "limits/%s", l->name);
	return gdn_set_limit(k->x->c, l->which, v, err);
}

int gfs_render_disk(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)err;
	for (int k = 0; k < GFS_DISK_N; k++)
		sbuf_printf(out, "%s %llu\n", gfs_disk_keys[k],
			    (unsigned long long)x->c->disk.v[k]);
	return 0;
}

int gfs_cmd_disk(struct gfs_cmd *k, gfs_err *err)
{
	struct gfs_disk d = k->x->c->disk;
	if (gfs_disk_parse(k->line, &d, err) < 0)
		return gfs_error_wrap(err, "limits/disk");
	return gdn_set_disk(k->x->c, &d, err);
}

int gfs_render_bandwidth(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)err;
	sbuf_printf(out, "rate %llu\nburst %llu\n",
		    (unsigned long long)x->c->bw_rate,
		    (unsigned long long)x->c->bw_burst);
	return 0;
}

/* `rate=N burst=N` (bytes/s and bytes, K M G T allowed); `rate=0 burst=0`
 * removes the limit. */
int gfs_cmd_bandwidth(struct gfs_cmd *k, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	cleanup_strv char **words = NULL;
	uint64_t rate = 0, burst = 0;
	bool seen_rate = false, seen_burst = false;
	if (gfs_split_words(k->line, &words, err) < 0)
		return gfs_error_wrap(err, "limits/bandwidth");
	for (char **w = words; *w; w++) {
		bool is_rate = strncmp(*w, "rate=", 5) == 0;
		bool is_burst = strncmp(*w, "burst=", 6) == 0;
		if ((!is_rate && !is_burst) || (is_rate && seen_rate) ||
		    (is_burst && seen_burst))
			return gfs_error(
			    err, EINVAL,
			    "limits/bandwidth: want rate=N burst=N, "
			    "not `%s`",
			    gfs_excerpt(ex, *w, strlen(*w)));
		if (gfs_parse_size(*w + (is_rate ? 5 : 6),
				   is_rate ? &rate : &burst, err) < 0)
			return gfs_error_wrap(err, "limits/bandwidth");
		seen_rate |= is_rate;
		seen_burst |= is_burst;
	}
	if (!seen_rate || !seen_burst)
		return gfs_error(err, EINVAL,
				 "limits/bandwidth: want rate=N burst=N");
	return gdn_set_bandwidth(k->x->c, rate, burst, err);
}

/* --- net/ --- */

int gfs_render_net_in(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)err;
	gdn_net_list(x->c, true, out);
	return 0;
}

/* `HOST CONTAINER`, either 0; the pair made is the answer. */
int gfs_cmd_net_in(struct gfs_cmd *k, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	cleanup_strv char **words = NULL;
	uint64_t host, ctr;
	if (gfs_split_words(k->line, &words, err) < 0)
		return gfs_error_wrap(err, "net/in");
	if (gfs_strv_len(words) != 2 ||
	    gfs_parse_u64(words[0], &host, GFS_IGNORE) < 0 ||
	    gfs_parse_u64(words[1], &ctr, GFS_IGNORE) < 0)
		return gfs_error(err, EINVAL,
				 "net/in: want HOST CONTAINER (ports, 0 for "
				 "any), not `%s`",
				 gfs_excerpt(ex, k->line, strlen(k->line)));
	if (host > 65535 || ctr > 65535)
		return gfs_error(err, EINVAL, "net/in: ports are 0..65535");
	uint32_t h, cp;
	int r =
	    gdn_net_in(k->x->c, (uint32_t)host, (uint32_t)ctr, &h, &cp, err);
	if (r < 0)
		return r;
	gfs_answer(k->fh, "%u %u\n", h, cp);
	return 0;
}

int gfs_render_net_out(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)err;
	gdn_net_list(x->c, false, out);
	return 0;
}

int gfs_cmd_net_out(struct gfs_cmd *k, gfs_err *err)
{
	return gdn_net_out_text(k->x->c, k->line, err);
}

/* --- properties/ --- */

int gfs_props_lookup(const struct gfs_ref *dir, const char *name,
		     struct gfs_ref *out)
{
	struct gdn_prop *p = gdn_prop_find(dir->c, name);
	if (!p)
		return -ENOENT;
	out->row = dir->row->dyn->row;
	out->c = dir->c;
	out->prop = p;
	out->idx = p->slot;
	return 0;
}

void gfs_props_list(const struct gfs_ref *dir, struct gfs_fh *fh,
		    void (*add)(struct gfs_fh *fh, const char *name,
				const struct gfs_ref *x))
{
	for (uint32_t i = 0; i < dir->c->npslots; i++) {
		struct gdn_prop *p = dir->c->pslots[i];
		if (!p)
			continue;
		struct gfs_ref y = {.row = dir->row->dyn->row,
				    .c = dir->c,
				    .prop = p,
				    .idx = p->slot};
		add(fh, p->name, &y);
	}
}

/* --- procs/ --- */

int gfs_procs_lookup(const struct gfs_ref *dir, const char *name,
		     struct gfs_ref *out)
{
	struct gdn_proc *p = gdn_proc_find(dir->c, name);
	/* a process shows once it runs */
	if (!p || p->state == GDN_STARTING)
		return -ENOENT;
	out->row = dir->row->dyn->row;
	out->c = dir->c;
	out->p = p;
	out->idx = p->id;
	return 0;
}

void gfs_procs_list(const struct gfs_ref *dir, struct gfs_fh *fh,
		    void (*add)(struct gfs_fh *fh, const char *name,
				const struct gfs_ref *x))
{
	for (size_t i = 0; i < dir->c->nprocs; i++) {
		struct gdn_proc *p = dir->c->pbyid[i];
		if (p->state == GDN_STARTING)
			continue;
		struct gfs_ref y = {.row = dir->row->dyn->row,
				    .c = dir->c,
				    .p = p,
				    .idx = p->id};
		add(fh, p->name, &y);
	}
}

static void started(void *arg, struct gdn_proc *p, const gfs_err *err)
{
	struct later *l = arg;
	if (err->code) {
		gfs_err e = *err;
		gfs_error_wrap(&e, "procs/new");
		gfs_reply_fail(l->req, l->c, &e);
	} else {
		gfs_answer(l->fh, "%s\n", p->name);
		l->fh->wrote = true;
		fuse_reply_write(l->req, l->size);
	}
	gdn_ctr_put(l->c);
	free(l);
}

int gfs_cmd_new(struct gfs_cmd *k, gfs_err *err)
{
	struct gfs_procspec spec;
	/* the spec is the bytes as written (JSON may hold newlines) */
	int r = gfs_procspec_parse(k->buf, k->len, &spec, err);
	if (r < 0)
		return gfs_error_wrap(err, "procs/new");
	struct gdn_proc *p;
	struct later *l = later_new(k->req, k->fh, k->len);
	l->c = k->x->c;
	gdn_ctr_ref(l->c);
	r = gdn_run(k->x->c, &spec, started, l, &p, err);
	gfs_procspec_free(&spec);
	if (r < 0) {
		gdn_ctr_put(l->c);
		free(l);
		return gfs_error_wrap(err, "procs/new");
	}
	return GFS_LATER;
}

int gfs_render_status(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)err;
	struct gdn_proc *p = x->p;
	sbuf_printf(out, "pid %d\n", (int)p->pid);
	sbuf_printf(out, "state %s\n",
		    p->state == GDN_EXITED ? "exited" : "running");
	if (p->state == GDN_EXITED)
		sbuf_printf(out, "exit_status %d\n", p->status);
	sbuf_printf(out, "command %s\n", p->command ? p->command : "");
	return 0;
}

int gfs_cmd_signal(struct gfs_cmd *k, gfs_err *err)
{
	int sig = gfs_signal_parse(k->line, err);
	if (sig < 0)
		return gfs_error_wrap(err, "procs/%s/signal", k->x->p->name);
	if (k->x->p->state == GDN_EXITED)
		return gfs_error(err, ESRCH,
				 "procs/%s/signal: the process has exited",
				 k->x->p->name);
	return gdn_signal(k->x->p, sig, err);
}
