/* The generic half of the file server: inode numbers, walking the node
 * tables (lookup, getattr, readdir, open), slicing reads, one command per
 * write, parked reads and poll.  What each file says and does is in
 * nodes.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gardenfs/gfs.h"
#include "lib/parse.h"

static bool is_proc_node(enum gfs_type t)
{
	return t >= T_PROC && t <= T_STATUS;
}

/* Turns an inode into the node it names, or ENOENT when what it named is
 * gone (a destroyed container, a removed property). */
static int resolve(fuse_ino_t ino, struct gfs_ctx *x)
{
	uint32_t slot;
	uint64_t idx;
	enum gfs_type t;
	gfs_ino_split(ino, &slot, &idx, &t);
	memset(x, 0, sizeof *x);
	if (t <= T_NONE || t >= T_NTYPES)
		return -ENOENT;
	x->type = t;
	x->idx = idx;
	if (t <= T_TOPERRORS)
		return slot == 0 ? 0 : -ENOENT;
	x->c = gfs_ctr_slot(slot);
	if (!x->c || x->c->destroyed)
		return -ENOENT;
	if (is_proc_node(t)) {
		x->p = rt_proc_find(x->c->rt, idx);
		if (!x->p)
			return -ENOENT;
	}
	if (t == T_PROP && (idx >= x->c->nprops || !x->c->props[idx]))
		return -ENOENT;
	return 0;
}

/* Resolves ino, or replies with why not: false when it replied. */
static bool resolve_or_reply(fuse_req_t req, fuse_ino_t ino, struct gfs_ctx *x)
{
	int r = resolve(ino, x);
	if (r < 0)
		fuse_reply_err(req, -r);
	return r == 0;
}

/* A refused request: its reason goes to errors, its errno to the caller. */
static void reply_fail(fuse_req_t req, struct gfs_ctr *c, const gfs_err *err)
{
	gfs_report(c, err);
	fuse_reply_err(req, err->code);
}

static bool is_dir(enum gfs_type t)
{
	return gfs_nodes[t].kind == K_DIR;
}

static void fill_stat(const struct gfs_ctx *x, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = gfs_ino(x->c ? x->c->slot : 0, x->idx, x->type);
	st->st_mode = gfs_nodes[x->type].mode;
	st->st_nlink = is_dir(x->type) ? 2 : 1;
	uint64_t ms = x->c ? x->c->rt->created_ms : gfs.start_ms;
	st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec =
	    ms / 1000;
	st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = st->st_atim.tv_nsec =
	    (ms % 1000) * 1000000;
	st->st_blksize = 4096;
	if (x->type == T_PROP)
		st->st_size = x->c->props[x->idx]->len + 1;
	if (x->type == T_STDOUT || x->type == T_STDERR) {
		/* the size of the output so far, so that ls -l tells */
		cleanup_free char *path =
		    rt_proc_path(x->c->rt, x->idx,
				 x->type == T_STDOUT ? "stdout" : "stderr");
		struct stat fst;
		if (stat(path, &fst) == 0)
			st->st_size = fst.st_size;
	}
}

static void reply_entry(fuse_req_t req, const struct gfs_ctx *x)
{
	struct fuse_entry_param e;
	memset(&e, 0, sizeof e);
	fill_stat(x, &e.attr);
	e.ino = e.attr.st_ino;
	/* no caching: containers, processes and properties come and go by
	 * other paths than this mount (ctl destroy, grace) */
	e.attr_timeout = 0;
	e.entry_timeout = 0;
	fuse_reply_entry(req, &e);
}

/* Looks name up in dir x; fills y. */
static int walk(const struct gfs_ctx *x, const char *name, struct gfs_ctx *y)
{
	if (!is_dir(x->type))
		return -ENOTDIR;
	for (const enum gfs_type *t = gfs_table(x->type); *t; t++)
		if (strcmp(gfs_nodes[*t].name, name) == 0) {
			*y = *x;
			y->type = *t;
			y->idx = is_proc_node(*t) ? x->idx : 0;
			return 0;
		}
	memset(y, 0, sizeof *y);
	switch (x->type) {
	case T_ROOT: {
		struct gfs_ctr *c = gfs_ctr_find(name);
		if (!c)
			return -ENOENT;
		y->type = T_CTR;
		y->c = c;
		return 0;
	}
	case T_PROCS: {
		uint64_t id;
		if (gfs_parse_u64(name, &id, NULL) < 0 || id > UINT32_MAX)
			return -ENOENT;
		struct rt_proc *p = rt_proc_find(x->c->rt, id);
		if (!p)
			return -ENOENT;
		y->type = T_PROC;
		y->c = x->c;
		y->idx = id;
		y->p = p;
		return 0;
	}
	case T_PROPS: {
		uint32_t slot;
		if (!gfs_prop_find(x->c, name, &slot))
			return -ENOENT;
		y->type = T_PROP;
		y->c = x->c;
		y->idx = slot;
		return 0;
	}
	default:
		return -ENOENT;
	}
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct gfs_ctx x, y;
	int r = resolve(parent, &x);
	if (r == 0)
		r = walk(&x, name, &y);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	reply_entry(req, &y);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)fi;
	struct gfs_ctx x;
	if (!resolve_or_reply(req, ino, &x))
		return;
	struct stat st;
	fill_stat(&x, &st);
	fuse_reply_attr(req, &st, 0);
}

