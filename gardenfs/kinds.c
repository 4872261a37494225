/* The kinds of files of the tree, each one struct of operations:
 *   dir     a table (fs.c serves it)
 *   text    rendered at open or offset 0, sliced by reads (one snapshot)
 *   cmd     a write is one command; a read renders (may be empty)
 *   clone   a write is one command; a read on the same fd is its answer
 *   prop    a property: its value, written in one or more writes
 *   stream  stdout, stderr: the file from byte 0, then parked for more
 *   wait    parked until the process exits, then its status
 *   stdin   bytes to the process; parked while its pipe is full */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gardenfs/gfs.h"
#include "lib/loop.h"
#include "lib/parse.h"

void gfs_answer(struct gfs_fh *fh, const char *fmt, ...)
{
	va_list ap;
	sbuf_reset(&fh->answer);
	fh->answer_off = 0;
	va_start(ap, fmt);
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) >= 0) {
		sbuf_adds(&fh->answer, s);
		free(s);
	}
	va_end(ap);
}

/* The node is still there: its container live, its process known. */
static int still_there(const struct gfs_fh *fh, gfs_err *err)
{
	if (fh->x.c && fh->x.c->phase != GDN_LIVE)
		return gfs_error(err, ENOENT, "container %s is gone",
				 fh->x.c->handle);
	if (fh->x.p && !fh->x.p->c)
		return gfs_error(err, ENOENT, "process %s is gone",
				 fh->x.p->name);
	return 0;
}

/* --- text --- */

static int render(struct gfs_fh *fh, gfs_err *err)
{
	int r = still_there(fh, err);
	if (r < 0)
		return r;
	sbuf_reset(&fh->text);
	/* an empty rendering still counts as read (poll compares) */
	sbuf_add(&fh->text, "", 0);
	if (fh->x.row->version)
		fh->seen = fh->x.row->version(&fh->x);
	return fh->x.row->render ? fh->x.row->render(&fh->x, &fh->text, err)
				 : 0;
}

static void text_read(fuse_req_t req, struct gfs_fh *fh, size_t size, off_t off)
{
	if (off == 0 || fh->text.s == NULL) {
		gfs_err err = {0};
		if (render(fh, &err) < 0) {
			gfs_reply_fail(req, fh->x.c, &err);
			return;
		}
	}
	gfs_reply_slice(req, &fh->text, off, size);
}

static unsigned text_poll(struct gfs_fh *fh)
{
	if (!fh->x.row->version || !fh->text.s ||
	    fh->seen != fh->x.row->version(&fh->x))
		return POLLIN;
	return 0;
}

const struct gfs_kind gfs_kind_text = {
    .read = text_read,
    .poll = text_poll,
    .poll_mask = GDN_EV_INFO | GDN_EV_EVENTS,
    .cacheable = true,
};

const struct gfs_kind gfs_kind_dir = {.cacheable = true};

/* --- commands --- */

/* One write is one command: checked for size, turned into a line, given
 * to the row's handler.  Returns the handler's verdict; 0 when the front
 * replied already. */
static void run_cmd(fuse_req_t req, struct gfs_fh *fh, const char *buf,
		    size_t size)
{
	const struct gfs_row *row = fh->x.row;
	gfs_err err = {0};
	size_t max = row->max_write ? row->max_write : GFS_CMD_MAX;
	cleanup_free char *line = NULL;
	int r;
	if (size > max)
		r = gfs_error(&err, EINVAL,
			      "%s: a command is at most %zu bytes", row->name,
			      max);
	else
		r = still_there(fh, &err);
	if (r == 0 && !row->raw)
		r = gfs_command(buf, size, &line, &err);
	if (r == 0) {
		struct gfs_cmd k = {req, fh, &fh->x, buf, size, line};
		r = row->cmd(&k, &err);
	}
	if (r == GFS_LATER)
		return;
	if (r < 0) {
		if (!err.code)
			gfs_error(&err, -r, "%s: %s", row->name, strerror(-r));
		gfs_reply_fail(
		    req, fh->x.c && fh->x.c->phase == GDN_LIVE ? fh->x.c : NULL,
		    &err);
		return;
	}
	fh->wrote = true;
	fuse_reply_write(req, size);
}

static void cmd_write(fuse_req_t req, struct gfs_fh *fh, const char *buf,
		      size_t size, off_t off)
{
	(void)off;
	run_cmd(req, fh, buf, size);
}

const struct gfs_kind gfs_kind_cmd = {
    .read = text_read,
    .write = cmd_write,
    .cacheable = true,
};

