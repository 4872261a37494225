/* streamin and streamout: Garden's StreamIn and StreamOut as files, and
 * procs/N/tty.
 *
 *   streamin   write: a path line, an optional `user NAME` line, then a tar
 *              stream, in as many writes as it takes; the close (flush) of
 *              a writer reports how the unpacking went
 *   streamout  write: a path (and an optional `user NAME` line); it returns
 *              once the path is found (ENOENT when not); reads on the same
 *              descriptor then give a tar of it
 *
 * The bytes go through garden's stream (garden/stream.c) and a child
 * confined to the container; here they are only copied between FUSE
 * requests and its pipe, never blocking: a full or empty pipe parks the
 * request until the stream says it can go on.
 *
 * Which close ends a streamin: FUSE sends a flush for every close(2) of
 * every descriptor, and a shell forks children that hold the file without
 * writing to it (`$(...)`, a command with its stdout redirected elsewhere)
 * and close it at once.  So the stream ends at the flush of a descriptor
 * table (the request's lock owner) that wrote to it; the others' flushes
 * change nothing. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gardenfs/gfs.h"
#include "gardenfs/nodes.h"
#include "gardenfs/streams.h"
#include "lib/parse.h"

/* The streamin header is a path and a user line: a little over PATH_MAX. */
#define HEADER_MAX (RT_STREAM_PATH_MAX + RT_STREAM_USER_MAX + 16)
/* Writers remembered per open file; past this every flush ends it. */
#define OWNERS_MAX 32

/* A streamin write that waits for room in the pipe; its bytes are ours. */
struct inq {
	struct gfs_park *pk;
	char *buf;
	size_t off, len;
	struct inq *next;
};

struct gfs_streaming {
	struct gdn_stream *s;
	sbuf hdr; /* streamin: the header so far */
	/* streamin: writes waiting, in order; only the first one waits on
	 * the stream (the kernel sends one write at a time anyway) */
	struct inq *q;
	int err;      /* refused or cut: what every later write and close get */
	bool ended;   /* streamin: a writer closed; no more bytes */
	bool end_due; /* ... once the queue is through */
	bool told;    /* the stream's failure is in errors already */
	bool started; /* streamout: the write of the path was answered */
	bool data_end; /* streamout: the data pipe ended; the verdict follows */
	bool read_any; /* streamout: a byte of the archive went to a reader */
	char *path;    /* streamout: as written, for a user line after it */
	bool as_user;  /* streamout: a user line was given */
	uint64_t owners[OWNERS_MAX];
	size_t nowners;
	bool many; /* more writers than owners holds */
};

static struct gfs_streaming *st_of(struct gfs_fh *fh)
{
	if (!fh->priv)
		fh->priv = xcalloc(1, sizeof(struct gfs_streaming));
	return fh->priv;
}

/* Where a failure's line goes: the container's errors while it lives. */
static struct gdn_ctr *report_to(const struct gfs_fh *fh)
{
	return fh->x.c && fh->x.c->phase == GDN_LIVE ? fh->x.c : NULL;
}

static void fail_req(fuse_req_t req, struct gfs_fh *fh, const gfs_err *err)
{
	gfs_reply_fail(req, report_to(fh), err);
}

/* The stream failed: its errno to req, its reason to errors once. */
static void reply_failed(fuse_req_t req, struct gfs_fh *fh)
{
	struct gfs_streaming *st = fh->priv;
	gfs_err why = {0};
	gdn_stream_state(st->s, &why);
	if (!why.code)
		gfs_error(&why, EIO, "the stream failed");
	if (st->told) {
		fuse_reply_err(req, why.code);
		return;
	}
	st->told = true;
	fail_req(req, fh, &why);
}

static bool failed(const struct gfs_streaming *st)
{
	return st->s && gdn_stream_state(st->s, NULL) == GDN_STREAM_FAILED;
}

static bool over(const struct gfs_streaming *st)
{
	enum gdn_stream_state ss = gdn_stream_state(st->s, NULL);
	return ss == GDN_STREAM_DONE || ss == GDN_STREAM_FAILED;
}

