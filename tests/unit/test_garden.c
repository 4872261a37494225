/* garden/ over a fake backend: the registry, spec validation, create with
 * its limits all or nothing, grace timers on a fake clock, the stop and
 * OOM policies, process naming, spawn timeouts and the subscriptions.
 * The fake does in memory what the daemon's backend does with the kernel,
 * and records what garden asked of it; the test plays the backend's side
 * by calling gdn_bk_* when it wants. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "garden/garden.h"
#include "lib/loop.h"

/* --- the fake clock --- */

static uint64_t now_ms = 1000000;
static uint64_t fake_now(void)
{
	return now_ms;
}

static void advance(uint64_t ms)
{
	now_ms += ms;
	loop_timers_run();
}

/* --- the fake backend --- */

static struct {
	int creates, kills, destroys, stops, last_stop_kill, spawns, abandons,
	    forgets, signals;
	uint64_t limit[GDN_LIM_N];
	int limit_calls;
	int fail_limit; /* errno set_limit returns, 0: succeed */
	uint32_t next_id;
	const char *meta; /* meta_dir's answer */
	struct gdn_ctr *last_created;
} fk;

static int fk_create(struct gdn_ctr *c, const struct gfs_createspec *s,
		     gfs_err *err)
{
	(void)s;
	(void)err;
	fk.creates++;
	fk.last_created = c;
	c->path = c->path ? c->path : NULL;
	return 0;
}

static int fk_reserve_id(struct gdn_ctr *c, uint32_t *id, gfs_err *err)
{
	(void)c;
	(void)err;
	*id = ++fk.next_id;
	return 0;
}

static int fk_spawn(struct gdn_ctr *c, struct gdn_proc *p,
		    const struct gfs_procspec *spec, gfs_err *err)
{
	(void)c;
	(void)p;
	(void)err;
	fk.spawns++;
	return strcmp(spec->path, "/refused") == 0
		   ? gfs_error(err, ENOENT, "no such file")
		   : 0;
}

static void fk_spawn_abandon(struct gdn_ctr *c, struct gdn_proc *p,
			     const gfs_err *why)
{
	(void)c;
	(void)p;
	(void)why;
	fk.abandons++;
}

static void fk_forget(struct gdn_ctr *c, struct gdn_proc *p)
{
	(void)c;
	(void)p;
	fk.forgets++;
}

static int fk_signal(struct gdn_ctr *c, struct gdn_proc *p, int sig,
		     gfs_err *err)
{
	(void)c;
	(void)p;
	(void)sig;
	(void)err;
	fk.signals++;
	return 0;
}

static int fk_stop(struct gdn_ctr *c, bool kill, gfs_err *err)
{
	(void)c;
	(void)err;
	fk.stops++;
	fk.last_stop_kill = kill;
	return 0;
}

static void fk_kill(struct gdn_ctr *c)
{
	(void)c;
	fk.kills++;
}

static void fk_destroy(struct gdn_ctr *c)
{
	fk.destroys++;
	gdn_bk_destroyed(c);
}

static int fk_set_limit(struct gdn_ctr *c, enum gdn_limit l, uint64_t v,
			gfs_err *err)
{
	(void)c;
	fk.limit_calls++;
	if (fk.fail_limit)
		return gfs_error(err, fk.fail_limit, "the kernel said no");
	fk.limit[l] = v;
	return 0;
}

static int fk_set_disk(struct gdn_ctr *c, uint64_t bytes, gfs_err *err)
{
	(void)c;
	(void)bytes;
	(void)err;
	return 0;
}

static int fk_metrics(struct gdn_ctr *c, struct gdn_metrics *m, gfs_err *err)
{
	(void)c;
	(void)err;
	m->cg.pids_current = 3;
	return 0;
}

static char *fk_meta_dir(struct gdn_ctr *c)
{
	(void)c;
	return fk.meta ? strdup(fk.meta) : NULL;
}

static const struct gdn_backend fake = {
    .create = fk_create,
    .reserve_id = fk_reserve_id,
    .spawn = fk_spawn,
    .spawn_abandon = fk_spawn_abandon,
    .forget = fk_forget,
    .signal = fk_signal,
    .stop = fk_stop,
    .kill = fk_kill,
    .destroy = fk_destroy,
    .set_limit = fk_set_limit,
    .set_disk = fk_set_disk,
    .metrics = fk_metrics,
    .meta_dir = fk_meta_dir,
};

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof fk);
	loop_set_clock(fake_now);
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
	gdn_shutdown();
	loop_set_clock(NULL);
	return 0;
}

/* --- helpers --- */