static int clone_open(struct gfs_fh *fh, struct fuse_file_info *fi,
		      gfs_err *err)
{
	(void)fh;
	(void)err;
	fi->nonseekable = 1;
	return 0;
}

static void clone_read(fuse_req_t req, struct gfs_fh *fh, size_t size,
		       off_t off)
{
	/* before any write, a clone file with a rendering lists (net/in) */
	if (!fh->wrote && fh->x.row->render) {
		text_read(req, fh, size, off);
		return;
	}
	gfs_reply_slice(req, &fh->answer, (off_t)fh->answer_off, size);
	if (fh->answer_off < fh->answer.len) {
		size_t left = fh->answer.len - fh->answer_off;
		fh->answer_off += left < size ? left : size;
	}
}

const struct gfs_kind gfs_kind_clone = {
    .open = clone_open,
    .read = clone_read,
    .write = cmd_write,
    .cacheable = true,
};

/* --- properties --- */

static int prop_open(struct gfs_fh *fh, struct fuse_file_info *fi, gfs_err *err)
{
	(void)err;
	/* O_TRUNC empties the value only if nothing is written before
	 * close: a refused write must leave the old value */
	fh->trunc =
	    (fi->flags & O_ACCMODE) != O_RDONLY && (fi->flags & O_TRUNC);
	return 0;
}

static struct gdn_prop *prop_of(struct gfs_fh *fh)
{
	if (fh->x.c->phase != GDN_LIVE)
		return NULL;
	/* the slot names it while it exists; removed and made again, it
	 * has another slot */
	struct gdn_prop *p = gdn_prop_slot(fh->x.c, (uint32_t)fh->x.idx);
	return p == fh->x.prop ? p : NULL;
}

static void prop_read(fuse_req_t req, struct gfs_fh *fh, size_t size, off_t off)
{
	if (off == 0 || !fh->text.s) {
		struct gdn_prop *p = prop_of(fh);
		if (!p) {
			fuse_reply_err(req, ENOENT);
			return;
		}
		sbuf_reset(&fh->text);
		sbuf_add(&fh->text, p->value, p->len);
		sbuf_addc(&fh->text, '\n');
	}
	gfs_reply_slice(req, &fh->text, off, size);
}

static void prop_write(fuse_req_t req, struct gfs_fh *fh, const char *buf,
		       size_t size, off_t off)
{
	struct gdn_ctr *c = fh->x.c;
	gfs_err err = {0};
	struct gdn_prop *p = prop_of(fh);
	if (!p) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	/* a value may take several writes (cat big > K): they accumulate in
	 * order; each one is applied before it returns.  fh->text keeps the
	 * value from before the first, to put back when one is refused. */
	if (!fh->wrote) {
		sbuf_reset(&fh->text);
		sbuf_add(&fh->text, p->value, p->len);
		fh->wrote = true;
	}
	if (off == 0)
		sbuf_reset(&fh->answer);
	cleanup_free char *name = xstrdup(p->name);
	if ((uint64_t)off != fh->answer.len ||
	    fh->answer.len + size > gfs_prop_max) {
		if ((uint64_t)off != fh->answer.len)
			gfs_error(&err, EINVAL,
				  "property %s: writes must be sequential",
				  name);
		else
			gfs_error(
			    &err, EFBIG,
			    "property %s: values are limited to %zu bytes",
			    name, gfs_prop_max);
		gfs_err e2 = {0};
		if (gdn_prop_set(c, name, fh->text.s ? fh->text.s : "",
				 fh->text.len, NULL, &e2) < 0)
			gdn_report(c, &e2);
		sbuf_reset(&fh->answer);
		gfs_reply_fail(req, c, &err);
		return;
	}
	sbuf_add(&fh->answer, buf, size);
	size_t len = fh->answer.len;
	if (len && fh->answer.s[len - 1] == '\n')
		len--;
	if (gdn_prop_set(c, name, fh->answer.s, len, NULL, &err) < 0) {
		fh->answer.len -= size;
		gfs_reply_fail(req, c, &err);
		return;
	}
	fuse_reply_write(req, size);
}

static void prop_release(struct gfs_fh *fh)
{
	struct gdn_prop *p = prop_of(fh);
	if (!fh->trunc || fh->wrote || !p)
		return;
	/* `: > K` empties it */
	gfs_err err = {0};
	cleanup_free char *name = xstrdup(p->name);
	if (gdn_prop_set(fh->x.c, name, "", 0, NULL, &err) < 0)
		gdn_report(fh->x.c, &err);
}

static void prop_stat(const struct gfs_ref *x, struct stat *st)
{
	st->st_size = (off_t)x->prop->len + 1;
}