static struct gfs_fh *fh_new(const struct gfs_ctx *x, int flags)
{
	struct gfs_fh *fh = xcalloc(1, sizeof *fh);
	fh->type = x->type;
	fh->c = x->c;
	fh->idx = x->idx;
	fh->fd = -1;
	fh->flags = flags;
	if (fh->c) {
		fh->c->refs++;
		fh->c->opens++;
		gfs_ctr_activity(fh->c);
	}
	return fh;
}

static void poll_unlink(struct gfs_fh *fh)
{
	if (fh->poll_prevp) {
		*fh->poll_prevp = fh->poll_next;
		if (fh->poll_next)
			fh->poll_next->poll_prevp = fh->poll_prevp;
		fh->poll_prevp = NULL;
		fh->poll_next = NULL;
	}
}

/* Poll notifications are sent from the loop, never from inside a request
 * handler: this is the list of those that are due. */
static struct gfs_fh *notify_head;

static void fd_link(struct gfs_fh *fh)
{
	struct gfs_ctr *c = fh->c;
	fh->fd_next = c->fdfhs;
	if (c->fdfhs)
		c->fdfhs->fd_prevp = &fh->fd_next;
	fh->fd_prevp = &c->fdfhs;
	c->fdfhs = fh;
}

static void fd_unlink(struct gfs_fh *fh)
{
	if (fh->fd_prevp) {
		*fh->fd_prevp = fh->fd_next;
		if (fh->fd_next)
			fh->fd_next->fd_prevp = fh->fd_prevp;
		fh->fd_prevp = NULL;
		fh->fd_next = NULL;
	}
}

void gfs_release_files(struct gfs_ctr *c)
{
	gfs_drop_watches(c, 0);
	while (c->fdfhs) {
		struct gfs_fh *fh = c->fdfhs;
		fd_unlink(fh);
		if (fh->type == T_STDIN)
			epoll_ctl(gfs.epfd, EPOLL_CTL_DEL, fh->fd, NULL);
		close(fh->fd);
		fh->fd = -1;
	}
}

static void fh_free(struct gfs_fh *fh)
{
	poll_unlink(fh);
	fd_unlink(fh);
	if (fh->notify) {
		for (struct gfs_fh **pp = &notify_head; *pp;
		     pp = &(*pp)->notify_next)
			if (*pp == fh) {
				*pp = fh->notify_next;
				break;
			}
	}
	if (fh->ph)
		fuse_pollhandle_destroy(fh->ph);
	if (fh->fd >= 0)
		close(fh->fd);
	sbuf_free(&fh->text);
	sbuf_free(&fh->answer);
	for (size_t i = 0; i < fh->ndents; i++)
		free(fh->dents[i].name);
	free(fh->dents);
	if (fh->c) {
		fh->c->opens--;
		struct gfs_ctr *c = fh->c;
		if (!c->destroyed)
			gfs_ctr_activity(c);
		gfs_ctr_put(c);
	}
	free(fh);
}

static void add_dent(struct gfs_fh *fh, const char *name,
		     const struct gfs_ctx *x)
{
	fh->dents = xrealloc(fh->dents, (fh->ndents + 1) * sizeof *fh->dents);
	fh->dents[fh->ndents].name = xstrdup(name);
	fh->dents[fh->ndents].ino =
	    gfs_ino(x->c ? x->c->slot : 0, x->idx, x->type);
	fh->dents[fh->ndents].mode = gfs_nodes[x->type].mode;
	fh->ndents++;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct gfs_ctx x;
	int r = resolve(ino, &x);
	if (r == 0 && !is_dir(x.type))
		r = -ENOTDIR;
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	/* one snapshot per open, so that offsets stay meaningful while
	 * containers, processes and properties come and go */
	struct gfs_fh *fh = fh_new(&x, fi->flags);
	struct gfs_ctx y = x;
	add_dent(fh, ".", &x);
	add_dent(fh, "..", &x);
	for (const enum gfs_type *t = gfs_table(x.type); *t; t++) {
		y.type = *t;
		add_dent(fh, gfs_nodes[*t].name, &y);
	}
	if (x.type == T_ROOT) {
		for (uint32_t s = 1; s < gfs.nslots; s++) {
			struct gfs_ctr *c = gfs.slots[s];
			if (!c || c->destroyed)
				continue;
			struct gfs_ctx z = {.type = T_CTR, .c = c};
			add_dent(fh, c->handle, &z);
		}
	} else if (x.type == T_PROCS) {
		for (size_t i = 0; i < x.c->rt->nprocs; i++) {
			struct gfs_ctx z = {.type = T_PROC,
					    .c = x.c,
					    .idx = x.c->rt->procs[i]->id};
			char name[16];
			snprintf(name, sizeof name, "%u", z.idx);
			add_dent(fh, name, &z);
		}
	} else if (x.type == T_PROPS) {
		for (uint32_t i = 0; i < x.c->nprops; i++) {
			if (!x.c->props[i])
				continue;
			struct gfs_ctx z = {.type = T_PROP, .c = x.c, .idx = i};
			add_dent(fh, x.c->props[i]->name, &z);
		}
	}
	fi->fh = (uintptr_t)fh;
	fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)ino;
	struct gfs_fh *fh = (struct gfs_fh *)(uintptr_t)fi->fh;
	char *buf = xmalloc(size);
	size_t used = 0;
	for (size_t i = off; i < fh->ndents; i++) {
		struct stat st = {.st_ino = fh->dents[i].ino,
				  .st_mode = fh->dents[i].mode};
		size_t n = fuse_add_direntry(req, buf + used, size - used,
					     fh->dents[i].name, &st, i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi);

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	op_release(req, ino, fi);
}