/* A writer's verdict: 0 when the stream is whole, else its failure. */
static void reply_verdict(fuse_req_t req, struct gfs_fh *fh)
{
	if (failed(fh->priv))
		reply_failed(req, fh);
	else
		fuse_reply_err(req, 0);
}

static void owner_note(struct gfs_streaming *st, uint64_t owner)
{
	for (size_t i = 0; i < st->nowners; i++)
		if (st->owners[i] == owner)
			return;
	if (st->nowners < OWNERS_MAX)
		st->owners[st->nowners++] = owner;
	else
		st->many = true;
}

static bool owner_wrote(const struct gfs_streaming *st, uint64_t owner)
{
	if (st->many)
		return true;
	for (size_t i = 0; i < st->nowners; i++)
		if (st->owners[i] == owner)
			return true;
	return false;
}

/* Every request of fh still parked gets code (the stream under them is
 * going); except is the one being interrupted, which the caller answers. */
static void fail_parked(struct gfs_fh *fh, struct gfs_park *except, int code)
{
	struct gfs_park *pk = fh->parked, *next;
	for (; pk; pk = next) {
		next = pk->next;
		if (pk == except)
			continue;
		pk->done = true;
		fuse_reply_err(pk->req, code);
		gfs_park_done(pk);
	}
}

static void inq_free(struct gfs_streaming *st)
{
	while (st->q) {
		struct inq *w = st->q;
		st->q = w->next;
		free(w->buf);
		free(w);
	}
}

static void st_release(struct gfs_fh *fh)
{
	struct gfs_streaming *st = fh->priv;
	if (!st)
		return;
	inq_free(st);
	if (st->s)
		gdn_stream_close(st->s);
	sbuf_free(&st->hdr);
	free(st->path);
	free(st);
	fh->priv = NULL;
}

static int st_open(struct gfs_fh *fh, struct fuse_file_info *fi, gfs_err *err)
{
	(void)fh;
	(void)err;
	fi->nonseekable = 1;
	return 0;
}

/* --- streamin --- */

static void in_wake(struct gdn_waiter *w, enum gdn_event ev);

/* Moves buf[*done..len) into the pipe.  0 when all of it went; -EAGAIN
 * when the pipe is full; -EPIPE when the child stopped reading and its
 * verdict is still on the way; another negative errno when the stream is
 * over (gdn_stream_state says how). */
static int in_move(struct gdn_stream *s, const char *buf, size_t len,
		   size_t *done)
{
	while (*done < len) {
		ssize_t n = gdn_stream_write(s, buf + *done, len - *done);
		if (n >= 0) {
			*done += (size_t)n;
			continue;
		}
		enum gdn_stream_state ss = gdn_stream_state(s, NULL);
		if (n == -EPIPE && ss != GDN_STREAM_FAILED)
			return ss == GDN_STREAM_DONE ? -EINVAL : -EPIPE;
		return (int)n;
	}
	return 0;
}

static void in_end(struct gfs_streaming *st)
{
	if (st->ended && st->s) {
		st->end_due = false;
		gdn_stream_end(st->s);
	}
}

/* Serves the queue from its head, which waits when the pipe is full. */
static void in_run(struct gfs_fh *fh)
{
	struct gfs_streaming *st = fh->priv;
	while (st->q) {
		struct inq *w = st->q;
		int r = in_move(st->s, w->buf, w->len, &w->off);
		if (r == -EAGAIN || r == -EPIPE) {
			/* EPIPE: only the verdict can end the wait */
			w->pk->w.wake = in_wake;
			w->pk->w.mask = GDN_EV_STREAM |
					(r == -EAGAIN ? GDN_EV_WRITABLE : 0);
			gdn_stream_wait(st->s, &w->pk->w);
			return;
		}
		st->q = w->next;
		w->pk->done = true;
		if (r == 0) {
			fuse_reply_write(w->pk->req, w->pk->size);
		} else if (failed(st)) {
			reply_failed(w->pk->req, fh);
		} else {
			gfs_err e;
			gfs_error(&e, EINVAL,
				  "streamin: the archive has ended");
			fail_req(w->pk->req, fh, &e);
		}
		gfs_park_done(w->pk);
		free(w->buf);
		free(w);
	}
	if (st->end_due)
		in_end(st);
}