const struct gfs_kind gfs_kind_prop = {
    .open = prop_open,
    .read = prop_read,
    .write = prop_write,
    .release = prop_release,
    .stat = prop_stat,
};

/* --- stdout, stderr --- */

static int which_stream(const struct gfs_fh *fh)
{
	return (int)(uintptr_t)fh->x.row->arg;
}

static int stream_open(struct gfs_fh *fh, struct fuse_file_info *fi,
		       gfs_err *err)
{
	fi->nonseekable = 1;
	fh->fd = gdn_output_open(fh->x.p, which_stream(fh), err);
	return fh->fd < 0 ? fh->fd : 0;
}

/* Replies when there is data or the end; false when it must wait.  The
 * data goes from the output file to the kernel without a copy through us
 * (fuse_reply_data with an fd buffer: splice where the kernel takes it). */
static bool stream_try(fuse_req_t req, struct gfs_fh *fh, size_t size)
{
	if (fh->x.c->phase != GDN_LIVE || !fh->x.p->c) {
		fuse_reply_buf(req, NULL, 0);
		return true;
	}
	/* exited before the size: nothing written just before the exit is
	 * taken for the end */
	bool done = gdn_output_done(fh->x.p);
	struct stat st;
	if (fstat(fh->fd, &st) < 0) {
		fuse_reply_err(req, errno);
		return true;
	}
	uint64_t have =
	    (uint64_t)st.st_size > fh->off ? (uint64_t)st.st_size - fh->off : 0;
	if (have == 0 && !done)
		return false;
	size_t n = have < size ? (size_t)have : size;
	if (n == 0) {
		fuse_reply_buf(req, NULL, 0);
		return true;
	}
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(n);
	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = fh->fd;
	bv.buf[0].pos = (off_t)fh->off;
	/* the file only grows: what fstat saw is there to read */
	fh->off += n;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
	return true;
}

static void stream_wake(struct gdn_waiter *w, enum gdn_event ev)
{
	struct gfs_park *pk = gfs_container_of(w, struct gfs_park, w);
	if (ev == GDN_EV_GONE) {
		fuse_reply_buf(pk->req, NULL, 0);
		gfs_park_done(pk);
		return;
	}
	if (stream_try(pk->req, pk->fh, pk->size))
		gfs_park_done(pk);
}

static void stream_read(fuse_req_t req, struct gfs_fh *fh, size_t size,
			off_t off)
{
	(void)off;
	if (stream_try(req, fh, size))
		return;
	struct gfs_park *pk = gfs_park(req, fh, size);
	if (!pk)
		return;
	pk->w.wake = stream_wake;
	pk->w.mask = GDN_EV_OUTPUT | GDN_EV_EXIT;
	gdn_proc_wait(fh->x.p, &pk->w);
}

static unsigned stream_poll(struct gfs_fh *fh)
{
	struct stat st;
	if (gdn_output_done(fh->x.p) ||
	    (fstat(fh->fd, &st) == 0 && (uint64_t)st.st_size > fh->off))
		return POLLIN;
	return 0;
}

static void stream_stat(const struct gfs_ref *x, struct stat *st)
{
	/* the size of the output so far, so that ls -l tells */
	gfs_err err = {0};
	struct stat fst;
	int fd = gdn_output_open(x->p, (int)(uintptr_t)x->row->arg, &err);
	if (fd >= 0 && fstat(fd, &fst) == 0)
		st->st_size = fst.st_size;
	if (fd >= 0)
		close(fd);
}

const struct gfs_kind gfs_kind_stream = {
    .open = stream_open,
    .read = stream_read,
    .poll = stream_poll,
    .stat = stream_stat,
    .poll_mask = GDN_EV_OUTPUT | GDN_EV_EXIT,
};

/* --- wait --- */

static bool wait_try(fuse_req_t req, struct gfs_fh *fh, size_t size)
{
	struct gdn_proc *p = fh->x.p;
	if (fh->x.c->phase != GDN_LIVE && p->state != GDN_EXITED) {
		fuse_reply_err(req, ENOENT);
		return true;
	}
	if (p->state != GDN_EXITED)
		return false;
	sbuf_reset(&fh->text);
	sbuf_printf(&fh->text, "%d\n", p->status);
	gfs_reply_slice(req, &fh->text, (off_t)fh->off, size);
	if (fh->off < fh->text.len) {
		size_t left = fh->text.len - fh->off;
		fh->off += left < size ? left : size;
	}
	return true;
}

static void wait_wake(struct gdn_waiter *w, enum gdn_event ev)
{
	struct gfs_park *pk = gfs_container_of(w, struct gfs_park, w);
	(void)ev;
	if (wait_try(pk->req, pk->fh, pk->size))
		gfs_park_done(pk);
}