static bool wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

static bool wants_read(int flags)
{
	return (flags & O_ACCMODE) != O_WRONLY;
}

static void report_errno(struct gfs_ctr *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_errno(struct gfs_ctr *c, int code, const char *fmt, ...)
{
	gfs_err err;
	va_list ap;
	va_start(ap, fmt);
	err.code = code;
	vsnprintf(err.msg, sizeof err.msg, fmt, ap);
	va_end(ap);
	gfs_report(c, &err);
}

/* Opens node x with flags; fills fi. */
static int open_node(const struct gfs_ctx *x, struct fuse_file_info *fi,
		     struct gfs_fh **out, gfs_err *err)
{
	const struct gfs_node *n = &gfs_nodes[x->type];
	if (is_dir(x->type))
		return gfs_error(err, EISDIR, "%s is a directory", n->name);
	if (wants_write(fi->flags) && !(n->mode & 0222))
		return gfs_error(err, EACCES, "%s is read-only", n->name);
	if (wants_read(fi->flags) && !(n->mode & 0444))
		return gfs_error(err, EACCES, "%s is write-only", n->name);

	struct gfs_fh *fh = fh_new(x, fi->flags);
	fi->direct_io = 1;
	switch (n->kind) {
	case K_STREAM:
		fi->nonseekable = 1;
		if (x->type != T_WAIT) {
			cleanup_free char *path = rt_proc_path(
			    x->c->rt, x->idx,
			    x->type == T_STDOUT ? "stdout" : "stderr");
			fh->fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fh->fd < 0) {
				int e = errno;
				fh_free(fh);
				return gfs_error_sys(err, e, "opening %s",
						     path);
			}
			fd_link(fh);
		}
		break;
	case K_STDIN: {
		fi->nonseekable = 1;
		int fd = rt_stdin_open(x->c->rt, x->p, err);
		if (fd < 0) {
			fh_free(fh);
			return fd;
		}
		fh->fd = fd;
		fd_link(fh);
		struct gfs_ctr *c = x->c;
		if (x->idx >= c->nstdin_claimed) {
			uint32_t n2 = x->idx + 16;
			c->stdin_claimed = xrealloc(c->stdin_claimed, n2);
			memset(c->stdin_claimed + c->nstdin_claimed, 0,
			       n2 - c->nstdin_claimed);
			c->nstdin_claimed = n2;
		}
		if (!c->stdin_claimed[x->idx]) {
			c->stdin_claimed[x->idx] = true;
			fh->first_writer = true;
		}
		break;
	}
	case K_CLONE:
		fi->nonseekable = 1;
		break;
	case K_PROP:
		/* O_TRUNC empties the value only if nothing is written before
		 * close: a refused write must leave the old value */
		fh->trunc = wants_write(fi->flags) && (fi->flags & O_TRUNC);
		break;
	default:
		break;
	}
	*out = fh;
	fi->fh = (uintptr_t)fh;
	return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct gfs_ctx x;
	if (!resolve_or_reply(req, ino, &x))
		return;
	gfs_err err = {0};
	struct gfs_fh *fh;
	int r = open_node(&x, fi, &fh, &err);
	if (r < 0) {
		reply_fail(req, x.c, &err);
		return;
	}
	if (fuse_reply_open(req, fi) == -ENOENT)
		fh_free(fh); /* the opener was interrupted */
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	struct gfs_fh *fh = (struct gfs_fh *)(uintptr_t)fi->fh;
	if (fh) {
		if (fh->type == T_STDIN && fh->first_writer && fh->c &&
		    !fh->c->destroyed) {
			struct rt_proc *p = rt_proc_find(fh->c->rt, fh->idx);
			gfs_err err = {0};
			if (p && !p->exited &&
			    rt_stdin_eof(fh->c->rt, p, &err) < 0)
				gfs_log("%s: %s", fh->c->handle, err.msg);
		}
		if (fh->type == T_PROP && fh->trunc && !fh->wrote && fh->c &&
		    !fh->c->destroyed && fh->idx < fh->c->nprops &&
		    fh->c->props[fh->idx]) {
			/* `: > K` empties it */
			gfs_err err = {0};
			cleanup_free char *name =
			    xstrdup(fh->c->props[fh->idx]->name);
			if (gfs_prop_set(fh->c, name, "", 0, NULL, &err) < 0)
				gfs_report(fh->c, &err);
		}
		fh_free(fh);
	}
	fuse_reply_err(req, 0);
}