static void in_wake(struct gdn_waiter *w, enum gdn_event ev)
{
	(void)ev;
	struct gfs_park *pk = gfs_container_of(w, struct gfs_park, w);
	in_run(pk->fh);
}

/* A waiting write is interrupted.  Nothing of it in the pipe: it simply
 * did not happen.  Part of it in the pipe: the archive is cut, and the
 * stream with it (the writer would write those bytes again). */
static void in_cancel(struct gfs_park *pk)
{
	struct gfs_fh *fh = pk->fh;
	struct gfs_streaming *st = fh->priv;
	struct inq **pw = &st->q;
	while (*pw && (*pw)->pk != pk)
		pw = &(*pw)->next;
	struct inq *w = *pw;
	if (!w)
		return;
	bool head = w == st->q;
	bool cut = w->off > 0;
	*pw = w->next;
	free(w->buf);
	free(w);
	if (cut) {
		gfs_err e;
		gfs_error(&e, EINTR,
			  "streamin: a write was interrupted half done; the "
			  "archive is cut");
		gdn_report(report_to(fh), &e);
		st->err = EINTR;
		st->told = true;
		inq_free(st);
		fail_parked(fh, pk, EINTR);
		gdn_stream_close(st->s);
		st->s = NULL;
		return;
	}
	if (head) {
		gdn_waiter_cancel(&pk->w);
		in_run(fh);
	}
}

/* Takes what did not fit into the queue and parks its request. */
static void in_queue(fuse_req_t req, struct gfs_fh *fh, size_t size,
		     const char *data, size_t len)
{
	struct gfs_streaming *st = fh->priv;
	struct gfs_park *pk = gfs_park(req, fh, size);
	if (!pk)
		return; /* not interrupted: in_write looked */
	struct inq *w = xcalloc(1, sizeof *w);
	w->pk = pk;
	w->len = len;
	w->buf = xmalloc(len ? len : 1);
	memcpy(w->buf, data, len);
	pk->cancel = in_cancel;
	struct inq **tail = &st->q;
	while (*tail)
		tail = &(*tail)->next;
	*tail = w;
	if (w == st->q)
		in_run(fh);
}

/* The header is whole: the stream starts.  1 when more bytes are needed;
 * *used: the header's bytes, what follows is the archive. */
static int in_start(struct gfs_fh *fh, bool eof, size_t *used, gfs_err *err)
{
	struct gfs_streaming *st = fh->priv;
	cleanup_free char *path = NULL, *user = NULL;
	int r = rt_streamin_header(st->hdr.s ? st->hdr.s : "", st->hdr.len, eof,
				   &path, &user, used, err);
	if (r == -EAGAIN) {
		if (st->hdr.len > HEADER_MAX)
			return gfs_error(err, EINVAL,
					 "streamin: no path line in the first "
					 "%d bytes",
					 HEADER_MAX);
		return 1;
	}
	if (r < 0)
		return r;
	return gdn_stream_open(fh->x.c, true, path, user, &st->s, err);
}

/* The stream cannot start: this request says why, every later write and
 * the close say the errno. */
static void in_refuse(fuse_req_t req, struct gfs_fh *fh, gfs_err *err)
{
	struct gfs_streaming *st = fh->priv;
	sbuf_free(&st->hdr);
	st->err = err->code ? err->code : EIO;
	st->told = true;
	fail_req(req, fh, err);
}