struct done {
	int calls;
	int code;
	char msg[512];
};

static void on_done(void *arg, struct gdn_ctr *c, const gfs_err *err)
{
	(void)c;
	struct done *d = arg;
	d->calls++;
	d->code = err->code;
	snprintf(d->msg, sizeof d->msg, "%s", err->msg);
}

static void on_started(void *arg, struct gdn_proc *p, const gfs_err *err)
{
	(void)p;
	struct done *d = arg;
	d->calls++;
	d->code = err->code;
	snprintf(d->msg, sizeof d->msg, "%s", err->msg);
}

static struct gfs_createspec spec_of(const char *words)
{
	struct gfs_createspec s;
	char *copy = strdup(words);
	char *w[32];
	size_t n = 0;
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && n < 31;
	     t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	w[n] = NULL;
	gfs_err err = {0};
	assert_int_equal(gfs_createspec_parse(w, &s, &err), 0);
	free(copy);
	return s;
}

/* Creates and completes one container. */
static struct gdn_ctr *make(const char *words)
{
	struct gfs_createspec s = spec_of(words);
	struct gdn_ctr *c;
	struct done d = {0};
	gfs_err err = {0};
	assert_int_equal(gdn_create(&s, on_done, &d, &c, &err), 0);
	gdn_bk_created(c, NULL);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.code, 0);
	return c;
}

static struct gdn_proc *run(struct gdn_ctr *c, const char *id, struct done *d)
{
	struct gfs_procspec spec = {.path = "/bin/true", .id = (char *)id};
	struct gdn_proc *p = NULL;
	gfs_err err = {0};
	int r = gdn_run(c, &spec, on_started, d, &p, &err);
	return r == 0 ? p : NULL;
}

/* --- the registry --- */

static void test_registry(void **state)
{
	(void)state;
	struct gfs_createspec s = spec_of("handle=a");
	struct gdn_ctr *a;
	struct done d = {0};
	gfs_err err = {0};
	assert_int_equal(gdn_create(&s, on_done, &d, &a, &err), 0);
	/* reserved but not made: not found, not counted, but taken */
	assert_null(gdn_ctr_find("a"));
	assert_int_equal(gdn_ctr_count(), 0);
	struct gfs_createspec s2 = spec_of("handle=a");
	struct gdn_ctr *x;
	assert_int_equal(gdn_create(&s2, on_done, &d, &x, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "exists"));
	gdn_bk_created(a, NULL);
	assert_int_equal(d.calls, 1);
	assert_ptr_equal(gdn_ctr_find("a"), a);
	assert_ptr_equal(gdn_ctr_slot(a->slot), a);
	assert_int_equal(gdn_ctr_count(), 1);

	struct gdn_ctr *b = make("handle=b");
	assert_int_not_equal(a->slot, b->slot);
	/* a generated handle */
	struct gdn_ctr *g = make("env=A=1");
	assert_non_null(g->handle);
	assert_ptr_equal(gdn_ctr_find(g->handle), g);
	/* capacity: 3 */
	struct gfs_createspec s3 = spec_of("handle=d");
	memset(&err, 0, sizeof err);
	assert_int_equal(gdn_create(&s3, on_done, &d, &x, &err), -ENOSPC);
	int creates = fk.creates;
	/* destroy: gone from the registry at once, the handle free again */
	struct done dd = {0};
	assert_int_equal(gdn_destroy(b, on_done, &dd, &err), 0);
	assert_null(gdn_ctr_find("b"));
	assert_int_equal(fk.kills, 1);
	assert_int_equal(dd.calls, 0);
	struct gdn_ctr *b2 = make("handle=b");
	assert_ptr_not_equal(b2, b);
	assert_int_equal(fk.creates, creates + 1);
	/* the old one's processes die: the destroy completes */
	gdn_bk_gone(b);
	assert_int_equal(dd.calls, 1);
	assert_int_equal(dd.code, 0);
	assert_int_equal(fk.destroys, 1);
	assert_ptr_equal(gdn_ctr_find("b"), b2);
	/* iteration sees the live ones once each */
	uint32_t slot = 0;
	int n = 0;
	for (struct gdn_ctr *c; (c = gdn_ctr_next(&slot));)
		n++;
	assert_int_equal(n, 3);
}