static void reply_slice(fuse_req_t req, const sbuf *b, off_t off, size_t size)
{
	if ((size_t)off >= b->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	size_t n = b->len - off;
	fuse_reply_buf(req, b->s + off, n < size ? n : size);
}

static int render(struct gfs_fh *fh, gfs_err *err)
{
	const struct gfs_node *n = &gfs_nodes[fh->type];
	struct gfs_ctx x = {.type = fh->type, .c = fh->c, .idx = fh->idx};
	if (fh->c) {
		if (fh->c->destroyed)
			return gfs_error(err, ENOENT, "container destroyed");
		if (is_proc_node(fh->type)) {
			x.p = rt_proc_find(fh->c->rt, fh->idx);
			if (!x.p)
				return gfs_error(err, ENOENT,
						 "no such process");
		}
	}
	sbuf_reset(&fh->text);
	if (fh->type == T_PROP) {
		if (fh->idx >= fh->c->nprops || !fh->c->props[fh->idx])
			return gfs_error(err, ENOENT, "property removed");
		struct gfs_prop *p = fh->c->props[fh->idx];
		sbuf_add(&fh->text, p->value, p->len);
		sbuf_addc(&fh->text, '\n');
		return 0;
	}
	if (fh->type == T_INFO)
		fh->seen = fh->c->ver_info;
	if (fh->type == T_EVENTS)
		fh->seen = fh->c->ver_events;
	/* an empty rendering still counts as read (poll compares) */
	sbuf_add(&fh->text, "", 0);
	if (!n->render)
		return 0;
	return n->render(&x, &fh->text, err);
}

/* stdout/stderr: returns 1 when it replied, 0 when there is nothing yet. */
static int stream_try(fuse_req_t req, struct gfs_fh *fh, size_t size)
{
	struct gfs_ctr *c = fh->c;
	if (c->destroyed) {
		fuse_reply_buf(req, NULL, 0);
		return 1;
	}
	struct rt_proc *p = rt_proc_find(c->rt, fh->idx);
	if (fh->type == T_WAIT) {
		if (p && !p->exited)
			return 0;
		sbuf_reset(&fh->text);
		if (p)
			sbuf_printf(&fh->text, "%d\n", p->status);
		reply_slice(req, &fh->text, fh->off, size);
		fh->off += fh->off < fh->text.len
			       ? (fh->text.len - fh->off < size
				      ? fh->text.len - fh->off
				      : size)
			       : 0;
		return 1;
	}
	/* read exited before the data, so that nothing written just before
	 * the exit is taken for the end */
	bool done = !p || p->exited;
	char *buf = xmalloc(size);
	ssize_t n = pread(fh->fd, buf, size, fh->off);
	if (n < 0) {
		free(buf);
		fuse_reply_err(req, errno);
		return 1;
	}
	if (n == 0 && !done) {
		free(buf);
		return 0;
	}
	fh->off += n;
	fuse_reply_buf(req, buf, n);
	free(buf);
	return 1;
}

/* Inotify watches on DEPOT/containers/H/procs/ID while somebody waits for
 * output of ID; indexed by watch descriptor. */
struct gfs_watch {
	int wd;
	uint32_t id;
	struct gfs_ctr *c;
	struct gfs_watch *next; /* in c->watches */
};
static struct gfs_watch **by_wd;
static size_t nby_wd;

static void watch_proc(struct gfs_ctr *c, uint32_t id)
{
	for (struct gfs_watch *w = c->watches; w; w = w->next)
		if (w->id == id)
			return;
	/* the directory of the output files: IN_MODIFY of either */
	cleanup_free char *dir = rt_proc_path(c->rt, id, "stdout");
	*strrchr(dir, '/') = '\0';
	int wd = inotify_add_watch(gfs.inofd, dir, IN_MODIFY | IN_ONLYDIR);
	if (wd < 0) {
		gfs_log("inotify on %s: %m", dir);
		return;
	}
	if ((size_t)wd >= nby_wd) {
		size_t n = wd + 64;
		by_wd = xrealloc(by_wd, n * sizeof *by_wd);
		memset(by_wd + nby_wd, 0, (n - nby_wd) * sizeof *by_wd);
		nby_wd = n;
	}
	if (by_wd[wd]) {
		/* the same directory watched twice: one watch is enough */
		return;
	}
	struct gfs_watch *w = xcalloc(1, sizeof *w);
	w->wd = wd;
	w->id = id;
	w->c = c;
	w->next = c->watches;
	c->watches = w;
	by_wd[wd] = w;
}

void gfs_drop_watches(struct gfs_ctr *c, uint32_t id)
{
	for (struct gfs_watch **pp = &c->watches; *pp;) {
		struct gfs_watch *w = *pp;
		if (id && w->id != id) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		inotify_rm_watch(gfs.inofd, w->wd);
		if ((size_t)w->wd < nby_wd)
			by_wd[w->wd] = NULL;
		free(w);
	}
}

void gfs_inotify_event(void)
{
	char buf[16384]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(gfs.inofd, buf, sizeof buf);
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof *ev + ev->len;
			if (ev->wd < 0 || (size_t)ev->wd >= nby_wd ||
			    !by_wd[ev->wd])
				continue;
			if (ev->mask & IN_IGNORED) {
				/* the kernel dropped it (dir removed) */
				struct gfs_watch *w = by_wd[ev->wd];
				by_wd[ev->wd] = NULL;
				for (struct gfs_watch **pp = &w->c->watches;
				     *pp; pp = &(*pp)->next)
					if (*pp == w) {
						*pp = w->next;
						break;
					}
				free(w);
				continue;
			}
			struct gfs_watch *w = by_wd[ev->wd];
			gfs_wake(w->c, w->id);
			gfs_notify_pollers(w->c, T_STDOUT, w->id);
		}
	}
}