static void in_write(fuse_req_t req, struct gfs_fh *fh, const char *buf,
		     size_t size, off_t off)
{
	(void)off;
	struct gfs_streaming *st = st_of(fh);
	gfs_err err = {0};
	/* interrupts are handled on this thread: not interrupted now means
	 * not before this request is parked, so no byte is moved for a
	 * write that then fails with EINTR */
	if (fuse_req_interrupted(req)) {
		fuse_reply_err(req, EINTR);
		return;
	}
	owner_note(st, fh->owner);
	if (st->err) {
		fuse_reply_err(req, st->err);
		return;
	}
	if (st->ended) {
		gfs_error(&err, EINVAL,
			  "streamin: the stream has ended (a writer closed "
			  "it); open the file again for another");
		fail_req(req, fh, &err);
		return;
	}
	const char *data = buf;
	size_t len = size;
	if (!st->s) {
		size_t used = 0;
		sbuf_add(&st->hdr, buf, size);
		int r = in_start(fh, false, &used, &err);
		if (r == 1) {
			fuse_reply_write(req, size);
			return;
		}
		if (r < 0) {
			in_refuse(req, fh, &err);
			return;
		}
		/* the archive's first bytes, if the header's writes held
		 * any */
		data = st->hdr.s + used;
		len = st->hdr.len - used;
	}
	size_t done = 0;
	int r = st->q ? -EAGAIN : in_move(st->s, data, len, &done);
	if (r == -EAGAIN || r == -EPIPE)
		in_queue(req, fh, size, data + done, len - done);
	else if (r == 0)
		fuse_reply_write(req, size);
	else if (failed(st))
		reply_failed(req, fh);
	else {
		gfs_error(&err, EINVAL, "streamin: the archive has ended");
		fail_req(req, fh, &err);
	}
	sbuf_free(&st->hdr);
}

static void flush_wake(struct gdn_waiter *w, enum gdn_event ev)
{
	(void)ev;
	struct gfs_park *pk = gfs_container_of(w, struct gfs_park, w);
	struct gfs_fh *fh = pk->fh;
	struct gfs_streaming *st = fh->priv;
	if (!over(st))
		return;
	pk->done = true;
	reply_verdict(pk->req, fh);
	gfs_park_done(pk);
}

/* A close.  A writer's is the end of the archive and says how the
 * unpacking went; anybody else's changes nothing. */
static void in_flush(fuse_req_t req, struct gfs_fh *fh)
{
	struct gfs_streaming *st = fh->priv;
	gfs_err err = {0};
	if (!st || !owner_wrote(st, fh->owner)) {
		fuse_reply_err(req, 0);
		return;
	}
	if (st->err) {
		fuse_reply_err(req, st->err);
		return;
	}
	if (!st->s) {
		/* a header alone (even without its newline): an empty
		 * archive, the destination made */
		size_t used = 0;
		if (in_start(fh, true, &used, &err) != 0) {
			in_refuse(req, fh, &err);
			return;
		}
		/* leftovers of a cut user line: the child judges them */
		size_t done = 0;
		in_move(st->s, st->hdr.s + used, st->hdr.len - used, &done);
		sbuf_free(&st->hdr);
	}
	if (!st->ended) {
		st->ended = true;
		if (st->q)
			st->end_due = true;
		else
			in_end(st);
	}
	if (over(st)) {
		reply_verdict(req, fh);
		return;
	}
	struct gfs_park *pk = gfs_park(req, fh, 0);
	if (!pk)
		return;
	pk->w.wake = flush_wake;
	pk->w.mask = GDN_EV_STREAM;
	gdn_stream_wait(st->s, &pk->w);
}

const struct gfs_kind gfs_kind_streamin = {
    .open = st_open,
    .write = in_write,
    .flush = in_flush,
    .release = st_release,
    .cacheable = true,
};

/* --- streamout --- */

