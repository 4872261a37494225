/* The generic half of the file server: inodes to nodes, walking the
 * tables (lookup, getattr, readdir, open), calling through the kinds, and
 * the mechanics of parked requests and poll.  What each file says and
 * does is in nodes.c; how each kind of file behaves is in kinds.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gardenfs/access.h"
#include "gardenfs/gfs.h"
#include "gardenfs/nodes.h"
#include "lib/loop.h"
#include "lib/parse.h"

struct fuse_session *gfs_se;
size_t gfs_prop_max = 65535;
static uint64_t start_ms;

/* Entries and attributes of fixed rows never change while their parent
 * exists; a parent that goes away is looked up again first (its own
 * entry is never cached). */
#define STATIC_TIMEOUT 3600.0

/* Turns an inode into the node it names, or ENOENT when what it named is
 * gone (a destroyed container, an exited-and-replaced process, a removed
 * property). */
static int resolve(fuse_ino_t ino, struct gfs_ref *x)
{
	uint32_t slot;
	uint64_t idx;
	uint8_t id;
	gfs_ino_split(ino, &slot, &idx, &id);
	memset(x, 0, sizeof *x);
	x->row = gfs_row_by_id(id);
	if (!x->row)
		return -ENOENT;
	x->idx = idx;
	if (x->row->scope == GFS_TOP)
		return slot == 0 ? 0 : -ENOENT;
	x->c = gdn_ctr_slot(slot);
	if (!x->c)
		return -ENOENT;
	if (x->row->scope == GFS_PROC) {
		x->p = gdn_proc_by_id(x->c, (uint32_t)idx);
		if (!x->p || idx > UINT32_MAX)
			return -ENOENT;
	} else if (x->row->scope == GFS_PROP) {
		x->prop = gdn_prop_slot(x->c, (uint32_t)idx);
		if (!x->prop || idx > UINT32_MAX)
			return -ENOENT;
	}
	return 0;
}

static bool resolve_or_reply(fuse_req_t req, fuse_ino_t ino, struct gfs_ref *x)
{
	int r = resolve(ino, x);
	/* who asks first: a stranger learns not even what is gone */
	if (!gfs_access_ok(req, r == 0 ? x : NULL))
		return false;
	if (r < 0)
		fuse_reply_err(req, -r);
	return r == 0;
}

void gfs_reply_fail(fuse_req_t req, struct gdn_ctr *c, const gfs_err *err)
{
	gdn_report(c, err);
	fuse_reply_err(req, err->code ? err->code : EIO);
}

static void fill_stat(const struct gfs_ref *x, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = gfs_ref_ino(x);
	st->st_mode = x->row->mode;
	st->st_nlink = gfs_row_is_dir(x->row) ? 2 : 1;
	uint64_t ms = x->c ? x->c->created_ms : start_ms;
	st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_atim.tv_sec =
	    (time_t)(ms / 1000);
	st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = st->st_atim.tv_nsec =
	    (long)(ms % 1000) * 1000000;
	st->st_blksize = 4096;
	if (x->row->kind->stat)
		x->row->kind->stat(x, st);
	gfs_access_stat(x, st);
}

static double timeout_of(const struct gfs_ref *x)
{
	return x->row->name && x->row->kind->cacheable ? STATIC_TIMEOUT : 0;
}

static void reply_entry(fuse_req_t req, const struct gfs_ref *x)
{
	struct fuse_entry_param e;
	memset(&e, 0, sizeof e);
	fill_stat(x, &e.attr);
	e.ino = e.attr.st_ino;
	e.attr_timeout = e.entry_timeout = timeout_of(x);
	fuse_reply_entry(req, &e);
}

/* Looks name up in directory x. */
static int walk(const struct gfs_ref *x, const char *name, struct gfs_ref *y)
{
	if (!gfs_row_is_dir(x->row))
		return -ENOTDIR;
	const struct gfs_row *r = gfs_row_find(x->row, name);
	if (r) {
		*y = *x;
		y->row = r;
		return 0;
	}
	if (!x->row->dyn)
		return -ENOENT;
	memset(y, 0, sizeof *y);
	return x->row->dyn->lookup(x, name, y);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct gfs_ref x, y;
	int r = resolve(parent, &x);
	if (!gfs_access_ok(req, r == 0 ? &x : NULL))
		return;
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
	struct gfs_ref x;
	if (!resolve_or_reply(req, ino, &x))
		return;
	struct stat st;
	fill_stat(&x, &st);
	fuse_reply_attr(req, &st, timeout_of(&x));
}

/* --- open files --- */