static void parked_unlink(struct gfs_parked *pk)
{
	*pk->prevp = pk->next;
	if (pk->next)
		pk->next->prevp = pk->prevp;
	free(pk->data);
	free(pk);
}

static void on_interrupt(fuse_req_t req, void *data)
{
	struct gfs_parked *pk = data;
	struct gfs_ctr *c = pk->c;
	if (pk->type == T_STDIN)
		epoll_ctl(gfs.epfd, EPOLL_CTL_DEL, pk->fh->fd, NULL);
	fuse_reply_err(req, EINTR);
	parked_unlink(pk);
	gfs_ctr_put(c);
}

static struct gfs_parked *park(fuse_req_t req, struct gfs_ctr *c,
			       struct gfs_fh *fh, enum gfs_type t, uint32_t id,
			       size_t size, char *data)
{
	if (fuse_req_interrupted(req)) {
		free(data);
		fuse_reply_err(req, EINTR);
		return NULL;
	}
	struct gfs_parked *pk = xcalloc(1, sizeof *pk);
	pk->evkind = EV_STDIN;
	pk->req = req;
	pk->fh = fh;
	pk->c = c;
	pk->type = t;
	pk->id = id;
	pk->size = size;
	pk->data = data;
	pk->next = c->parked;
	if (c->parked)
		c->parked->prevp = &pk->next;
	pk->prevp = &c->parked;
	c->parked = pk;
	c->refs++;
	if (t == T_STDOUT || t == T_STDERR)
		watch_proc(c, id);
	/* not interrupted yet (checked above; one thread), so pk stays */
	fuse_req_interrupt_func(req, on_interrupt, pk);
	return pk;
}

static void complete(struct gfs_parked *pk)
{
	struct gfs_ctr *c = pk->c;
	parked_unlink(pk);
	gfs_ctr_put(c);
}

void gfs_wake(struct gfs_ctr *c, uint32_t id)
{
	c->refs++;
	for (struct gfs_parked *pk = c->parked, *next; pk; pk = next) {
		next = pk->next;
		if (pk->id != id || pk->type == T_STOP || pk->type == T_STDIN)
			continue;
		if (stream_try(pk->req, pk->fh, pk->size)) {
			/* complete() may free the next one's container? no:
			 * we hold a ref; but it may free pk->next never */
			complete(pk);
		}
	}
	gfs_ctr_put(c);
}

void gfs_wake_stop(struct gfs_ctr *c)
{
	for (struct gfs_parked *pk = c->parked, *next; pk; pk = next) {
		next = pk->next;
		if (pk->type != T_STOP)
			continue;
		fuse_reply_write(pk->req, pk->size);
		complete(pk);
	}
}

/* The container is going away: every parked request gets its answer now:
 * streams end, waits and writes fail. */