static void out_started(struct gdn_waiter *w, enum gdn_event ev)
{
	(void)ev;
	struct gfs_park *pk = gfs_container_of(w, struct gfs_park, w);
	struct gfs_fh *fh = pk->fh;
	struct gfs_streaming *st = fh->priv;
	enum gdn_stream_state ss = gdn_stream_state(st->s, NULL);
	if (ss == GDN_STREAM_STARTING)
		return;
	pk->done = true;
	if (ss == GDN_STREAM_FAILED) {
		reply_failed(pk->req, fh);
	} else {
		st->started = true;
		fuse_reply_write(pk->req, pk->size);
	}
	gfs_park_done(pk);
}

/* The write of the path is interrupted: no stream was asked for. */
static void out_cancel(struct gfs_park *pk)
{
	struct gfs_fh *fh = pk->fh;
	struct gfs_streaming *st = fh->priv;
	fail_parked(fh, pk, EINTR);
	gdn_stream_close(st->s);
	st->s = NULL;
}

/* A write that is only a user line, after the path's own write (a
 * shell's printf writes each line with a write(2) of its own): the path
 * again, as that user.  True with *user set. */
static bool user_line(const struct gfs_streaming *st, const char *buf,
		      size_t size, char **user)
{
	if (!st->path || st->as_user || st->read_any || size < 5 ||
	    memcmp(buf, "user ", 5) != 0)
		return false;
	sbuf h = SBUF_INIT;
	sbuf_printf(&h, "%s\n", st->path);
	size_t base = h.len, used = 0;
	sbuf_add(&h, buf, size);
	char *path = NULL;
	bool ok = rt_streamin_header(h.s, h.len, true, &path, user, &used,
				     GFS_IGNORE) == 0 &&
		  *user && used == h.len && used > base;
	free(path);
	sbuf_free(&h);
	if (!ok) {
		free(*user);
		*user = NULL;
	}
	return ok;
}

static void out_write(fuse_req_t req, struct gfs_fh *fh, const char *buf,
		      size_t size, off_t off)
{
	(void)off;
	struct gfs_streaming *st = st_of(fh);
	gfs_err err = {0};
	cleanup_free char *path = NULL, *user = NULL;
	size_t used = 0;
	int r = 0;
	if (fuse_req_interrupted(req)) {
		fuse_reply_err(req, EINTR);
		return;
	}
	bool refused = st->s && !st->started && failed(st);
	if (st->s && (st->started || refused) &&
	    user_line(st, buf, size, &user)) {
		/* nothing was read: the same path, as the user */
		gdn_stream_close(st->s);
		st->s = NULL;
		path = xstrdup(st->path);
	} else if (refused) {
		/* the last path was refused: this descriptor may try another */
		gdn_stream_close(st->s);
		st->s = NULL;
	}
	if (st->s)
		r = gfs_error(&err, EBUSY,
			      "streamout: one path per open; open the file "
			      "again for another");
	if (r == 0 && !path) {
		r = rt_streamin_header(buf, size, true, &path, &user, &used,
				       &err);
		if (r == 0 && used != size)
			r = gfs_error(&err, EINVAL,
				      "streamout: want a path and an optional "
				      "user line, nothing more");
	}
	if (r == 0) {
		free(st->path);
		st->path = xstrdup(path);
		st->as_user = user != NULL;
		st->started = st->data_end = st->told = false;
		r = gdn_stream_open(fh->x.c, false, path, user, &st->s, &err);
	}
	if (r < 0) {
		/* the header parser speaks of streamin */
		if (strncmp(err.msg, "streamin: ", 10) == 0)
			memmove(err.msg, err.msg + 10,
				strlen(err.msg + 10) + 1);
		if (strncmp(err.msg, "streamout", 9) != 0)
			gfs_error_wrap(&err, "streamout");
		fail_req(req, fh, &err);
		return;
	}
	/* the write returns once the path is found, or fails when not */
	struct gfs_park *pk = gfs_park(req, fh, size);
	if (!pk)
		return;
	pk->cancel = out_cancel;
	pk->w.wake = out_started;
	pk->w.mask = GDN_EV_STREAM;
	gdn_stream_wait(st->s, &pk->w);
}