static void wait_read(fuse_req_t req, struct gfs_fh *fh, size_t size, off_t off)
{
	(void)off;
	if (wait_try(req, fh, size))
		return;
	struct gfs_park *pk = gfs_park(req, fh, size);
	if (!pk)
		return;
	pk->w.wake = wait_wake;
	pk->w.mask = GDN_EV_EXIT;
	gdn_proc_wait(fh->x.p, &pk->w);
}

static unsigned wait_poll(struct gfs_fh *fh)
{
	return fh->x.p->state == GDN_EXITED ? POLLIN : 0;
}

const struct gfs_kind gfs_kind_wait = {
    .open = clone_open,
    .read = wait_read,
    .poll = wait_poll,
    .poll_mask = GDN_EV_EXIT,
};

/* --- stdin --- */

struct stdin_park {
	struct gfs_park *pk;
	struct loop_watch w;
	char *data;
};

static int stdin_open(struct gfs_fh *fh, struct fuse_file_info *fi,
		      gfs_err *err)
{
	fi->nonseekable = 1;
	bool first = false;
	fh->fd = gdn_stdin_open(fh->x.p, &first, err);
	if (fh->fd < 0)
		return fh->fd;
	fh->first_writer = first;
	return 0;
}

static void stdin_fail(fuse_req_t req, struct gfs_fh *fh, int e)
{
	gfs_err err = {0};
	gfs_error(&err, e, "procs/%s/stdin: %s", fh->x.p->name,
		  e == EPIPE ? "the process closed its stdin" : strerror(e));
	gfs_reply_fail(req, fh->x.c, &err);
}

static void stdin_cancel(struct gfs_park *pk)
{
	struct stdin_park *sp = pk->fh->priv;
	if (sp && sp->pk == pk) {
		loop_watch_del(&sp->w);
		free(sp->data);
		free(sp);
		pk->fh->priv = NULL;
	}
}

static void stdin_writable(struct loop_watch *w, uint32_t events)
{
	(void)events;
	struct stdin_park *sp = gfs_container_of(w, struct stdin_park, w);
	struct gfs_park *pk = sp->pk;
	struct gfs_fh *fh = pk->fh;
	ssize_t n = write(fh->fd, sp->data, pk->size);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n < 0)
		stdin_fail(pk->req, fh, errno);
	else
		fuse_reply_write(pk->req, (size_t)n);
	stdin_cancel(pk);
	gfs_park_done(pk);
}

/* The container went while a write waited. */
static void stdin_gone(struct gdn_waiter *w, enum gdn_event ev)
{
	(void)ev;
	struct gfs_park *pk = gfs_container_of(w, struct gfs_park, w);
	stdin_cancel(pk);
	fuse_reply_err(pk->req, EPIPE);
	gfs_park_done(pk);
}

static void stdin_write(fuse_req_t req, struct gfs_fh *fh, const char *buf,
			size_t size, off_t off)
{
	(void)off;
	ssize_t w = write(fh->fd, buf, size);
	if (w >= 0) {
		fuse_reply_write(req, (size_t)w);
		return;
	}
	if (errno != EAGAIN || fh->priv) {
		stdin_fail(req, fh, errno == EAGAIN ? EBUSY : errno);
		return;
	}
	/* the pipe is full: wait until the process reads */
	struct gfs_park *pk = gfs_park(req, fh, size);
	if (!pk)
		return;
	struct stdin_park *sp = xcalloc(1, sizeof *sp);
	sp->pk = pk;
	sp->data = xmalloc(size);
	memcpy(sp->data, buf, size);
	fh->priv = sp;
	pk->cancel = stdin_cancel;
	pk->w.wake = stdin_gone;
	pk->w.mask = 0;
	gdn_proc_wait(fh->x.p, &pk->w);
	if (loop_watch_add(&sp->w, fh->fd, EPOLLOUT, stdin_writable) < 0) {
		stdin_cancel(pk);
		stdin_fail(req, fh, EIO);
		gfs_park_done(pk);
	}
}

static void stdin_release(struct gfs_fh *fh)
{
	gfs_err err = {0};
	if (fh->first_writer && fh->x.c->phase == GDN_LIVE &&
	    gdn_stdin_eof(fh->x.p, &err) < 0)
		gdn_log("%s: %s", fh->x.c->handle, err.msg);
}

static unsigned stdin_poll(struct gfs_fh *fh)
{
	(void)fh;
	return POLLOUT;
}

const struct gfs_kind gfs_kind_stdin = {
    .open = stdin_open,
    .write = stdin_write,
    .release = stdin_release,
    .poll = stdin_poll,
};