void gfs_fail_parked(struct gfs_ctr *c)
{
	c->refs++;
	while (c->parked) {
		struct gfs_parked *pk = c->parked;
		if (pk->type == T_STDOUT || pk->type == T_STDERR)
			fuse_reply_buf(pk->req, NULL, 0);
		else if (pk->type == T_STOP)
			fuse_reply_write(pk->req, pk->size);
		else if (pk->type == T_STDIN) {
			epoll_ctl(gfs.epfd, EPOLL_CTL_DEL, pk->fh->fd, NULL);
			fuse_reply_err(pk->req, EPIPE);
		} else
			fuse_reply_err(pk->req, ENOENT);
		complete(pk);
	}
	gfs_drop_watches(c, 0);
	for (struct gfs_fh *fh = c->pollers; fh; fh = fh->poll_next)
		if (fh->ph && !fh->notify) {
			fh->notify = true;
			fh->notify_next = notify_head;
			notify_head = fh;
		}
	gfs_ctr_put(c);
}

void gfs_stdin_writable(struct gfs_parked *pk)
{
	ssize_t n = write(pk->fh->fd, pk->data, pk->size);
	if (n < 0 && errno == EAGAIN) {
		struct epoll_event ev = {.events = EPOLLOUT | EPOLLONESHOT,
					 .data.ptr = pk};
		epoll_ctl(gfs.epfd, EPOLL_CTL_MOD, pk->fh->fd, &ev);
		return;
	}
	epoll_ctl(gfs.epfd, EPOLL_CTL_DEL, pk->fh->fd, NULL);
	if (n < 0)
		fuse_reply_err(pk->req, errno == EPIPE ? EPIPE : errno);
	else
		fuse_reply_write(pk->req, n);
	complete(pk);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	struct gfs_fh *fh = (struct gfs_fh *)(uintptr_t)fi->fh;
	const struct gfs_node *n = &gfs_nodes[fh->type];
	gfs_err err = {0};
	switch (n->kind) {
	case K_STREAM:
		if (!stream_try(req, fh, size))
			park(req, fh->c, fh, fh->type, fh->idx, size, NULL);
		return;
	case K_CLONE:
		reply_slice(req, &fh->answer, fh->answer_off, size);
		if (fh->answer_off < fh->answer.len) {
			size_t left = fh->answer.len - fh->answer_off;
			fh->answer_off += left < size ? left : size;
		}
		return;
	case K_TEXT:
	case K_CMD:
	case K_PROP:
		if (off == 0 || fh->text.s == NULL) {
			int r = render(fh, &err);
			if (r < 0) {
				fuse_reply_err(req, -r);
				return;
			}
		}
		reply_slice(req, &fh->text, off, size);
		return;
	default:
		fuse_reply_err(req, EINVAL);
	}
}

/* The longest property value: less than one write request (op_init). */
static size_t prop_max = 65535;

static void write_prop(fuse_req_t req, struct gfs_fh *fh, const char *buf,
		       size_t size, off_t off)
{
	struct gfs_ctr *c = fh->c;
	gfs_err err = {0};
	if (fh->idx >= c->nprops || !c->props[fh->idx]) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	/* a value may take several writes (cat big > K): they accumulate in
	 * order; each one is applied before it returns.  fh->text keeps the
	 * value from before the first, to put back when one is refused. */
	struct gfs_prop *p = c->props[fh->idx];
	if (!fh->wrote) {
		sbuf_reset(&fh->text);
		sbuf_add(&fh->text, p->value, p->len);
		fh->wrote = true;
	}
	if (off == 0)
		sbuf_reset(&fh->answer);
	cleanup_free char *name = xstrdup(p->name);
	if ((uint64_t)off != fh->answer.len ||
	    fh->answer.len + size > prop_max) {
		int e = (uint64_t)off != fh->answer.len ? EINVAL : EFBIG;
		if (e == EINVAL)
			report_errno(c, e,
				     "property %s: writes must be sequential",
				     name);
		else
			report_errno(
			    c, e,
			    "property %s: values are limited to %zu bytes",
			    name, prop_max);
		if (gfs_prop_set(c, name, fh->text.s ? fh->text.s : "",
				 fh->text.len, NULL, &err) < 0)
			gfs_log("%s: %s", c->handle, err.msg);
		sbuf_reset(&fh->answer);
		fuse_reply_err(req, e);
		return;
	}
	sbuf_add(&fh->answer, buf, size);
	size_t len = fh->answer.len;
	if (len && fh->answer.s[len - 1] == '\n')
		len--;
	if (gfs_prop_set(c, name, fh->answer.s, len, NULL, &err) < 0) {
		fh->answer.len -= size;
		gfs_report(c, &err);
		fuse_reply_err(req, err.code);
		return;
	}
	fuse_reply_write(req, size);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	struct gfs_fh *fh = (struct gfs_fh *)(uintptr_t)fi->fh;
	const struct gfs_node *n = &gfs_nodes[fh->type];
	gfs_err err = {0};
	if (fh->c && fh->c->destroyed) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (n->kind == K_PROP) {
		write_prop(req, fh, buf, size, off);
		return;
	}
	if (n->kind == K_STDIN) {
		ssize_t w = write(fh->fd, buf, size);
		if (w >= 0) {
			fuse_reply_write(req, w);
			return;
		}
		if (errno != EAGAIN) {
			int e = errno;
			report_errno(fh->c, e, "procs/%u/stdin: %s", fh->idx,
				     e == EPIPE ? "the process closed its stdin"
						: strerror(e));
			fuse_reply_err(req, e);
			return;
		}
		/* the pipe is full: wait until the process reads */
		struct epoll_event ev = {.events = EPOLLOUT | EPOLLONESHOT};
		char *copy = xmalloc(size);
		memcpy(copy, buf, size);
		struct gfs_parked *pk =
		    park(req, fh->c, fh, T_STDIN, fh->idx, size, copy);
		if (!pk)
			return;
		ev.data.ptr = pk;
		if (epoll_ctl(gfs.epfd, EPOLL_CTL_ADD, fh->fd, &ev) < 0)
			epoll_ctl(gfs.epfd, EPOLL_CTL_MOD, fh->fd, &ev);
		return;
	}
	if (!n->write) {
		fuse_reply_err(req, EACCES);
		return;
	}
	size_t max = n->max_write ? n->max_write : GFS_CMD_MAX;
	if (size > max) {
		gfs_error(&err, EINVAL, "%s: a command is at most %zu bytes",
			  n->name, max);
		gfs_report(fh->c, &err);
		fuse_reply_err(req, EINVAL);
		return;
	}
	struct gfs_ctx x = {.type = fh->type, .c = fh->c, .idx = fh->idx};
	if (fh->c && is_proc_node(fh->type)) {
		x.p = rt_proc_find(fh->c->rt, fh->idx);
		if (!x.p) {
			fuse_reply_err(req, ENOENT);
			return;
		}
	}
	int r = n->write(&x, fh, buf, size, &err);
	if (r < 0) {
		gfs_report(fh->c && !fh->c->destroyed ? fh->c : NULL, &err);
		fuse_reply_err(req, -r);
		return;
	}
	if (r == 1) {
		park(req, fh->c, fh, fh->type, 0, size, NULL);
		return;
	}
	fuse_reply_write(req, size);
}

