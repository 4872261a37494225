/* garden/stream.c over a fake backend whose "child" is this test: the
 * stream's pipes are real pipes, the test writes the child's status
 * records and reads or writes its archive pipe, and runs the loop by hand.
 * Covers the states (ready, done, failed, a crash without a verdict), the
 * non-blocking byte moves (a full pipe is -EAGAIN, then a WRITABLE wake;
 * an empty one, then READABLE; EPIPE when the child stops reading),
 * failures named once, the deadline, a destroy failing every stream, and
 * the procs/N/tty parser of the front. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gardenfs/streams.h"
#include "garden/garden.h"
#include "lib/loop.h"

static uint64_t now_ms = 1000000;
static uint64_t fake_now(void)
{
	return now_ms;
}

/* --- the fake backend: the child's ends of the pipes stay here --- */

static struct {
	int child_data;	  /* the child's end of the archive pipe */
	int child_status; /* the child's end of the status pipe */
	int starts, aborts, closes, ends;
	int fail_start; /* errno stream_start returns, 0: succeed */
	char last_user[64];
} fk;

static int fk_create(struct gdn_ctr *c, const struct gfs_createspec *s,
		     gfs_err *err)
{
	(void)c;
	(void)s;
	(void)err;
	return 0;
}

static void fk_destroy(struct gdn_ctr *c)
{
	gdn_bk_destroyed(c);
}

static void fk_kill(struct gdn_ctr *c)
{
	(void)c;
}

static int fk_stream_start(struct gdn_ctr *c, bool in, const char *path,
			   const char *user, uint64_t limit_ms,
			   struct rt_stream *out, gfs_err *err)
{
	(void)c;
	(void)path;
	(void)limit_ms;
	fk.starts++;
	snprintf(fk.last_user, sizeof fk.last_user, "%s", user ? user : "");
	if (fk.fail_start)
		return gfs_error(err, fk.fail_start, "user %s not found",
				 user ? user : "?");
	int d[2], s[2];
	assert_int_equal(pipe2(d, O_CLOEXEC), 0);
	assert_int_equal(pipe2(s, O_CLOEXEC), 0);
	memset(out, 0, sizeof *out);
	out->pid = -1;
	out->pidfd = -1;
	out->in = in;
	out->data = in ? d[1] : d[0];
	fk.child_data = in ? d[0] : d[1];
	out->status = s[0];
	fk.child_status = s[1];
	fcntl(out->data, F_SETFL, O_NONBLOCK);
	fcntl(out->status, F_SETFL, O_NONBLOCK);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* the status records, as runtime/stream.c reads them: one a call */
static int fk_stream_poll(struct rt_stream *s, int *phase, gfs_err *err)
{
	*phase = s->phase;
	if (s->phase == RT_STREAM_FAILED) {
		*err = s->fail;
		return -s->fail.code;
	}
	for (;;) {
		char *nl = memchr(s->sbuf, '\n', s->slen);
		if (nl) {
			size_t n = (size_t)(nl - s->sbuf);
			int ph = 0;
			uint64_t e, b;
			gfs_err pe = {0};
			int r = rt_stream_record_parse(s->sbuf, n, &ph, &e, &b,
						       &pe);
			memmove(s->sbuf, nl + 1, s->slen - n - 1);
			s->slen -= n + 1;
			if (r < 0 || ph == RT_STREAM_FAILED) {
				s->fail = pe;
				s->phase = RT_STREAM_FAILED;
				*phase = s->phase;
				*err = pe;
				return -pe.code;
			}
			s->phase = ph;
			*phase = ph;
			return 1;
		}
		if (s->status < 0)
			return 0;
		ssize_t k = read(s->status, s->sbuf + s->slen,
				 sizeof s->sbuf - s->slen);
		if (k < 0)
			return 0;
		if (k > 0) {
			s->slen += (size_t)k;
			continue;
		}
		close_fd(&s->status);
		if (s->phase == RT_STREAM_DONE)
			return 0;
		gfs_error(&s->fail, EIO,
			  "the stream helper ended without a verdict");
		s->phase = RT_STREAM_FAILED;
		*phase = s->phase;
		*err = s->fail;
		return -EIO;
	}
}

static void fk_stream_end(struct rt_stream *s)
{
	fk.ends++;
	if (s->in)
		close_fd(&s->data);
}

static void fk_stream_close(struct rt_stream *s)
{
	fk.closes++;
	close_fd(&s->data);
	close_fd(&s->status);
}

static void fk_stream_abort(struct rt_stream *s)
{
	fk.aborts++;
	fk_stream_close(s);
}

static const struct gdn_backend fake = {
    .create = fk_create,
    .destroy = fk_destroy,
    .kill = fk_kill,
    .stream_start = fk_stream_start,
    .stream_poll = fk_stream_poll,
    .stream_end = fk_stream_end,
    .stream_abort = fk_stream_abort,
    .stream_close = fk_stream_close,
};

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof fk);
	fk.child_data = fk.child_status = -1;
	loop_set_clock(fake_now);
	assert_int_equal(loop_init(), 0);
	struct gdn_config cfg = {
	    .max_containers = 3,
	    .spawn_timeout_ms = 10000,
	    .stop_timeout_ms = 15000,
	    .foreground = true,
	};
	gfs_err err = {0};
	assert_int_equal(gdn_setup(&cfg, &fake, &err), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	loop_once(0); /* deferred frees */
	close_fd(&fk.child_data);
	close_fd(&fk.child_status);
	gdn_shutdown();
	loop_set_clock(NULL);
	return 0;
}