static struct gfs_fh *fh_new(const struct gfs_ref *x, int flags)
{
	struct gfs_fh *fh = xcalloc(1, sizeof *fh);
	fh->x = *x;
	fh->fd = -1;
	fh->flags = flags;
	if (fh->x.c) {
		gdn_ctr_ref(fh->x.c);
		gdn_ctr_hold(fh->x.c);
	}
	if (fh->x.p)
		gdn_proc_ref(fh->x.p);
	return fh;
}

static void unqueue(struct gfs_fh *fh);

static void fh_free(struct gfs_fh *fh)
{
	gdn_waiter_cancel(&fh->pw);
	unqueue(fh);
	if (fh->ph)
		fuse_pollhandle_destroy(fh->ph);
	if (fh->fd >= 0)
		close(fh->fd);
	sbuf_free(&fh->text);
	sbuf_free(&fh->answer);
	for (size_t i = 0; i < fh->ndents; i++)
		free(fh->dents[i].name);
	free(fh->dents);
	if (fh->x.p)
		gdn_proc_put(fh->x.p);
	if (fh->x.c) {
		gdn_ctr_unhold(fh->x.c);
		gdn_ctr_put(fh->x.c);
	}
	free(fh);
}

static struct gfs_fh *fh_of(struct fuse_file_info *fi)
{
	return (struct gfs_fh *)(uintptr_t)fi->fh;
}