/* Attribute changes: only truncation means something (of a property). */
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	(void)fi;
	struct gfs_ctx x;
	if (!resolve_or_reply(req, ino, &x))
		return;
	if ((to_set & FUSE_SET_ATTR_SIZE) && x.type == T_PROP &&
	    attr->st_size == 0) {
		gfs_err err = {0};
		cleanup_free char *name = xstrdup(x.c->props[x.idx]->name);
		if (gfs_prop_set(x.c, name, "", 0, NULL, &err) < 0) {
			reply_fail(req, x.c, &err);
			return;
		}
	}
	struct stat st;
	fill_stat(&x, &st);
	fuse_reply_attr(req, &st, 0);
}

static bool prop_name_ok(const char *name, gfs_err *err)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return gfs_error(
				   err, EINVAL,
				   "property names may not hold control characters") &&
			       false;
	if (strlen(name) > 4 && strcmp(name + strlen(name) - 4, ".tmp") == 0)
		return gfs_error(err, EINVAL,
				 "property names may not end in .tmp") &&
		       false;
	return true;
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	(void)mode;
	struct gfs_ctx x;
	if (!resolve_or_reply(req, parent, &x))
		return;
	gfs_err err = {0};
	if (x.type != T_PROPS) {
		gfs_error(&err, ENOENT,
			  "no file %s here: only properties/ takes new files",
			  name);
		reply_fail(req, x.c, &err);
		return;
	}
	if (!prop_name_ok(name, &err)) {
		reply_fail(req, x.c, &err);
		return;
	}
	uint32_t slot;
	if (!gfs_prop_find(x.c, name, &slot) &&
	    gfs_prop_set(x.c, name, "", 0, &slot, &err) < 0) {
		reply_fail(req, x.c, &err);
		return;
	}
	struct gfs_ctx y = {.type = T_PROP, .c = x.c, .idx = slot};
	struct gfs_fh *fh;
	fi->flags &= ~O_TRUNC; /* it is empty or was just made */
	int r = open_node(&y, fi, &fh, &err);
	if (r < 0) {
		reply_fail(req, x.c, &err);
		return;
	}
	struct fuse_entry_param e;
	memset(&e, 0, sizeof e);
	fill_stat(&y, &e.attr);
	e.ino = e.attr.st_ino;
	if (fuse_reply_create(req, &e, fi) == -ENOENT)
		fh_free(fh);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct gfs_ctx x;
	if (!resolve_or_reply(req, parent, &x))
		return;
	gfs_err err = {0};
	if (x.type != T_PROPS) {
		gfs_error(&err, EPERM, "%s cannot be removed", name);
		reply_fail(req, x.c, &err);
		return;
	}
	if (gfs_prop_remove(x.c, name, &err) < 0) {
		reply_fail(req, x.c, &err);
		return;
	}
	fuse_reply_err(req, 0);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	(void)mode;
	struct gfs_ctx x;
	if (!resolve_or_reply(req, parent, &x))
		return;
	gfs_err err = {0};
	if (x.type != T_ROOT) {
		gfs_error(&err, EPERM,
			  "mkdir %s: containers are made at the top level only",
			  name);
		reply_fail(req, x.c, &err);
		return;
	}
	struct rt_create rc = {.handle = name};
	struct gfs_ctr *c;
	int r = gfs_ctr_create(name, &rc, NULL, false, 0, &c, &err);
	if (r < 0) {
		gfs_report(NULL, &err);
		fuse_reply_err(req, -r);
		return;
	}
	struct gfs_ctx y = {.type = T_CTR, .c = c};
	reply_entry(req, &y);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct gfs_ctx x, y;
	if (!resolve_or_reply(req, parent, &x))
		return;
	gfs_err err = {0};
	if (x.type != T_ROOT) {
		gfs_error(&err, EPERM,
			  "rmdir %s: only containers can be removed", name);
		reply_fail(req, x.c, &err);
		return;
	}
	int r = walk(&x, name, &y);
	if (r == 0 && y.type != T_CTR)
		r = gfs_error(&err, EPERM, "%s is not a container", name);
	else if (r < 0)
		gfs_error(&err, -r, "no container %s", name);
	if (r == 0)
		r = gfs_ctr_destroy(y.c, &err);
	if (r < 0) {
		gfs_report(NULL, &err);
		fuse_reply_err(req, -r);
		return;
	}
	fuse_reply_err(req, 0);
}

