/* Garden's StreamIn and StreamOut (garden/garden.h): a stream is a child
 * of runtime/stream.h confined to the container, started and steered
 * through the backend; here are its state (the child's verdicts on the
 * status pipe), the bytes moved through its data pipe without ever
 * blocking, its deadline, and the subscriptions that tell a front when it
 * may go on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "garden/garden_priv.h"

uint64_t gdn_stream_limit_ms = 3600 * 1000;

struct gdn_stream {
	struct gdn_ctr *c; /* a reference, and a hold */
	bool in;
	struct rt_stream rs;
	enum gdn_stream_state state;
	gfs_err why;
	struct loop_watch status_w, data_w;
	struct loop_timer deadline;
	struct gdn_waiter *waiters;
	struct gdn_stream *next, **prevp; /* in c->streams */
	char name[256]; /* "streamin PATH": what its reasons start with */
};

/* A reason names its stream once: the child's own reasons sometimes do,
 * the runtime's do, garden's do not. */
static void name_err(gfs_err *err, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(err->msg, name, n) == 0 && err->msg[n] == ':')
		return;
	gfs_error_wrap(err, "%s", name);
}

static void wake(struct gdn_stream *s, enum gdn_event ev)
{
	gdn_wake_list(&s->waiters, ev);
}

static void finish(struct gdn_stream *s, enum gdn_stream_state st,
		   const gfs_err *why)
{
	if (s->state == GDN_STREAM_DONE || s->state == GDN_STREAM_FAILED)
		return;
	s->state = st;
	if (why) {
		s->why = *why;
		name_err(&s->why, s->name);
	}
	loop_watch_del(&s->status_w);
	loop_timer_stop(&s->deadline);
	if (st == GDN_STREAM_FAILED) {
		/* the child may still run (a time limit, a destroy) */
		loop_watch_del(&s->data_w);
		gdn_bk->stream_abort(&s->rs);
	}
	wake(s, GDN_EV_STREAM);
}

static void on_status(struct loop_watch *w, uint32_t events)
{
	(void)events;
	struct gdn_stream *s = gfs_container_of(w, struct gdn_stream, status_w);
	for (;;) {
		int phase = 0;
		gfs_err err = {0};
		int r = gdn_bk->stream_poll(&s->rs, &phase, &err);
		if (r < 0) {
			finish(s, GDN_STREAM_FAILED, &err);
			return;
		}
		if (r == 0)
			return;
		if (phase == RT_STREAM_READY &&
		    s->state == GDN_STREAM_STARTING) {
			s->state = GDN_STREAM_READY;
			wake(s, GDN_EV_STREAM);
		} else if (phase == RT_STREAM_DONE) {
			finish(s, GDN_STREAM_DONE, NULL);
			return;
		}
	}
}

static void on_data(struct loop_watch *w, uint32_t events)
{
	(void)events;
	struct gdn_stream *s = gfs_container_of(w, struct gdn_stream, data_w);
	/* level-triggered: off until somebody waits again */
	loop_watch_del(&s->data_w);
	wake(s, s->in ? GDN_EV_WRITABLE : GDN_EV_READABLE);
}

static void overdue(struct loop_timer *t)
{
	struct gdn_stream *s = gfs_container_of(t, struct gdn_stream, deadline);
	gfs_err err;
	gfs_error(&err, ETIMEDOUT, "the stream took longer than %llu s",
		  (unsigned long long)gdn_stream_limit_ms / 1000);
	finish(s, GDN_STREAM_FAILED, &err);
}