static void test_spec_validation(void **state)
{
	(void)state;
	const char *bad[] = {
	    "handle=a disk=inode_hard=10",
	    "handle=a grace=99999999999",
	    "handle=a/b",
	    "handle=..",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct gfs_createspec s;
		gfs_err err = {0};
		char *w[] = {(char *)bad[i], NULL};
		char *copy = strdup(bad[i]);
		char *sp = strchr(copy, ' ');
		char *words[3] = {copy, NULL, NULL};
		if (sp) {
			*sp = '\0';
			words[1] = sp + 1;
		}
		(void)w;
		int r = gfs_createspec_parse(words, &s, &err);
		if (r == 0) {
			struct gdn_ctr *c;
			r = gdn_create(&s, on_done, NULL, &c, &err);
		}
		free(copy);
		assert_int_equal(r, -EINVAL);
		assert_true(err.msg[0] != '\0');
	}
	/* refused before anything was made */
	assert_int_equal(fk.creates, 0);
	assert_int_equal(gdn_ctr_count(), 0);
}

static void test_create_limits_all_or_nothing(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("handle=l memory=64M cpu=512 pids=20");
	assert_int_equal(fk.limit[GDN_LIM_MEMORY], 64 << 20);
	assert_int_equal(fk.limit[GDN_LIM_CPU], 512);
	assert_int_equal(fk.limit[GDN_LIM_PIDS], 20);
	assert_int_equal(c->limit[GDN_LIM_MEMORY], 64 << 20);

	/* a limit the kernel refuses: the create fails and the container
	 * goes again */
	fk.fail_limit = EINVAL;
	struct gfs_createspec s = spec_of("handle=f memory=1K property=x=y");
	struct gdn_ctr *f;
	struct done d = {0};
	gfs_err err = {0};
	assert_int_equal(gdn_create(&s, on_done, &d, &f, &err), 0);
	int kills = fk.kills;
	gdn_bk_created(f, NULL);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.code, EINVAL);
	assert_non_null(strstr(d.msg, "memory"));
	assert_null(gdn_ctr_find("f"));
	assert_int_equal(fk.kills, kills + 1);
	gdn_bk_gone(f);
	fk.fail_limit = 0;
	/* the handle is free */
	make("handle=f");
}

static void test_limit_saved_or_set_back(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("handle=s");
	gfs_err err = {0};
	assert_int_equal(gdn_set_limit(c, GDN_LIM_PIDS, 10, &err), 0);
	assert_int_equal(c->limit[GDN_LIM_PIDS], 10);
	/* saving fails (its meta dir is not there): the kernel gets the old
	 * value back and nothing changes */
	free(c->meta);
	c->meta = strdup("/nonexistent/gardenfs-test-meta");
	assert_int_equal(gdn_set_limit(c, GDN_LIM_PIDS, 99, &err), -ENOENT);
	assert_int_equal(fk.limit[GDN_LIM_PIDS], 10);
	assert_int_equal(c->limit[GDN_LIM_PIDS], 10);
	/* the kernel refuses: nothing saved */
	free(c->meta);
	c->meta = NULL;
	fk.fail_limit = EINVAL;
	assert_int_equal(gdn_set_limit(c, GDN_LIM_PIDS, 5, &err), -EINVAL);
	assert_int_equal(c->limit[GDN_LIM_PIDS], 10);
	fk.fail_limit = 0;
}

/* --- grace --- */

static void test_grace(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("handle=g grace=2");
	advance(1500);
	assert_ptr_equal(gdn_ctr_find("g"), c);
	/* an open file holds it */
	gdn_ctr_hold(c);
	advance(5000);
	assert_ptr_equal(gdn_ctr_find("g"), c);
	/* the grace starts again when the last one goes */
	gdn_ctr_unhold(c);
	advance(1500);
	assert_ptr_equal(gdn_ctr_find("g"), c);
	/* a request starts it again too */
	gdn_ctr_touch(c);
	advance(1500);
	assert_ptr_equal(gdn_ctr_find("g"), c);
	/* a running process holds it */
	struct done d = {0};
	struct gdn_proc *p = run(c, NULL, &d);
	gdn_bk_started(p, 42);
	advance(10000);
	assert_ptr_equal(gdn_ctr_find("g"), c);
	gdn_bk_exited(p, 0);
	advance(1900);
	assert_ptr_equal(gdn_ctr_find("g"), c);
	int kills = fk.kills;
	advance(200);
	assert_null(gdn_ctr_find("g"));
	assert_int_equal(fk.kills, kills + 1);
	gdn_bk_gone(c);

	/* 0 is never */
	struct gdn_ctr *z = make("handle=z grace=0");
	advance(1000000);
	assert_ptr_equal(gdn_ctr_find("z"), z);
	/* and setting one arms it */
	gfs_err err = {0};
	assert_int_equal(gdn_set_grace(z, 1, &err), 0);
	advance(1001);
	assert_null(gdn_ctr_find("z"));
	gdn_bk_gone(z);
}