/* --- helpers --- */

static void on_done(void *arg, struct gdn_ctr *c, const gfs_err *err)
{
	(void)c;
	(void)err;
	(*(int *)arg)++;
}

static struct gdn_ctr *make(const char *handle)
{
	char word[64];
	snprintf(word, sizeof word, "handle=%s", handle);
	char *w[] = {word, NULL};
	struct gfs_createspec s;
	struct gdn_ctr *c;
	gfs_err err = {0};
	int calls = 0;
	assert_int_equal(gfs_createspec_parse(w, &s, &err), 0);
	assert_int_equal(gdn_create(&s, on_done, &calls, &c, &err), 0);
	gdn_bk_created(c, NULL);
	assert_int_equal(calls, 1);
	return c;
}

struct watcher {
	struct gdn_waiter w;
	int wakes;
	uint32_t seen;
};

static void on_wake(struct gdn_waiter *w, enum gdn_event ev)
{
	struct watcher *x = gfs_container_of(w, struct watcher, w);
	x->wakes++;
	x->seen |= ev;
}

static void watch(struct gdn_stream *s, struct watcher *x, uint32_t mask)
{
	x->w.wake = on_wake;
	x->w.mask = mask;
	x->wakes = 0;
	x->seen = 0;
	gdn_stream_wait(s, &x->w);
}

static void child_says(const char *rec)
{
	assert_int_equal(write(fk.child_status, rec, strlen(rec)),
			 (ssize_t)strlen(rec));
}

/* a few rounds of the loop, nothing waited for */
static void spin(void)
{
	for (int i = 0; i < 3; i++)
		loop_once(0);
}

/* --- streamin --- */

static void test_in_ready_bytes_done(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("a");
	struct gdn_stream *s;
	gfs_err err = {0};
	assert_int_equal(gdn_stream_open(c, true, "/app", "vcap", &s, &err), 0);
	assert_string_equal(fk.last_user, "vcap");
	assert_int_equal(gdn_stream_state(s, NULL), GDN_STREAM_STARTING);
	struct watcher x = {0};
	watch(s, &x, GDN_EV_STREAM);
	child_says("ready\n");
	spin();
	assert_int_equal(gdn_stream_state(s, NULL), GDN_STREAM_READY);
	assert_int_equal(x.wakes, 1);
	/* bytes go into the pipe until it is full: then -EAGAIN */
	static char buf[65536];
	memset(buf, 'x', sizeof buf);
	ssize_t n, total = 0;
	while ((n = gdn_stream_write(s, buf, sizeof buf)) > 0)
		total += n;
	assert_int_equal(n, -EAGAIN);
	assert_true(total >= 4096);
	/* room again: a WRITABLE wake, once */
	watch(s, &x, GDN_EV_WRITABLE | GDN_EV_STREAM);
	spin();
	assert_int_equal(x.wakes, 0);
	char sink[65536];
	assert_true(read(fk.child_data, sink, sizeof sink) > 0);
	spin();
	assert_int_equal(x.wakes, 1);
	assert_true(x.seen & GDN_EV_WRITABLE);
	spin();
	assert_int_equal(x.wakes, 1);
	/* the end: the child sees end of file, then says done */
	gdn_stream_end(s);
	assert_int_equal(fk.ends, 1);
	while ((n = read(fk.child_data, sink, sizeof sink)) > 0)
		;
	assert_int_equal(n, 0);
	watch(s, &x, GDN_EV_STREAM);
	child_says("done 3 1234\n");
	spin();
	assert_int_equal(gdn_stream_state(s, NULL), GDN_STREAM_DONE);
	assert_int_equal(x.wakes, 1);
	gdn_stream_close(s);
	assert_int_equal(fk.closes, 1);
	assert_int_equal(fk.aborts, 0);
}