/* A read's answer if there is one now: true when it replied. */
static bool out_try(fuse_req_t req, struct gfs_fh *fh, size_t size)
{
	struct gfs_streaming *st = fh->priv;
	if (!st->data_end) {
		char *buf = xmalloc(size ? size : 1);
		ssize_t n = gdn_stream_read(st->s, buf, size);
		if (n > 0) {
			st->read_any = true;
			fuse_reply_buf(req, buf, (size_t)n);
		}
		free(buf);
		if (n > 0)
			return true;
		if (n == -EAGAIN)
			return false;
		if (n == 0)
			st->data_end = true;
	}
	/* the data ended (or the stream failed): the verdict decides
	 * whether that was the end of a whole archive */
	enum gdn_stream_state ss = gdn_stream_state(st->s, NULL);
	if (ss == GDN_STREAM_DONE)
		fuse_reply_buf(req, NULL, 0);
	else if (ss == GDN_STREAM_FAILED)
		reply_failed(req, fh);
	else
		return false;
	return true;
}

static void out_wake(struct gdn_waiter *w, enum gdn_event ev)
{
	(void)ev;
	struct gfs_park *pk = gfs_container_of(w, struct gfs_park, w);
	struct gfs_fh *fh = pk->fh;
	struct gfs_streaming *st = fh->priv;
	if (!out_try(pk->req, fh, pk->size)) {
		/* the data watch fires once per wait */
		pk->w.mask =
		    GDN_EV_STREAM | (st->data_end ? 0 : GDN_EV_READABLE);
		gdn_stream_wait(st->s, &pk->w);
		return;
	}
	pk->done = true;
	gfs_park_done(pk);
}

static void out_read(fuse_req_t req, struct gfs_fh *fh, size_t size, off_t off)
{
	(void)off;
	struct gfs_streaming *st = fh->priv;
	if (!st || !st->s) {
		/* no path written: nothing to stream */
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (out_try(req, fh, size))
		return;
	struct gfs_park *pk = gfs_park(req, fh, size);
	if (!pk)
		return;
	pk->w.wake = out_wake;
	pk->w.mask = GDN_EV_STREAM | (st->data_end ? 0 : GDN_EV_READABLE);
	gdn_stream_wait(st->s, &pk->w);
}

static unsigned out_poll(struct gfs_fh *fh)
{
	(void)fh;
	return POLLIN;
}

const struct gfs_kind gfs_kind_streamout = {
    .open = st_open,
    .read = out_read,
    .write = out_write,
    .poll = out_poll,
    .release = st_release,
    .cacheable = true,
};

/* --- procs/N/tty --- */

int gfs_render_tty(const struct gfs_ref *x, sbuf *out, gfs_err *err)
{
	(void)err;
	if (x->p->tty)
		sbuf_printf(out, "columns %d\nrows %d\n", x->p->tty_columns,
			    x->p->tty_rows);
	return 0;
}

/* One decimal number of 1..65535 at *s, which moves past it. */
static bool dim(const char **s, int *out)
{
	const char *p = *s;
	long v = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 65535)
			return false;
	}
	if (v == 0)
		return false;
	*out = (int)v;
	*s = p;
	return true;
}

int gfs_tty_parse(const char *line, int *columns, int *rows, gfs_err *err)
{
	const char *p = line;
	char ex[GFS_EXCERPT_MAX];
	if (!dim(&p, columns) || *p++ != ' ' || !dim(&p, rows) || *p)
		return gfs_error(err, EINVAL,
				 "`%s`: want `COLUMNS ROWS`, each 1 to 65535",
				 gfs_excerpt(ex, line, strlen(line)));
	return 0;
}

int gfs_cmd_tty(struct gfs_cmd *k, gfs_err *err)
{
	int cols, rows;
	int r = gfs_tty_parse(k->line, &cols, &rows, err);
	if (r == 0)
		r = gdn_tty_resize(k->x->p, cols, rows, err);
	return r < 0 ? gfs_error_wrap(err, "procs/%s/tty", k->x->p->name) : 0;
}