/* --- stop and OOM --- */

static void test_stop_escalates(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("handle=t");
	struct done d = {0};
	gfs_err err = {0};
	assert_int_equal(gdn_stop(c, false, on_done, &d, &err), 0);
	assert_int_equal(fk.stops, 1);
	assert_false(fk.last_stop_kill);
	/* the backend never says stopped: garden kills it */
	int kills = fk.kills;
	advance(14000);
	assert_int_equal(fk.kills, kills);
	advance(1001);
	assert_int_equal(fk.kills, kills + 1);
	assert_int_equal(d.calls, 0);
	gdn_bk_gone(c);
	assert_int_equal(d.calls, 1);
	assert_true(c->stopped);
	/* stopped: a stop is done at once, a run refused */
	assert_int_equal(gdn_stop(c, true, on_done, &d, &err), 1);
	struct done rd = {0};
	assert_null(run(c, NULL, &rd));
}

static void test_stop_completes(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("handle=t2");
	struct done d1 = {0}, d2 = {0};
	gfs_err err = {0};
	assert_int_equal(gdn_stop(c, false, on_done, &d1, &err), 0);
	/* kill while a term is under way asks again, harder */
	assert_int_equal(gdn_stop(c, true, on_done, &d2, &err), 0);
	assert_int_equal(fk.stops, 2);
	assert_true(fk.last_stop_kill);
	gdn_bk_stopped(c);
	assert_int_equal(d1.calls, 1);
	assert_int_equal(d2.calls, 1);
	assert_true(c->stopped);
	int kills = fk.kills;
	advance(60000);
	assert_int_equal(fk.kills, kills);
}

struct seen {
	struct gdn_waiter w;
	uint32_t events;
	int n;
};

static void saw(struct gdn_waiter *w, enum gdn_event ev)
{
	struct seen *s = gfs_container_of(w, struct seen, w);
	s->events |= ev;
	s->n++;
}

static void test_oom(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("handle=o");
	struct seen s = {.w = {.wake = saw, .mask = GDN_EV_EVENTS}};
	gdn_ctr_wait(c, &s.w);
	uint64_t v = c->ver_events;
	gdn_bk_oom(c);
	assert_string_equal(c->events.s, "oom\n");
	assert_true(c->ver_events > v);
	assert_true(s.events & GDN_EV_EVENTS);
	/* and it is stopped, with kill */
	assert_int_equal(fk.stops, 1);
	assert_true(fk.last_stop_kill);
	gdn_waiter_cancel(&s.w);
}

/* --- processes --- */

static void test_names(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("handle=n");
	struct done d = {0};
	struct gdn_proc *t = run(c, "task", &d);
	assert_non_null(t);
	assert_string_equal(t->name, "task");
	assert_int_equal(t->state, GDN_STARTING);
	gdn_bk_started(t, 100);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.code, 0);
	assert_ptr_equal(gdn_proc_find(c, "task"), t);
	/* a live duplicate is refused */
	struct gfs_procspec spec = {.path = "/bin/true", .id = "task"};
	struct gdn_proc *x;
	gfs_err err = {0};
	assert_int_equal(gdn_run(c, &spec, on_started, &d, &x, &err), -EEXIST);
	/* numbers for the rest, skipping one taken as a name */
	struct done d2 = {0};
	struct gdn_proc *two = run(c, NULL, &d2);
	assert_string_equal(two->name, "2");
	/* id 3, called 4: the next number (id 4) is taken as a name */
	struct gdn_proc *named = run(c, "4", &d2);
	assert_non_null(named);
	assert_int_equal(named->id, 3);
	struct gdn_proc *four = run(c, NULL, &d2);
	assert_string_equal(four->name, "5");
	/* an exited one's name can be taken again: the old one goes */
	gdn_bk_exited(t, 0);
	int forgets = fk.forgets;
	struct gdn_proc *t2 = run(c, "task", &d2);
	assert_non_null(t2);
	assert_ptr_not_equal(t2, t);
	assert_int_equal(fk.forgets, forgets + 1);
	assert_ptr_equal(gdn_proc_find(c, "task"), t2);
	/* ids never repeat */
	assert_true(t2->id > four->id);
	/* bad names */
	const char *bad[] = {"new", "a/b", ".", ".."};
	for (size_t i = 0; i < 4; i++) {
		spec.id = (char *)bad[i];
		assert_int_equal(gdn_run(c, &spec, on_started, &d, &x, &err),
				 -EINVAL);
	}
}