static void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	(void)ino;
	struct gfs_fh *fh = (struct gfs_fh *)(uintptr_t)fi->fh;
	struct gfs_ctr *c = fh->c;
	unsigned revents = 0;
	if (ph) {
		if (fh->ph)
			fuse_pollhandle_destroy(fh->ph);
		fh->ph = ph;
		if (c && !fh->poll_prevp) {
			fh->poll_next = c->pollers;
			if (c->pollers)
				c->pollers->poll_prevp = &fh->poll_next;
			fh->poll_prevp = &c->pollers;
			c->pollers = fh;
		}
	}
	if (!c || c->destroyed) {
		fuse_reply_poll(req, POLLIN | POLLOUT);
		return;
	}
	struct rt_proc *p =
	    is_proc_node(fh->type) ? rt_proc_find(c->rt, fh->idx) : NULL;
	switch (fh->type) {
	case T_STDOUT:
	case T_STDERR: {
		struct stat st;
		if (!p || p->exited ||
		    (fstat(fh->fd, &st) == 0 && (uint64_t)st.st_size > fh->off))
			revents = POLLIN;
		else if (ph)
			watch_proc(c, fh->idx);
		break;
	}
	case T_WAIT:
		if (!p || p->exited)
			revents = POLLIN;
		break;
	case T_INFO:
		if (fh->seen != c->ver_info || !fh->text.s)
			revents = POLLIN;
		break;
	case T_EVENTS:
		if (fh->seen != c->ver_events || !fh->text.s)
			revents = POLLIN;
		break;
	case T_STDIN:
		revents = POLLOUT;
		break;
	default:
		revents = POLLIN | POLLOUT;
	}
	fuse_reply_poll(req, revents);
}

void gfs_notify_pollers(struct gfs_ctr *c, enum gfs_type t, uint32_t id)
{
	for (struct gfs_fh *fh = c->pollers; fh; fh = fh->poll_next) {
		bool hit;
		if (t == T_STDOUT)
			hit = (fh->type == T_STDOUT || fh->type == T_STDERR ||
			       fh->type == T_WAIT) &&
			      fh->idx == id;
		else
			hit = fh->type == t;
		if (hit && fh->ph && !fh->notify) {
			fh->notify = true;
			fh->notify_next = notify_head;
			notify_head = fh;
		}
	}
}

void gfs_flush_notifications(void)
{
	while (notify_head) {
		struct gfs_fh *fh = notify_head;
		notify_head = fh->notify_next;
		fh->notify = false;
		if (fh->ph)
			fuse_lowlevel_notify_poll(fh->ph);
	}
}

static void op_init(void *ud, struct fuse_conn_info *conn)
{
	(void)ud;
	/* O_TRUNC arrives with open, so `echo x > file` is one open and one
	 * write, not a setattr in between */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~FUSE_CAP_ASYNC_READ;
	/* the kernel splits a larger write(2) into requests of max_write
	 * bytes; a property value must fit in one, so that an oversized
	 * write fails whole instead of being cut */
	if (conn->max_write > (1u << 20))
		conn->max_write = 1u << 20;
	/* a request may start anywhere in a page of the writer's buffer,
	 * so the first one of a large write can be a page short */
	prop_max = conn->max_write - 4096 - 1;
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

const struct fuse_lowlevel_ops gfs_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .create = op_create,
    .unlink = op_unlink,
    .mkdir = op_mkdir,
    .rmdir = op_rmdir,
    .poll = op_poll,
};
