/* streamin and streamout: Garden's StreamIn and StreamOut as files.
 *
 *   streamin   write: a path line, an optional `user NAME` line, then a tar
 *              stream, in as many writes as it takes; the close (flush)
 *              reports how the unpacking went
 *   streamout  write: a path (and an optional `user NAME` line); it returns
 *              once the path is found (ENOENT when not); reads on the same
 *              descriptor then give a tar of it
 *
 * The bytes go through garden's stream (garden/stream.c) and a child
 * confined to the container; here they are only copied between FUSE
 * requests and its pipe, never blocking: a full or empty pipe parks the
 * request until the stream says it can go on. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gardenfs/gfs.h"
#include "gardenfs/nodes.h"

/* The streamin header is a path and a user line: a little over PATH_MAX. */
#define HEADER_MAX (RT_STREAM_PATH_MAX + RT_STREAM_USER_MAX + 16)

struct gfs_streaming {
	struct gdn_stream *s;
	sbuf hdr;	  /* streamin: the header so far */
	const char *rest; /* a parked write's bytes still to go */
	size_t nrest;
	char *copy;	     /* ... which are ours, copied */
	bool ended;	     /* streamin: the writer is done */
	bool told;	     /* the verdict went to a flush already */
	struct gfs_park *pk; /* the one request waiting on the stream */
};

static struct gfs_streaming *st_of(struct gfs_fh *fh)
{
	if (!fh->priv)
		fh->priv = xcalloc(1, sizeof(struct gfs_streaming));
	return fh->priv;
}