static void add_dent(struct gfs_fh *fh, const char *name,
		     const struct gfs_ref *x)
{
	fh->dents = xrealloc(fh->dents, (fh->ndents + 1) * sizeof *fh->dents);
	fh->dents[fh->ndents].name = xstrdup(name);
	fh->dents[fh->ndents].ino = gfs_ref_ino(x);
	fh->dents[fh->ndents].mode = x->row->mode;
	fh->ndents++;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct gfs_ref x;
	if (!resolve_or_reply(req, ino, &x))
		return;
	if (!gfs_row_is_dir(x.row)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	/* one snapshot per open, so that offsets stay meaningful while
	 * containers, processes and properties come and go */
	struct gfs_fh *fh = fh_new(&x, fi->flags);
	add_dent(fh, ".", &x);
	add_dent(fh, "..", &x);
	for (const struct gfs_row *const *r = x.row->rows; r && *r; r++) {
		struct gfs_ref y = x;
		y.row = *r;
		add_dent(fh, (*r)->name, &y);
	}
	if (x.row->dyn)
		x.row->dyn->list(&x, fh, add_dent);
	fi->fh = (uintptr_t)fh;
	if (fuse_reply_open(req, fi) == -ENOENT)
		fh_free(fh);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)ino;
	struct gfs_fh *fh = fh_of(fi);
	if (!gfs_access_ok(req, &fh->x))
		return;
	char *buf = xmalloc(size);
	size_t used = 0;
	for (size_t i = (size_t)off; i < fh->ndents; i++) {
		struct stat st = {.st_ino = fh->dents[i].ino,
				  .st_mode = fh->dents[i].mode};
		size_t n =
		    fuse_add_direntry(req, buf + used, size - used,
				      fh->dents[i].name, &st, (off_t)i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	(void)ino;
	fh_free(fh_of(fi));
	fuse_reply_err(req, 0);
}

static bool wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

static bool wants_read(int flags)
{
	return (flags & O_ACCMODE) != O_WRONLY;
}

static int open_ref(const struct gfs_ref *x, struct fuse_file_info *fi,
		    struct gfs_fh **out, gfs_err *err)
{
	const struct gfs_row *r = x->row;
	if (gfs_row_is_dir(r))
		return gfs_error(err, EISDIR, "%s is a directory", r->name);
	if (wants_write(fi->flags) && !(r->mode & 0222))
		return gfs_error(err, EACCES, "%s is read-only",
				 r->name ? r->name : x->prop->name);
	if (wants_read(fi->flags) && !(r->mode & 0444))
		return gfs_error(err, EACCES, "%s is write-only", r->name);
	struct gfs_fh *fh = fh_new(x, fi->flags);
	fi->direct_io = 1;
	if (r->kind->open) {
		int rc = r->kind->open(fh, fi, err);
		if (rc < 0) {
			fh_free(fh);
			return rc;
		}
	}
	*out = fh;
	fi->fh = (uintptr_t)fh;
	return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct gfs_ref x;
	if (!resolve_or_reply(req, ino, &x))
		return;
	gfs_err err = {0};
	struct gfs_fh *fh;
	if (open_ref(&x, fi, &fh, &err) < 0) {
		gfs_reply_fail(req, x.c, &err);
		return;
	}
	if (fuse_reply_open(req, fi) == -ENOENT) {
		/* the opener was interrupted */
		if (fh->x.row->kind->release)
			fh->x.row->kind->release(fh);
		fh_free(fh);
	}
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	struct gfs_fh *fh = fh_of(fi);
	if (fh->x.row->kind->release)
		fh->x.row->kind->release(fh);
	fh_free(fh);
	fuse_reply_err(req, 0);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	struct gfs_fh *fh = fh_of(fi);
	if (!gfs_access_ok(req, &fh->x))
		return;
	if (fh->x.c)
		gdn_ctr_touch(fh->x.c);
	if (!fh->x.row->kind->read) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	fh->x.row->kind->read(req, fh, size, off);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	struct gfs_fh *fh = fh_of(fi);
	if (!gfs_access_ok(req, &fh->x))
		return;
	if (fh->x.c && fh->x.c->phase != GDN_LIVE) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (fh->x.c)
		gdn_ctr_touch(fh->x.c);
	fh->owner = fi->lock_owner;
	if (!fh->x.row->kind->write) {
		fuse_reply_err(req, EACCES);
		return;
	}
	fh->x.row->kind->write(req, fh, buf, size, off);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct gfs_fh *fh = fh_of(fi);
	if (!gfs_access_ok(req, &fh->x))
		return;
	fh->owner = fi->lock_owner;
	if (fh->x.row->kind->flush)
		fh->x.row->kind->flush(req, fh);
	else
		fuse_reply_err(req, 0);
}

/* --- poll --- */

/* Notifications go out after the round, never from inside a request
 * handler (libfuse's rule). */
static struct gfs_fh **due;
static size_t ndue, capdue;

static void flush_notifications(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < ndue; i++) {
		struct gfs_fh *fh = due[i];
		fh->notify_due = false;
		if (fh->ph)
			fuse_lowlevel_notify_poll(fh->ph);
	}
	ndue = 0;
}

void gfs_poll_due(struct gfs_fh *fh)
{
	if (fh->notify_due || !fh->ph)
		return;
	if (ndue == capdue) {
		capdue = capdue ? capdue * 2 : 64;
		due = xrealloc(due, capdue * sizeof *due);
	}
	due[ndue++] = fh;
	fh->notify_due = true;
	loop_defer(flush_notifications, NULL);
}

static void poll_wake(struct gdn_waiter *w, enum gdn_event ev)
{
	(void)ev;
	gfs_poll_due(gfs_container_of(w, struct gfs_fh, pw));
}

static void unqueue(struct gfs_fh *fh)
{
	if (!fh->notify_due)
		return;
	for (size_t i = 0; i < ndue; i++)
		if (due[i] == fh) {
			due[i] = due[--ndue];
			break;
		}
	fh->notify_due = false;
}

static void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	(void)ino;
	struct gfs_fh *fh = fh_of(fi);
	const struct gfs_kind *k = fh->x.row->kind;
	if (!gfs_access_ok(req, &fh->x)) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		return;
	}
	if (ph) {
		if (fh->ph)
			fuse_pollhandle_destroy(fh->ph);
		fh->ph = ph;
		/* subscribe once: a process's events, or the container's */
		if (!gdn_waiter_attached(&fh->pw) && fh->x.c &&
		    fh->x.c->phase == GDN_LIVE && k->poll_mask) {
			fh->pw.wake = poll_wake;
			fh->pw.mask = k->poll_mask;
			if (fh->x.p && fh->x.p->c)
				gdn_proc_wait(fh->x.p, &fh->pw);
			else
				gdn_ctr_wait(fh->x.c, &fh->pw);
		}
	}
	unsigned revents = POLLIN | POLLOUT;
	if (fh->x.c && fh->x.c->phase != GDN_LIVE)
		revents = POLLIN | POLLOUT | POLLHUP;
	else if (k->poll)
		revents = k->poll(fh);
	fuse_reply_poll(req, revents);
}

/* --- parking --- */

static void on_interrupt(fuse_req_t req, void *data)
{
	struct gfs_park *pk = data;
	(void)req;
	if (pk->done)
		return;
	if (pk->cancel)
		pk->cancel(pk);
	fuse_reply_err(pk->req, EINTR);
	gfs_park_done(pk);
}

struct gfs_park *gfs_park(fuse_req_t req, struct gfs_fh *fh, size_t size)
{
	if (fuse_req_interrupted(req)) {
		fuse_reply_err(req, EINTR);
		return NULL;
	}
	struct gfs_park *pk = xcalloc(1, sizeof *pk);
	pk->req = req;
	pk->fh = fh;
	pk->size = size;
	if (fh) {
		pk->next = fh->parked;
		if (fh->parked)
			fh->parked->prevp = &pk->next;
		pk->prevp = &fh->parked;
		fh->parked = pk;
	}
	/* one thread: it cannot be interrupted between the check above and
	 * this, so pk stays valid for the callback */
	fuse_req_interrupt_func(req, on_interrupt, pk);
	return pk;
}