int gdn_stream_open(struct gdn_ctr *c, bool in, const char *path,
		    const char *user, struct gdn_stream **out, gfs_err *err)
{
	if (c->phase != GDN_LIVE)
		return gfs_error(err, ENOENT, "no container %s", c->handle);
	if (!gdn_bk->stream_start)
		return gfs_error(err, ENOTSUP, "no streams here");
	struct gdn_stream *s = xcalloc(1, sizeof *s);
	s->in = in;
	s->status_w.fd = s->data_w.fd = -1;
	/* long paths are cut in the name, never in what is streamed */
	snprintf(s->name, sizeof s->name, "%s %s",
		 in ? "streamin" : "streamout", path);
	int r = gdn_bk->stream_start(c, in, path, user, gdn_stream_limit_ms,
				     &s->rs, err);
	if (r < 0) {
		name_err(err, s->name);
		free(s);
		return r;
	}
	if (loop_watch_add(&s->status_w, s->rs.status, EPOLLIN, on_status) <
	    0) {
		gdn_bk->stream_abort(&s->rs);
		gfs_error(err, EIO, "%s: watching its status", s->name);
		free(s);
		return -EIO;
	}
	/* its own timer is the child's; this one is for a child stuck where
	 * even that cannot reach it */
	loop_timer_start(&s->deadline, gdn_stream_limit_ms + 2000, overdue);
	s->c = c;
	gdn_ctr_ref(c);
	gdn_ctr_hold(c);
	s->next = c->streams;
	if (c->streams)
		c->streams->prevp = &s->next;
	s->prevp = &c->streams;
	c->streams = s;
	*out = s;
	return 0;
}

enum gdn_stream_state gdn_stream_state(const struct gdn_stream *s, gfs_err *why)
{
	if (why && s->state == GDN_STREAM_FAILED)
		*why = s->why;
	return s->state;
}

ssize_t gdn_stream_write(struct gdn_stream *s, const void *buf, size_t len)
{
	if (s->state == GDN_STREAM_FAILED)
		return -s->why.code;
	if (s->rs.data < 0)
		return -EPIPE;
	ssize_t n = write(s->rs.data, buf, len);
	return n < 0 ? -errno : n;
}

ssize_t gdn_stream_read(struct gdn_stream *s, void *buf, size_t len)
{
	if (s->state == GDN_STREAM_FAILED)
		return -s->why.code;
	if (s->rs.data < 0)
		return 0;
	ssize_t n = read(s->rs.data, buf, len);
	return n < 0 ? -errno : n;
}

void gdn_stream_end(struct gdn_stream *s)
{
	loop_watch_del(&s->data_w);
	if (s->in)
		gdn_bk->stream_end(&s->rs);
}

void gdn_stream_wait(struct gdn_stream *s, struct gdn_waiter *w)
{
	gdn_waiter_cancel(w);
	w->next = s->waiters;
	if (s->waiters)
		s->waiters->prevp = &w->next;
	w->prevp = &s->waiters;
	s->waiters = w;
	uint32_t want = s->in ? GDN_EV_WRITABLE : GDN_EV_READABLE;
	if ((w->mask & want) && s->rs.data >= 0 && s->data_w.fd < 0 &&
	    s->state != GDN_STREAM_FAILED)
		loop_watch_add(&s->data_w, s->rs.data,
			       s->in ? EPOLLOUT : EPOLLIN, on_data);
}

/* The memory goes after the round: an event of this round may still
 * name one of its watches (lib/loop.h), and the loop only skips a watch
 * whose fd it can still read as -1. */
static void stream_free(void *arg)
{
	free(arg);
}

void gdn_stream_close(struct gdn_stream *s)
{
	while (s->waiters)
		gdn_waiter_cancel(s->waiters);
	loop_watch_del(&s->status_w);
	loop_watch_del(&s->data_w);
	loop_timer_stop(&s->deadline);
	if (s->state != GDN_STREAM_DONE)
		gdn_bk->stream_abort(&s->rs);
	else
		gdn_bk->stream_close(&s->rs);
	if (s->prevp) {
		*s->prevp = s->next;
		if (s->next)
			s->next->prevp = s->prevp;
	}
	gdn_ctr_unhold(s->c);
	gdn_ctr_put(s->c);
	s->c = NULL;
	loop_defer(stream_free, s);
}

/* The container goes: its streams fail (garden.c, at destroy). */
void gdn_streams_abort(struct gdn_ctr *c)
{
	gfs_err err;
	gfs_error(&err, ENOENT, "container %s was destroyed", c->handle);
	for (struct gdn_stream *s = c->streams, *next; s; s = next) {
		next = s->next;
		finish(s, GDN_STREAM_FAILED, &err);
		wake(s, GDN_EV_GONE);
	}
}