static void st_release(struct gfs_fh *fh)
{
	struct gfs_streaming *st = fh->priv;
	if (!st)
		return;
	if (st->s)
		gdn_stream_close(st->s);
	sbuf_free(&st->hdr);
	free(st->copy);
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

/* A failed stream's errno and reason, reported once where it belongs. */
static void reply_verdict(fuse_req_t req, struct gfs_fh *fh)
{
	struct gfs_streaming *st = fh->priv;
	gfs_err why = {0};
	bool failed = gdn_stream_state(st->s, &why) == GDN_STREAM_FAILED;
	if (failed && !st->told)
		gfs_reply_fail(req, fh->x.c, &why);
	else
		fuse_reply_err(req, failed ? why.code : 0);
	st->told = true;
}

/* --- streamin --- */

static void in_wake(struct gdn_waiter *w, enum gdn_event ev);

/* Pushes st->rest into the stream.  true when the request got its answer
 * (all written, or failed); false when it waits for room. */
static bool in_push(fuse_req_t req, struct gfs_fh *fh, size_t size)
{
	struct gfs_streaming *st = fh->priv;
	while (st->nrest) {
		ssize_t n = gdn_stream_write(st->s, st->rest, st->nrest);
		if (n == -EAGAIN)
			return false;
		if (n < 0) {
			/* the child stopped reading: its verdict says why */
			enum gdn_stream_state ss =
			    gdn_stream_state(st->s, NULL);
			if (ss != GDN_STREAM_FAILED && ss != GDN_STREAM_DONE)
				return false;
			st->nrest = 0;
			reply_verdict(req, fh);
			return true;
		}
		st->rest += n;
		st->nrest -= (size_t)n;
	}
	free(st->copy);
	st->copy = NULL;
	fuse_reply_write(req, size);
	return true;
}

static void in_park(fuse_req_t req, struct gfs_fh *fh, size_t size)
{
	struct gfs_streaming *st = fh->priv;
	if (!st->copy) {
		st->copy = xmalloc(st->nrest);
		memcpy(st->copy, st->rest, st->nrest);
		st->rest = st->copy;
	}
	struct gfs_park *pk = gfs_park(req, fh, size);
	if (!pk) {
		free(st->copy);
		st->copy = NULL;
		st->nrest = 0;
		return;
	}
	st->pk = pk;
	pk->w.wake = in_wake;
	pk->w.mask = GDN_EV_WRITABLE | GDN_EV_STREAM;
	gdn_stream_wait(st->s, &pk->w);
}

static void in_wake(struct gdn_waiter *w, enum gdn_event ev)
{
	struct gfs_park *pk = gfs_container_of(w, struct gfs_park, w);
	struct gfs_fh *fh = pk->fh;
	struct gfs_streaming *st = fh->priv;
	if (ev == GDN_EV_GONE) {
		fuse_reply_err(pk->req, ENOENT);
	} else if (!in_push(pk->req, fh, pk->size)) {
		gdn_stream_wait(st->s, &pk->w);
		return;
	}
	st->pk = NULL;
	gfs_park_done(pk);
}

/* The header is whole: the stream starts; what followed it is the
 * archive's first bytes. */
static int in_start(struct gfs_fh *fh, bool eof, gfs_err *err)
{
	struct gfs_streaming *st = fh->priv;
	cleanup_free char *path = NULL, *user = NULL;
	size_t used = 0;
	int r = rt_streamin_header(st->hdr.s ? st->hdr.s : "", st->hdr.len, eof,
				   &path, &user, &used, err);
	if (r == -EAGAIN) {
		if (st->hdr.len > HEADER_MAX)
			return gfs_error(err, EINVAL,
					 "streamin: no path line in the first "
					 "%d bytes",
					 HEADER_MAX);
		return 1;
	}
	if (r < 0)
		return gfs_error_wrap(err, "streamin");
	r = gdn_stream_open(fh->x.c, true, path, user, &st->s, err);
	if (r < 0)
		return r;
	/* the archive's first bytes, if the header's writes held any */
	st->copy = xmalloc(st->hdr.len - used + 1);
	memcpy(st->copy, st->hdr.s + used, st->hdr.len - used);
	st->rest = st->copy;
	st->nrest = st->hdr.len - used;
	sbuf_free(&st->hdr);
	return 0;
}

static void in_write(fuse_req_t req, struct gfs_fh *fh, const char *buf,
		     size_t size, off_t off)
{
	(void)off;
	struct gfs_streaming *st = st_of(fh);
	gfs_err err = {0};
	if (st->ended) {
		gfs_error(&err, EINVAL, "streamin: the stream has ended");
		gfs_reply_fail(req, fh->x.c, &err);
		return;
	}
	if (!st->s) {
		sbuf_add(&st->hdr, buf, size);
		int r = in_start(fh, false, &err);
		if (r == 1) {
			fuse_reply_write(req, size);
			return;
		}
		if (r < 0) {
			sbuf_free(&st->hdr);
			st->ended = true;
			gfs_reply_fail(req, fh->x.c, &err);
			return;
		}
	} else {
		st->rest = buf;
		st->nrest = size;
	}
	if (!in_push(req, fh, size))
		in_park(req, fh, size);
}

static void flush_wake(struct gdn_waiter *w, enum gdn_event ev)
{
	struct gfs_park *pk = gfs_container_of(w, struct gfs_park, w);
	struct gfs_fh *fh = pk->fh;
	struct gfs_streaming *st = fh->priv;
	enum gdn_stream_state ss = gdn_stream_state(st->s, NULL);
	if (ev != GDN_EV_GONE && ss != GDN_STREAM_DONE &&
	    ss != GDN_STREAM_FAILED)
		return;
	st->pk = NULL;
	reply_verdict(pk->req, fh);
	gfs_park_done(pk);
}

/* The writer closes: the archive ends here, and the close says how the
 * unpacking went. */
static void in_flush(fuse_req_t req, struct gfs_fh *fh)
{
	struct gfs_streaming *st = fh->priv;
	gfs_err err = {0};
	if (!st || (st->told && !st->s)) {
		fuse_reply_err(req, 0);
		return;
	}
	if (!st->s && st->hdr.len) {
		/* a path with no newline and nothing after it */
		if (in_start(fh, true, &err) != 0) {
			st->ended = true;
			st->told = true;
			gfs_reply_fail(req, fh->x.c, &err);
			return;
		}
		if (st->nrest) {
			/* cannot happen: a header without its newline has
			 * nothing after it */
			st->nrest = 0;
		}
	}
	if (!st->s) {
		fuse_reply_err(req, 0);
		return;
	}
	if (!st->ended) {
		st->ended = true;
		gdn_stream_end(st->s);
	}
	enum gdn_stream_state ss = gdn_stream_state(st->s, NULL);
	if (ss == GDN_STREAM_DONE || ss == GDN_STREAM_FAILED) {
		reply_verdict(req, fh);
		return;
	}
	struct gfs_park *pk = gfs_park(req, fh, 0);
	if (!pk)
		return;
	st->pk = pk;
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
	struct gfs_park *pk = gfs_container_of(w, struct gfs_park, w);
	struct gfs_fh *fh = pk->fh;
	struct gfs_streaming *st = fh->priv;
	gfs_err why = {0};
	enum gdn_stream_state ss = gdn_stream_state(st->s, &why);
	if (ev == GDN_EV_GONE)
		fuse_reply_err(pk->req, ENOENT);
	else if (ss == GDN_STREAM_STARTING)
		return;
	else if (ss == GDN_STREAM_FAILED)
		gfs_reply_fail(pk->req, fh->x.c, &why);
	else
		fuse_reply_write(pk->req, pk->size);
	st->pk = NULL;
	gfs_park_done(pk);
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
	if (st->s)
		r = gfs_error(&err, EBUSY,
			      "streamout: one stream per open; open it again");
	if (r == 0)
		r = rt_streamin_header(buf, size, true, &path, &user, &used,
				       &err);
	if (r == 0 && used != size)
		r = gfs_error(&err, EINVAL,
			      "streamout: want a path and an optional user "
			      "line, nothing more");
	if (r < 0) {
		gfs_error_wrap(&err, "streamout");
		gfs_reply_fail(req, fh->x.c, &err);
		return;
	}
	r = gdn_stream_open(fh->x.c, false, path, user, &st->s, &err);
	if (r < 0) {
		gfs_reply_fail(req, fh->x.c, &err);
		return;
	}
	/* the write returns once the path is found, or fails when not */
	struct gfs_park *pk = gfs_park(req, fh, size);
	if (!pk)
		return;
	st->pk = pk;
	pk->w.wake = out_started;
	pk->w.mask = GDN_EV_STREAM;
	gdn_stream_wait(st->s, &pk->w);
}

/* true when it replied */
static bool out_try(fuse_req_t req, struct gfs_fh *fh, size_t size)
{
	struct gfs_streaming *st = fh->priv;
	char *buf = xmalloc(size);
	ssize_t n = gdn_stream_read(st->s, buf, size);
	if (n > 0) {
		fuse_reply_buf(req, buf, (size_t)n);
		free(buf);
		return true;
	}
	free(buf);
	if (n == -EAGAIN)
		return false;
	gfs_err why = {0};
	enum gdn_stream_state ss = gdn_stream_state(st->s, &why);
	if (ss == GDN_STREAM_DONE) {
		fuse_reply_buf(req, NULL, 0);
	} else if (ss == GDN_STREAM_FAILED) {
		/* a cut archive must never look whole */
		if (!st->told) {
			st->told = true;
			gfs_reply_fail(req, fh->x.c, &why);
		} else {
			fuse_reply_err(req, why.code ? why.code : EIO);
		}
	} else if (n == 0) {
		return false; /* the data ended: the verdict is on its way */
	} else {
		fuse_reply_err(req, (int)-n);
	}
	return true;
}

static void out_wake(struct gdn_waiter *w, enum gdn_event ev)
{
	struct gfs_park *pk = gfs_container_of(w, struct gfs_park, w);
	struct gfs_fh *fh = pk->fh;
	struct gfs_streaming *st = fh->priv;
	if (ev == GDN_EV_GONE) {
		fuse_reply_err(pk->req, ENOENT);
	} else if (!out_try(pk->req, fh, pk->size)) {
		gdn_stream_wait(st->s, &pk->w);
		return;
	}
	st->pk = NULL;
	gfs_park_done(pk);
}

static void out_read(fuse_req_t req, struct gfs_fh *fh, size_t size, off_t off)
{
	(void)off;
	struct gfs_streaming *st = fh->priv;
	if (!st || !st->s) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (out_try(req, fh, size))
		return;
	struct gfs_park *pk = gfs_park(req, fh, size);
	if (!pk)
		return;
	st->pk = pk;
	pk->w.wake = out_wake;
	pk->w.mask = GDN_EV_READABLE | GDN_EV_STREAM;
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

int gfs_cmd_tty(struct gfs_cmd *k, gfs_err *err)
{
	int cols, rows, used = 0;
	if (sscanf(k->line, "%d %d%n", &cols, &rows, &used) != 2 ||
	    k->line[used] || cols <= 0 || rows <= 0)
		return gfs_error(err, EINVAL, "procs/%s/tty: want COLUMNS ROWS",
				 k->x->p->name);
	int r = gdn_tty_resize(k->x->p, cols, rows, err);
	return r < 0 ? gfs_error_wrap(err, "procs/%s/tty", k->x->p->name) : 0;
}