void gfs_park_done(struct gfs_park *pk)
{
	gdn_waiter_cancel(&pk->w);
	if (pk->prevp) {
		*pk->prevp = pk->next;
		if (pk->next)
			pk->next->prevp = pk->prevp;
	}
	/* libfuse calls the interrupt function only while the request
	 * lives; a replied request is freed, so pk may go now */
	free(pk);
}

void gfs_reply_slice(fuse_req_t req, const sbuf *b, off_t off, size_t size)
{
	if ((size_t)off >= b->len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	size_t n = b->len - (size_t)off;
	fuse_reply_buf(req, b->s + off, n < size ? n : size);
}

/* --- the few namespace operations --- */

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	(void)fi;
	struct gfs_ref x;
	if (!resolve_or_reply(req, ino, &x))
		return;
	/* only truncation means something: `: > properties/K` */
	if ((to_set & FUSE_SET_ATTR_SIZE) && x.prop && attr->st_size == 0) {
		gfs_err err = {0};
		cleanup_free char *name = xstrdup(x.prop->name);
		if (gdn_prop_set(x.c, name, "", 0, NULL, &err) < 0) {
			gfs_reply_fail(req, x.c, &err);
			return;
		}
	}
	struct stat st;
	fill_stat(&x, &st);
	fuse_reply_attr(req, &st, timeout_of(&x));
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	(void)mode;
	struct gfs_ref x;
	if (!resolve_or_reply(req, parent, &x))
		return;
	gfs_err err = {0};
	if (!x.row->dyn || x.row->dyn->row->kind != &gfs_kind_prop) {
		gfs_error(&err, ENOENT,
			  "no file %s here: only properties/ takes new files",
			  name);
		gfs_reply_fail(req, x.c, &err);
		return;
	}
	struct gdn_prop *p = gdn_prop_find(x.c, name);
	if (!p && gdn_prop_set(x.c, name, "", 0, &p, &err) < 0) {
		gfs_reply_fail(req, x.c, &err);
		return;
	}
	struct gfs_ref y = {
	    .row = x.row->dyn->row, .c = x.c, .prop = p, .idx = p->slot};
	struct gfs_fh *fh;
	fi->flags &= ~O_TRUNC; /* it is empty or was just made */
	if (open_ref(&y, fi, &fh, &err) < 0) {
		gfs_reply_fail(req, x.c, &err);
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
	struct gfs_ref x;
	if (!resolve_or_reply(req, parent, &x))
		return;
	gfs_err err = {0};
	if (!x.row->dyn || x.row->dyn->row->kind != &gfs_kind_prop) {
		gfs_error(&err, EPERM, "%s cannot be removed", name);
		gfs_reply_fail(req, x.c, &err);
		return;
	}
	if (gdn_prop_remove(x.c, name, &err) < 0) {
		gfs_reply_fail(req, x.c, &err);
		return;
	}
	fuse_reply_err(req, 0);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	(void)mode;
	struct gfs_ref x;
	if (!resolve_or_reply(req, parent, &x))
		return;
	if (x.row != &gfs_root) {
		gfs_err err = {0};
		gfs_error(&err, EPERM,
			  "mkdir %s: containers are made at the top level only",
			  name);
		gfs_reply_fail(req, x.c, &err);
		return;
	}
	gfs_mkdir_ctr(req, name);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct gfs_ref x;
	if (!resolve_or_reply(req, parent, &x))
		return;
	if (x.row != &gfs_root) {
		gfs_err err = {0};
		gfs_error(&err, EPERM,
			  "rmdir %s: only containers can be removed", name);
		gfs_reply_fail(req, x.c, &err);
		return;
	}
	gfs_rmdir_ctr(req, name);
}

/* The reply to mkdir, once the container is made (nodes.c). */
void gfs_reply_ctr_entry(fuse_req_t req, struct gdn_ctr *c)
{
	struct gfs_ref y = {.row = gfs_root.dyn->row, .c = c};
	reply_entry(req, &y);
}

static void op_init(void *ud, struct fuse_conn_info *conn)
{
	(void)ud;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	start_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	/* O_TRUNC arrives with open, so `echo x > file` is one open and one
	 * write, not a setattr in between */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* output goes from its file to the kernel by splice */
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	/* reads of a stream must reach us in the order they were made */
	conn->want &= ~FUSE_CAP_ASYNC_READ;
	/* the kernel splits a larger write(2) into requests of max_write
	 * bytes; a property value must fit in one, so that an oversized
	 * write fails whole instead of being cut */
	if (conn->max_write > (1u << 20))
		conn->max_write = 1u << 20;
	/* a request may start anywhere in a page of the writer's buffer,
	 * so the first one of a large write can be a page short */
	gfs_prop_max = conn->max_write - 4096 - 1;
	gdn_prop_max = gfs_prop_max;
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