static void test_in_child_fails(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("b");
	struct gdn_stream *s;
	gfs_err err = {0};
	assert_int_equal(gdn_stream_open(c, true, "/root/x", NULL, &s, &err),
			 0);
	child_says("error 13 destination /root/x: Permission denied\n");
	close_fd(&fk.child_data); /* it stopped reading */
	char b[16] = "0123456789";
	assert_int_equal(gdn_stream_write(s, b, sizeof b), -EPIPE);
	struct watcher x = {0};
	watch(s, &x, GDN_EV_STREAM);
	spin();
	gfs_err why = {0};
	assert_int_equal(gdn_stream_state(s, &why), GDN_STREAM_FAILED);
	assert_int_equal(why.code, EACCES);
	/* the reason names the stream once */
	assert_string_equal(why.msg, "streamin /root/x: destination /root/x: "
				     "Permission denied");
	assert_int_equal(x.wakes, 1);
	/* later writes get the failure itself */
	assert_int_equal(gdn_stream_write(s, b, sizeof b), -EACCES);
	assert_int_equal(fk.aborts, 1); /* the child is killed */
	gdn_stream_close(s);
}

static void test_named_once(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("c");
	struct gdn_stream *s;
	gfs_err err = {0};
	assert_int_equal(gdn_stream_open(c, true, "/t", NULL, &s, &err), 0);
	child_says("error 22 streamin /t: entry big: Truncated tar archive\n");
	spin();
	gfs_err why = {0};
	assert_int_equal(gdn_stream_state(s, &why), GDN_STREAM_FAILED);
	assert_string_equal(why.msg,
			    "streamin /t: entry big: Truncated tar archive");
	gdn_stream_close(s);
	/* a start that fails: named, nothing left */
	fk.fail_start = ENOENT;
	assert_int_equal(gdn_stream_open(c, false, "/etc", "nosuch", &s, &err),
			 -ENOENT);
	assert_string_equal(err.msg, "streamout /etc: user nosuch not found");
}

static void test_crash_without_verdict(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("d");
	struct gdn_stream *s;
	gfs_err err = {0};
	assert_int_equal(gdn_stream_open(c, false, "/etc", NULL, &s, &err), 0);
	child_says("ready\n");
	assert_int_equal(write(fk.child_data, "half", 4), 4);
	close_fd(&fk.child_data);
	close_fd(&fk.child_status); /* died */
	spin();
	gfs_err why = {0};
	assert_int_equal(gdn_stream_state(s, &why), GDN_STREAM_FAILED);
	assert_int_equal(why.code, EIO);
	/* what it wrote before never reads as an end */
	char b[8];
	assert_int_equal(gdn_stream_read(s, b, sizeof b), -EIO);
	gdn_stream_close(s);
}

/* --- streamout --- */

static void test_out_bytes_then_verdict(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("e");
	struct gdn_stream *s;
	gfs_err err = {0};
	assert_int_equal(gdn_stream_open(c, false, "/etc/", NULL, &s, &err), 0);
	child_says("ready\n");
	spin();
	char b[64];
	assert_int_equal(gdn_stream_read(s, b, sizeof b), -EAGAIN);
	struct watcher x = {0};
	watch(s, &x, GDN_EV_READABLE | GDN_EV_STREAM);
	assert_int_equal(write(fk.child_data, "tarbytes", 8), 8);
	spin();
	assert_int_equal(x.wakes, 1);
	assert_true(x.seen & GDN_EV_READABLE);
	assert_int_equal(gdn_stream_read(s, b, sizeof b), 8);
	close_fd(&fk.child_data);
	/* end of data before the verdict: the state says it is not over */
	assert_int_equal(gdn_stream_read(s, b, sizeof b), 0);
	assert_int_equal(gdn_stream_state(s, NULL), GDN_STREAM_READY);
	watch(s, &x, GDN_EV_STREAM);
	child_says("done 1 8\n");
	spin();
	assert_int_equal(x.wakes, 1);
	assert_int_equal(gdn_stream_state(s, NULL), GDN_STREAM_DONE);
	gdn_stream_close(s);
}