static void test_spawn_timeout_and_failure(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("handle=p");
	struct done d = {0};
	struct gdn_proc *p = run(c, "slow", &d);
	gdn_proc_ref(p);
	advance(9999);
	assert_int_equal(d.calls, 0);
	advance(2);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.code, ETIMEDOUT);
	assert_int_equal(fk.abandons, 1);
	assert_null(gdn_proc_find(c, "slow"));
	/* a late start changes nothing */
	gdn_bk_started(p, 5);
	assert_int_equal(d.calls, 1);
	gdn_proc_put(p);
	/* a spawn the backend refuses leaves nothing */
	struct gfs_procspec spec = {.path = "/refused"};
	struct gdn_proc *x;
	gfs_err err = {0};
	assert_int_equal(gdn_run(c, &spec, on_started, &d, &x, &err), -ENOENT);
	assert_int_equal(c->nprocs, 0);
	/* one that fails in the init */
	struct done d2 = {0};
	struct gdn_proc *f = run(c, "f", &d2);
	gfs_error(&err, ENOENT, "exec /nope: No such file or directory");
	gdn_bk_spawn_failed(f, &err);
	assert_int_equal(d2.calls, 1);
	assert_int_equal(d2.code, ENOENT);
	assert_null(gdn_proc_find(c, "f"));
}

static void cancel_other(struct gdn_waiter *w, enum gdn_event ev);
static struct seen s1, s2, s3;

static void cancel_other(struct gdn_waiter *w, enum gdn_event ev)
{
	saw(w, ev);
	/* a wake may cancel the others (the next one included) */
	gdn_waiter_cancel(&s1.w);
	gdn_waiter_cancel(&s2.w);
	gdn_waiter_cancel(&s3.w);
}

static void test_waiters(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("handle=w");
	struct done d = {0};
	struct gdn_proc *p = run(c, NULL, &d);
	gdn_bk_started(p, 7);
	memset(&s1, 0, sizeof s1);
	memset(&s2, 0, sizeof s2);
	memset(&s3, 0, sizeof s3);
	s1.w = (struct gdn_waiter){.wake = cancel_other, .mask = GDN_EV_EXIT};
	s2.w = (struct gdn_waiter){.wake = cancel_other, .mask = GDN_EV_EXIT};
	s3.w = (struct gdn_waiter){.wake = saw, .mask = GDN_EV_OUTPUT};
	gdn_proc_wait(p, &s1.w);
	gdn_proc_wait(p, &s2.w);
	gdn_proc_wait(p, &s3.w);
	gdn_bk_exited(p, 3);
	/* the first woken cancelled the rest: exactly one wake */
	assert_int_equal(s1.n + s2.n + s3.n, 1);
	assert_int_equal(p->status, 3);
	assert_int_equal(p->state, GDN_EXITED);
	/* a destroy wakes everyone with GONE, whatever their mask */
	struct seen g = {.w = {.wake = saw, .mask = 0}};
	gdn_ctr_wait(c, &g.w);
	gfs_err err = {0};
	assert_int_equal(gdn_destroy(c, NULL, NULL, &err), 0);
	assert_true(g.events & GDN_EV_GONE);
	gdn_waiter_cancel(&g.w);
	gdn_bk_gone(c);
}

static void test_properties(void **state)
{
	(void)state;
	struct gdn_ctr *c = make("handle=q property=a=1 property=b=two");
	assert_string_equal(gdn_prop_find(c, "a")->value, "1");
	assert_string_equal(gdn_prop_find(c, "b")->value, "two");
	gfs_err err = {0};
	struct gdn_prop *p;
	assert_int_equal(gdn_prop_set(c, "a", "x", 1, &p, &err), 0);
	assert_string_equal(p->value, "x");
	assert_ptr_equal(gdn_prop_slot(c, p->slot), p);
	assert_int_equal(gdn_prop_set(c, "bad/name", "x", 1, NULL, &err),
			 -EINVAL);
	assert_int_equal(gdn_prop_set(c, "x.tmp", "x", 1, NULL, &err), -EINVAL);
	assert_int_equal(gdn_prop_remove(c, "a", &err), 0);
	assert_null(gdn_prop_find(c, "a"));
	assert_int_equal(gdn_prop_remove(c, "a", &err), -ENOENT);
	struct gdn_metrics m;
	assert_int_equal(gdn_metrics(c, &m, &err), 0);
	assert_int_equal(m.cg.pids_current, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spec_validation, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_create_limits_all_or_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limit_saved_or_set_back, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_grace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_escalates, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_stop_completes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_oom, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spawn_timeout_and_failure,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_waiters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_properties, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