static void test_deadline(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("f");
	struct gdn_stream *s;
	gfs_err err = {0};
	uint64_t old = gdn_stream_limit_ms;
	gdn_stream_limit_ms = 1000;
	assert_int_equal(gdn_stream_open(c, true, "/slow", NULL, &s, &err), 0);
	now_ms += 2500;
	loop_timers_run();
	assert_int_equal(gdn_stream_state(s, NULL), GDN_STREAM_STARTING);
	now_ms += 1000;
	loop_timers_run();
	gfs_err why = {0};
	assert_int_equal(gdn_stream_state(s, &why), GDN_STREAM_FAILED);
	assert_int_equal(why.code, ETIMEDOUT);
	assert_int_equal(fk.aborts, 1);
	gdn_stream_limit_ms = old;
	gdn_stream_close(s);
}

static void test_destroy_fails_streams(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("g");
	struct gdn_stream *s1, *s2;
	gfs_err err = {0};
	assert_int_equal(gdn_stream_open(c, true, "/a", NULL, &s1, &err), 0);
	close_fd(&fk.child_data);
	close_fd(&fk.child_status);
	assert_int_equal(gdn_stream_open(c, false, "/b", NULL, &s2, &err), 0);
	struct watcher x1 = {0}, x2 = {0};
	watch(s1, &x1, GDN_EV_STREAM);
	watch(s2, &x2, GDN_EV_READABLE);
	int calls = 0;
	assert_int_equal(gdn_destroy(c, on_done, &calls, &err), 0);
	gfs_err why = {0};
	assert_int_equal(gdn_stream_state(s1, &why), GDN_STREAM_FAILED);
	assert_int_equal(why.code, ENOENT);
	assert_int_equal(gdn_stream_state(s2, NULL), GDN_STREAM_FAILED);
	assert_true(x1.wakes >= 1);
	assert_true(x2.seen & GDN_EV_GONE);
	/* no stream is started in a container that goes */
	struct gdn_stream *s3;
	assert_int_equal(gdn_stream_open(c, true, "/c", NULL, &s3, &err),
			 -ENOENT);
	gdn_stream_close(s1);
	gdn_stream_close(s2);
	/* its processes are dead: the destroy completes */
	gdn_bk_gone(c);
	assert_int_equal(calls, 1);
	spin();
}

/* --- procs/N/tty, the front's parser --- */

static void test_tty_parse(void **state)
{
	(void)state;
	int c = 0, r = 0;
	gfs_err err = {0};
	assert_int_equal(gfs_tty_parse("80 24", &c, &r, &err), 0);
	assert_int_equal(c, 80);
	assert_int_equal(r, 24);
	assert_int_equal(gfs_tty_parse("65535 1", &c, &r, &err), 0);
	assert_int_equal(c, 65535);
	static const char *const bad[] = {"80x24",    "0 0",
					  "-1 5",     "5 -1",
					  "65536 10", "80 24 1",
					  "80",	      "",
					  "80 ",      " 80 24",
					  "80  24",   "+80 24",
					  "0x50 24",  "99999999999999999999 1",
					  "80\t24",   "80 0",
					  NULL};
	for (const char *const *b = bad; *b; b++) {
		memset(&err, 0, sizeof err);
		assert_int_equal(gfs_tty_parse(*b, &c, &r, &err), -EINVAL);
		assert_int_equal(err.code, EINVAL);
		assert_non_null(strstr(err.msg, "COLUMNS ROWS"));
	}
}

int main(void)
{
	/* as the daemon: a child that stops reading is EPIPE, not a death */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_in_ready_bytes_done, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_in_child_fails, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_named_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_without_verdict, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_out_bytes_then_verdict, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_fails_streams, setup,
					    teardown),
	    cmocka_unit_test(test_tty_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
