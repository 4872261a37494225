/* The Garden service (garden/garden.h): the registry, the life of a
 * container (create, restore, stop, destroy), its processes, and the
 * policies Garden has: stop escalates from SIGTERM to SIGKILL, an OOM kill
 * is an event and stops the container, the grace time destroys an idle
 * one.  Subscriptions wake the fronts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "garden/garden_priv.h"
#include "lib/parse.h"

struct gdn_config gdn_cfg;
const struct gdn_backend *gdn_bk;

static hash registry = HASH_INIT; /* handle -> ctr, creating or live */
static struct gdn_ctr **slots;	  /* slot -> live ctr; [0] unused */
static uint32_t nslots, next_slot;
static unsigned nlive, ncreating;

size_t gdn_prop_max = 65535;

/* --- subscriptions --- */

static void wlink(struct gdn_waiter **head, struct gdn_waiter *w)
{
	w->next = *head;
	if (*head)
		(*head)->prevp = &w->next;
	w->prevp = head;
	*head = w;
}

void gdn_waiter_cancel(struct gdn_waiter *w)
{
	if (!w->prevp)
		return;
	*w->prevp = w->next;
	if (w->next)
		w->next->prevp = w->prevp;
	w->next = NULL;
	w->prevp = NULL;
}

bool gdn_waiter_attached(const struct gdn_waiter *w)
{
	return w->prevp != NULL;
}

/* The cursor below lives on the stack only while it is in the list: it is
 * unlinked before wake_list returns, which GCC cannot see. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wdangling-pointer"
/* Calls every waiter of the list that wants ev.  A wake may cancel any
 * waiter (itself, the next one) or add new ones: a cursor node (wake NULL)
 * walks the list, so the walk never touches a cancelled waiter. */
void gdn_wake_list(struct gdn_waiter **head, enum gdn_event ev)
{
	struct gdn_waiter cur = {0};
	wlink(head, &cur);
	while (cur.next) {
		struct gdn_waiter *w = cur.next;
		/* step the cursor over w */
		gdn_waiter_cancel(&cur);
		cur.next = w->next;
		if (w->next)
			w->next->prevp = &cur.next;
		cur.prevp = &w->next;
		w->next = &cur;
		if (w->wake && ((w->mask & ev) || ev == GDN_EV_GONE))
			w->wake(w, ev);
	}
	gdn_waiter_cancel(&cur);
}
#pragma GCC diagnostic pop

static bool wants_output(struct gdn_waiter *head)
{
	for (struct gdn_waiter *w = head; w; w = w->next)
		if (w->wake && (w->mask & GDN_EV_OUTPUT))
			return true;
	return false;
}

/* Output is watched while somebody waits for it. */
static void output_watch_update(struct gdn_proc *p)
{
	bool want = p->state != GDN_EXITED && p->c && p->c->phase == GDN_LIVE &&
		    wants_output(p->waiters);
	if (want != (p->watching != 0)) {
		p->watching = want;
		if (gdn_bk->watch_output)
			gdn_bk->watch_output(p->c, p, want);
	}
}

void gdn_proc_wait(struct gdn_proc *p, struct gdn_waiter *w)
{
	gdn_waiter_cancel(w);
	wlink(&p->waiters, w);
	if (w->mask & GDN_EV_OUTPUT)
		output_watch_update(p);
}

void gdn_ctr_wait(struct gdn_ctr *c, struct gdn_waiter *w)
{
	gdn_waiter_cancel(w);
	wlink(&c->waiters, w);
}

static void wake_ctr(struct gdn_ctr *c, enum gdn_event ev)
{
	gdn_ctr_ref(c);
	gdn_wake_list(&c->waiters, ev);
	gdn_ctr_put(c);
}

static void wake_proc(struct gdn_proc *p, enum gdn_event ev)
{
	gdn_proc_ref(p);
	gdn_wake_list(&p->waiters, ev);
	if (p->c)
		gdn_wake_list(&p->c->waiters, ev);
	output_watch_update(p);
	gdn_proc_put(p);
}

static void info_changed(struct gdn_ctr *c)
{
	c->ver_info++;
	wake_ctr(c, GDN_EV_INFO);
}

/* --- errors --- */

void gdn_report(struct gdn_ctr *c, const gfs_err *err)
{
	const char *msg = err->msg[0] ? err->msg : strerror(err->code);
	if (c && c->phase == GDN_LIVE) {
		gdn_errlog_add(&c->errors, msg);
		gdn_log("%s: %s", c->handle, msg);
		wake_ctr(c, GDN_EV_ERROR);
	} else {
		gdn_errlog_add(&gdn_top_errors, msg);
		gdn_log("%s", msg);
	}
}

/* --- the registry --- */

struct gdn_ctr *gdn_ctr_find(const char *handle)
{
	struct gdn_ctr *c = hash_get(&registry, handle);
	return c && c->phase == GDN_LIVE ? c : NULL;
}

struct gdn_ctr *gdn_ctr_slot(uint32_t slot)
{
	return slot && slot < nslots ? slots[slot] : NULL;
}

struct gdn_ctr *gdn_ctr_next(uint32_t *slot)
{
	while (++*slot < nslots)
		if (slots[*slot])
			return slots[*slot];
	return NULL;
}

unsigned gdn_ctr_count(void)
{
	return nlive;
}

/* Slots are handed out round robin, so that an inode of a destroyed
 * container does not name a new one for a long time. */
static uint32_t slot_alloc(void)
{
	for (uint32_t k = 0; k < nslots; k++) {
		uint32_t s = (next_slot + k) % nslots;
		if (s && !slots[s]) {
			next_slot = s + 1;
			return s;
		}
	}
	uint32_t old = nslots;
	uint32_t n = old ? old * 2 : 64;
	if (n > (1u << 20))
		n = 1u << 20;
	if (n == old)
		return 0;
	slots = xrealloc(slots, n * sizeof *slots);
	memset(slots + old, 0, (n - old) * sizeof *slots);
	nslots = n;
	uint32_t s = old ? old : 1;
	next_slot = s + 1;
	return s;
}

void gdn_ctr_ref(struct gdn_ctr *c)
{
	c->refs++;
}

static void proc_unlink(struct gdn_proc *p);

static void ctr_free(struct gdn_ctr *c)
{
	size_t i = 0;
	void *v;
	while (hash_next(&c->props, &i, NULL, &v)) {
		struct gdn_prop *pr = v;
		free(pr->name);
		free(pr->value);
		free(pr);
	}
	hash_free(&c->props);
	free(c->pslots);
	while (c->nprocs)
		proc_unlink(c->pbyid[c->nprocs - 1]);
	hash_free(&c->procs);
	free(c->pbyid);
	if (c->spec) {
		gfs_createspec_free(c->spec);
		free(c->spec);
	}
	sbuf_free(&c->events);
	gdn_errlog_free(&c->errors);
	free(c->meta);
	free(c->path);
	free(c->handle);
	free(c);
}

void gdn_ctr_put(struct gdn_ctr *c)
{
	if (--c->refs == 0)
		ctr_free(c);
}

static void grace_expired(struct loop_timer *t);
static void grace_update(struct gdn_ctr *c, bool restart);

static bool ctr_busy(struct gdn_ctr *c)
{
	if (c->holds > 0 || c->pending)
		return true;
	for (size_t i = 0; i < c->nprocs; i++)
		if (c->pbyid[i]->state != GDN_EXITED)
			return true;
	return false;
}

/* The grace timer runs while the container is idle. */
static void grace_update(struct gdn_ctr *c, bool restart)
{
	if (c->phase != GDN_LIVE || c->grace == 0 || ctr_busy(c)) {
		loop_timer_stop(&c->grace_timer);
		return;
	}
	if (restart || !loop_timer_armed(&c->grace_timer))
		loop_timer_start(&c->grace_timer, c->grace * 1000,
				 grace_expired);
}

void gdn_ctr_hold(struct gdn_ctr *c)
{
	c->holds++;
	grace_update(c, false);
}

void gdn_ctr_unhold(struct gdn_ctr *c)
{
	if (c->holds)
		c->holds--;
	grace_update(c, true);
}

void gdn_ctr_touch(struct gdn_ctr *c)
{
	if (loop_timer_armed(&c->grace_timer))
		grace_update(c, true);
}

static struct gdn_ctr *ctr_new(const char *handle)
{
	struct gdn_ctr *c = xcalloc(1, sizeof *c);
	c->handle = xstrdup(handle);
	c->refs = 1;
	c->path = xstrdup("");
	return c;
}

static void make_live(struct gdn_ctr *c)
{
	c->phase = GDN_LIVE;
	slots[c->slot] = c;
	nlive++;
}

/* Out of the registry: the handle is free, the slot empty. */
static void unregister(struct gdn_ctr *c)
{
	if (hash_get(&registry, c->handle) == c)
		hash_del(&registry, c->handle);
	if (c->slot < nslots && slots[c->slot] == c)
		slots[c->slot] = NULL;
	if (c->phase == GDN_LIVE)
		nlive--;
	else if (c->phase == GDN_CREATING)
		ncreating--;
}

/* --- completions --- */

static void pend(struct gdn_ctr *c, enum gdn_pending_kind k, gdn_done_fn done,
		 void *arg)
{
	struct gdn_pending *pd = xcalloc(1, sizeof *pd);
	pd->kind = k;
	pd->done = done;
	pd->arg = arg;
	pd->next = c->pending;
	c->pending = pd;
}

/* Completes (and removes) every pending completion of kind k. */
static void complete(struct gdn_ctr *c, enum gdn_pending_kind k,
		     const gfs_err *err)
{
	static const gfs_err ok = {0};
	gdn_ctr_ref(c);
	for (;;) {
		struct gdn_pending **pp = &c->pending, *pd = NULL;
		while (*pp && (*pp)->kind != k)
			pp = &(*pp)->next;
		if (!*pp)
			break;
		pd = *pp;
		*pp = pd->next;
		if (pd->done)
			pd->done(pd->arg, c, err ? err : &ok);
		free(pd);
	}
	grace_update(c, false);
	gdn_ctr_put(c);
}

/* --- create --- */

static void gen_handle(char buf[40])
{
	static unsigned long long seq;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	do
		snprintf(buf, 40, "c%llx-%llx",
			 (unsigned long long)ts.tv_sec * 1000 +
			     (unsigned long long)ts.tv_nsec / 1000000,
			 ++seq);
	while (hash_get(&registry, buf));
}

static int check_spec(const struct gfs_createspec *s, gfs_err *err)
{
	if (s->grace_set && s->grace > 100ULL * 365 * 24 * 3600)
		return gfs_error(err, EINVAL, "grace %llu s is over a century",
				 (unsigned long long)s->grace);
	if (s->disk_set) {
		uint64_t b;
		if (s->disk.v[GFS_DISK_INODE_SOFT] ||
		    s->disk.v[GFS_DISK_INODE_HARD])
			return gfs_error(err, EINVAL,
					 "disk: btrfs has no inode limits; "
					 "only 0 is accepted");
		if (gfs_disk_hard_bytes(&s->disk, &b, err) < 0)
			return gfs_error_wrap(err, "disk");
	}
	for (char *const *p = s->props; p && *p; p++) {
		const char *eq = strchr(*p, '=');
		cleanup_free char *k = xstrndup(*p, eq ? (size_t)(eq - *p) : 0);
		if (!eq || !gdn_prop_name_ok(k, err))
			return -EINVAL;
		if (strlen(eq + 1) > gdn_prop_max)
			return gfs_error(err, EFBIG,
					 "property %s: values are limited to "
					 "%zu bytes",
					 k, gdn_prop_max);
	}
	return 0;
}

int gdn_create(struct gfs_createspec *spec, gdn_done_fn done, void *arg,
	       struct gdn_ctr **out, gfs_err *err)
{
	char gen[40];
	int r;
	if (!spec->handle) {
		gen_handle(gen);
		spec->handle = xstrdup(gen);
	}
	if (!gfs_handle_is_valid(spec->handle, err))
		r = -EINVAL;
	else if (hash_get(&registry, spec->handle))
		r = gfs_error(err, EEXIST, "container %s exists", spec->handle);
	else if (nlive + ncreating >= gdn_cfg.max_containers)
		r = gfs_error(err, ENOSPC, "all %llu containers are in use",
			      (unsigned long long)gdn_cfg.max_containers);
	else
		r = check_spec(spec, err);
	if (r < 0) {
		gfs_error_wrap(err, "create %s", spec->handle);
		gfs_createspec_free(spec);
		return r;
	}
	uint32_t slot = slot_alloc();
	if (!slot) {
		gfs_createspec_free(spec);
		return gfs_error(err, ENOSPC, "create: no free slot");
	}
	struct gdn_ctr *c = ctr_new(spec->handle);
	c->slot = slot;
	c->phase = GDN_CREATING;
	c->spec = xmalloc(sizeof *c->spec);
	*c->spec = *spec;
	memset(spec, 0, sizeof *spec);
	c->privileged = c->spec->privileged;
	hash_put(&registry, c->handle, c);
	ncreating++;
	pend(c, GDN_PEND_CREATE, done, arg);
	r = gdn_bk->create(c, c->spec, err);
	if (r < 0) {
		unregister(c);
		free(c->pending);
		c->pending = NULL;
		gfs_error_wrap(err, "create %s", c->handle);
		gdn_ctr_put(c);
		return r;
	}
	*out = c;
	return 0;
}

/* The spec's properties, grace and limits, all or none. */
static int apply_spec(struct gdn_ctr *c, const struct gfs_createspec *s,
		      gfs_err *err)
{
	int r = 0;
	for (char *const *p = s->props; r == 0 && p && *p; p++) {
		const char *eq = strchr(*p, '=');
		cleanup_free char *k = xstrndup(*p, (size_t)(eq - *p));
		r = gdn_prop_set(c, k, eq + 1, strlen(eq + 1), NULL, err);
	}
	if (r == 0 && s->grace_set)
		r = gdn_set_grace(c, s->grace, err);
	const struct {
		bool set;
		enum gdn_limit l;
		uint64_t v;
	} lim[] = {{s->memory_set, GDN_LIM_MEMORY, s->memory},
		   {s->cpu_set, GDN_LIM_CPU, s->cpu},
		   {s->pids_set, GDN_LIM_PIDS, s->pids}};
	for (size_t i = 0; r == 0 && i < sizeof lim / sizeof *lim; i++)
		if (lim[i].set)
			r = gdn_set_limit(c, lim[i].l, lim[i].v, err);
	if (r == 0 && s->disk_set)
		r = gdn_set_disk(c, &s->disk, err);
	if (r == 0 && s->bandwidth_set)
		r = gdn_set_bandwidth(c, s->rate, s->burst, err);
	return r;
}

static void destroy_start(struct gdn_ctr *c);

void gdn_bk_created(struct gdn_ctr *c, const gfs_err *err)
{
	gfs_err e = {0};
	if (c->phase != GDN_CREATING)
		return;
	if (err && err->code) {
		e = *err;
		goto fail;
	}
	c->meta = gdn_bk->meta_dir ? gdn_bk->meta_dir(c) : NULL;
	if (gdn_meta_load(c, &e) < 0)
		goto fail_made;
	ncreating--;
	make_live(c);
	if (apply_spec(c, c->spec, &e) < 0 ||
	    (gdn_bk->commit && gdn_bk->commit(c, &e) < 0)) {
		/* made, but not as asked: it goes again */
		ncreating++;
		nlive--;
		slots[c->slot] = NULL;
		c->phase = GDN_CREATING;
		goto fail_made;
	}
	gfs_createspec_free(c->spec);
	free(c->spec);
	c->spec = NULL;
	grace_update(c, true);
	complete(c, GDN_PEND_CREATE, NULL);
	return;
fail_made:
	gfs_error_wrap(&e, "create %s", c->handle);
	unregister(c);
	c->phase = GDN_DESTROYING;
	gdn_ctr_ref(c);
	complete(c, GDN_PEND_CREATE, &e);
	destroy_start(c);
	gdn_ctr_put(c);
	return;
fail:
	gfs_error_wrap(&e, "create %s", c->handle);
	unregister(c);
	c->phase = GDN_DESTROYING;
	complete(c, GDN_PEND_CREATE, &e);
	gdn_ctr_put(c);
}

/* --- destroy --- */

static void destroy_start(struct gdn_ctr *c)
{
	loop_timer_stop(&c->grace_timer);
	loop_timer_stop(&c->stop_timer);
	loop_timer_stop(&c->ready_timer);
	for (size_t i = 0; i < c->nprocs; i++)
		loop_timer_stop(&c->pbyid[i]->start_timer);
	/* the registry's reference now holds it until the backend is done */
	gdn_bk->kill(c);
}

int gdn_destroy(struct gdn_ctr *c, gdn_done_fn done, void *arg, gfs_err *err)
{
	if (c->phase != GDN_LIVE)
		return gfs_error(err, ENOENT, "no container %s", c->handle);
	unregister(c);
	c->phase = GDN_DESTROYING;
	pend(c, GDN_PEND_DESTROY, done, arg);
	/* whoever waits on it hears that it is gone, now */
	gdn_streams_abort(c);
	for (size_t i = 0; i < c->nprocs; i++)
		wake_proc(c->pbyid[i], GDN_EV_GONE);
	wake_ctr(c, GDN_EV_GONE);
	complete(c, GDN_PEND_STOP, NULL);
	destroy_start(c);
	return 0;
}

static void grace_expired(struct loop_timer *t)
{
	struct gdn_ctr *c = gfs_container_of(t, struct gdn_ctr, grace_timer);
	if (ctr_busy(c))
		return;
	gfs_err err = {0};
	gdn_log("%s: grace time of %llu s is over", c->handle,
		(unsigned long long)c->grace);
	if (gdn_destroy(c, NULL, NULL, &err) < 0)
		gdn_report(NULL, &err);
}

/* The container's processes are dead for good. */
void gdn_bk_gone(struct gdn_ctr *c)
{
	gdn_ctr_ref(c);
	for (size_t i = 0; i < c->nprocs; i++) {
		struct gdn_proc *p = c->pbyid[i];
		if (p->state != GDN_EXITED)
			gdn_bk_exited(p, 255);
	}
	if (c->phase == GDN_DESTROYING) {
		gdn_bk->destroy(c);
	} else if (c->phase == GDN_LIVE) {
		gdn_bk_stopped(c);
	}
	gdn_ctr_put(c);
}

void gdn_bk_destroyed(struct gdn_ctr *c)
{
	c->bk = NULL;
	complete(c, GDN_PEND_DESTROY, NULL);
	gdn_ctr_put(c); /* the registry's */
}

/* --- restore --- */

static void restore_one(const char *handle)
{
	gfs_err err = {0};
	uint32_t slot = slot_alloc();
	if (!slot)
		return;
	struct gdn_ctr *c = ctr_new(handle);
	c->slot = slot;
	c->restoring = true;
	hash_put(&registry, c->handle, c);
	make_live(c);
	int r = gdn_bk->restore(c, &err);
	if (r == 0) {
		c->meta = gdn_bk->meta_dir ? gdn_bk->meta_dir(c) : NULL;
		r = gdn_meta_load(c, &err);
	}
	if (r < 0) {
		gfs_error_wrap(&err, "restoring %s", handle);
		gdn_report(NULL, &err);
		unregister(c);
		gdn_ctr_put(c);
		return;
	}
	grace_update(c, true);
	gdn_log("%s: restored", handle);
}

void gdn_bk_ready(struct gdn_ctr *c)
{
	if (!c->restoring)
		return;
	c->restoring = false;
	info_changed(c);
	grace_update(c, false);
}

int gdn_setup(const struct gdn_config *cfg, const struct gdn_backend *bk,
	      gfs_err *err)
{
	gdn_cfg = *cfg;
	if (!gdn_cfg.spawn_timeout_ms)
		gdn_cfg.spawn_timeout_ms = 15000;
	if (!gdn_cfg.stop_timeout_ms)
		gdn_cfg.stop_timeout_ms = 15000;
	gdn_bk = bk;
	gdn_errlog_init(&gdn_top_errors,
			cfg->errors_path ? xstrdup(cfg->errors_path) : NULL);
	cleanup_strv char **handles = NULL, **half = NULL;
	if (bk->list && bk->list(&handles, &half, err) < 0)
		return -err->code;
	for (char **h = half; h && *h; h++) {
		gdn_log("%s: a create that never finished: removing it", *h);
		if (bk->discard)
			bk->discard(*h);
	}
	for (char **h = handles; h && *h; h++)
		restore_one(*h);
	if (bk->restored)
		bk->restored();
	return 0;
}

void gdn_shutdown(void)
{
	for (uint32_t s = 1; s < nslots; s++) {
		struct gdn_ctr *c = slots[s];
		if (!c)
			continue;
		slots[s] = NULL;
		c->phase = GDN_DESTROYING;
		loop_timer_stop(&c->grace_timer);
		loop_timer_stop(&c->stop_timer);
		gdn_ctr_put(c);
	}
	hash_free(&registry);
	free(slots);
	slots = NULL;
	nslots = nlive = ncreating = 0;
	gdn_errlog_free(&gdn_top_errors);
}

/* --- stop, OOM --- */

static void stop_overdue(struct loop_timer *t)
{
	struct gdn_ctr *c = gfs_container_of(t, struct gdn_ctr, stop_timer);
	if (c->stopped || c->phase != GDN_LIVE)
		return;
	gdn_log("%s: stop did not finish in time: killing the container",
		c->handle);
	gdn_bk->kill(c);
}

int gdn_stop(struct gdn_ctr *c, bool kill, gdn_done_fn done, void *arg,
	     gfs_err *err)
{
	if (c->stopped && !c->stopping)
		return 1;
	if (!c->stopping || kill) {
		int r = gdn_bk->stop(c, kill, err);
		if (r < 0)
			return gfs_error_wrap(err, "stop");
		if (!c->stopping || kill)
			loop_timer_start(&c->stop_timer,
					 kill ? 5000 : gdn_cfg.stop_timeout_ms,
					 stop_overdue);
		c->stopping = true;
	}
	if (done)
		pend(c, GDN_PEND_STOP, done, arg);
	return 0;
}

void gdn_bk_stopped(struct gdn_ctr *c)
{
	bool was = c->stopped;
	c->stopped = true;
	c->stopping = false;
	loop_timer_stop(&c->stop_timer);
	complete(c, GDN_PEND_STOP, NULL);
	if (!was && c->phase == GDN_LIVE) {
		wake_ctr(c, GDN_EV_STOPPED);
		info_changed(c);
	}
	grace_update(c, false);
}

void gdn_bk_oom(struct gdn_ctr *c)
{
	gfs_err err = {0};
	if (c->phase != GDN_LIVE)
		return;
	gdn_log("%s: out of memory: stopping it", c->handle);
	if (gdn_meta_add_event(c, "oom", &err) < 0)
		gdn_report(c, &err);
	c->ver_events++;
	wake_ctr(c, GDN_EV_EVENTS);
	info_changed(c);
	if (!c->stopped && gdn_stop(c, true, NULL, NULL, &err) < 0)
		gdn_report(c, &err);
}

int gdn_set_grace(struct gdn_ctr *c, uint64_t seconds, gfs_err *err)
{
	if (seconds > 100ULL * 365 * 24 * 3600)
		return gfs_error(err, EINVAL,
				 "grace: %llu seconds is over a "
				 "century",
				 (unsigned long long)seconds);
	int r = gdn_meta_save_u64(c, "grace", seconds, err);
	if (r < 0)
		return r;
	c->grace = seconds;
	grace_update(c, true);
	return 0;
}

/* --- limits --- */

static const char *const limit_names[GDN_LIM_N] = {"memory", "cpu", "pids"};

int gdn_set_limit(struct gdn_ctr *c, enum gdn_limit l, uint64_t v, gfs_err *err)
{
	uint64_t old = c->limit[l];
	int r = gdn_bk->set_limit(c, l, v, err);
	if (r < 0)
		return gfs_error_wrap(err, "limits/%s", limit_names[l]);
	r = gdn_meta_save_u64(c, gdn_limit_file(l), v, err);
	if (r < 0) {
		/* all or nothing: the kernel gets the old value back */
		gdn_bk->set_limit(c, l, old, GFS_IGNORE);
		return gfs_error_wrap(err, "limits/%s", limit_names[l]);
	}
	c->limit[l] = v;
	return 0;
}

int gdn_set_disk(struct gdn_ctr *c, const struct gfs_disk *d, gfs_err *err)
{
	uint64_t bytes = 0, old = 0;
	if (d->v[GFS_DISK_INODE_SOFT] || d->v[GFS_DISK_INODE_HARD])
		return gfs_error(err, EINVAL,
				 "limits/disk: btrfs has no inode limits; only "
				 "0 is accepted");
	if (gfs_disk_hard_bytes(d, &bytes, err) < 0 ||
	    gfs_disk_hard_bytes(&c->disk, &old, err) < 0)
		return gfs_error_wrap(err, "limits/disk");
	int r = gdn_bk->set_disk(c, bytes, err);
	if (r < 0)
		return gfs_error_wrap(err, "limits/disk");
	r = gdn_meta_save_disk(c, d, err);
	if (r < 0) {
		gdn_bk->set_disk(c, old, GFS_IGNORE);
		return gfs_error_wrap(err, "limits/disk");
	}
	c->disk = *d;
	return 0;
}

int gdn_set_bandwidth(struct gdn_ctr *c, uint64_t rate, uint64_t burst,
		      gfs_err *err)
{
	if (!gdn_bk->set_bandwidth)
		return gfs_error(err, ENOTSUP,
				 "limits/bandwidth: no networking here");
	int r = gdn_bk->set_bandwidth(c, rate, burst, err);
	if (r < 0)
		return gfs_error_wrap(err, "limits/bandwidth");
	r = gdn_meta_save_bandwidth(c, rate, burst, err);
	if (r < 0) {
		gdn_bk->set_bandwidth(c, c->bw_rate, c->bw_burst, GFS_IGNORE);
		return gfs_error_wrap(err, "limits/bandwidth");
	}
	c->bw_rate = rate;
	c->bw_burst = burst;
	return 0;
}

int gdn_metrics(struct gdn_ctr *c, struct gdn_metrics *m, gfs_err *err)
{
	memset(m, 0, sizeof *m);
	int r = gdn_bk->metrics(c, m, err);
	if (r < 0)
		return gfs_error_wrap(err, "metrics");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now =
	    (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	m->age_ms = now > c->created_ms ? now - c->created_ms : 0;
	return 0;
}

int gdn_ping(sbuf *out)
{
	const char *bad = gdn_bk->unhealthy ? gdn_bk->unhealthy() : NULL;
	if (bad) {
		sbuf_printf(out, "%s\n", bad);
		return -EIO;
	}
	if (nlive + ncreating >= gdn_cfg.max_containers) {
		sbuf_printf(out, "all %llu containers are in use\n",
			    (unsigned long long)gdn_cfg.max_containers);
		return -ENOSPC;
	}
	sbuf_adds(out, "ok\n");
	return 0;
}

int gdn_capacity(struct gdn_capacity *cap, gfs_err *err)
{
	memset(cap, 0, sizeof *cap);
	int r = gdn_bk->capacity ? gdn_bk->capacity(cap, err) : 0;
	cap->max_containers = gdn_cfg.max_containers;
	return r;
}

/* --- networking --- */

void gdn_net_info(struct gdn_ctr *c, struct gdn_net *out)
{
	memset(out, 0, sizeof *out);
	if (gdn_bk->net_info && c->phase == GDN_LIVE)
		gdn_bk->net_info(c, out);
}

void gdn_net_free(struct gdn_net *n)
{
	free(n->ports);
	memset(n, 0, sizeof *n);
}

static int no_net(struct gdn_ctr *c, gfs_err *err)
{
	return gfs_error(err, ENOTSUP, "container %s has no network",
			 c->handle);
}

int gdn_net_in(struct gdn_ctr *c, uint32_t host, uint32_t ctr,
	       uint32_t *host_out, uint32_t *ctr_out, gfs_err *err)
{
	if (!gdn_bk->net_in)
		return no_net(c, err);
	int r = gdn_bk->net_in(c, host, ctr, host_out, ctr_out, err);
	if (r == 0)
		info_changed(c);
	return r < 0 ? gfs_error_wrap(err, "net/in") : 0;
}

int gdn_net_out(struct gdn_ctr *c, struct net_rule *const *rules, size_t n,
		gfs_err *err)
{
	if (!gdn_bk->net_out)
		return no_net(c, err);
	int r = gdn_bk->net_out(c, rules, n, err);
	return r < 0 ? gfs_error_wrap(err, "net/out") : 0;
}

int gdn_net_out_text(struct gdn_ctr *c, const char *text, gfs_err *err)
{
	struct net_rule *rule;
	if (net_rule_parse(text, &rule, err) < 0)
		return gfs_error_wrap(err, "net/out");
	int r = gdn_net_out(c, &rule, 1, err);
	if (r < 0)
		net_rule_free(rule);
	return r;
}

void gdn_net_list(struct gdn_ctr *c, bool in, sbuf *out)
{
	if (gdn_bk->net_list && c->phase == GDN_LIVE)
		gdn_bk->net_list(c, in, out);
}

/* --- properties --- */

bool gdn_prop_name_ok(const char *name, gfs_err *err)
{
	size_t n = strlen(name);
	if (n == 0 || n > 255 || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return gfs_error(err, EINVAL,
				 "property names are file names: 1-255 "
				 "bytes, no '/', not . or ..") &&
		       false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return gfs_error(err, EINVAL,
					 "property names may not hold "
					 "control characters") &&
			       false;
	if (n > 4 && strcmp(name + n - 4, ".tmp") == 0)
		return gfs_error(err, EINVAL,
				 "property names may not end in .tmp") &&
		       false;
	return true;
}

struct gdn_prop *gdn_prop_find(struct gdn_ctr *c, const char *name)
{
	return hash_get(&c->props, name);
}

struct gdn_prop *gdn_prop_slot(struct gdn_ctr *c, uint32_t slot)
{
	return slot < c->npslots ? c->pslots[slot] : NULL;
}

struct gdn_prop *gdn_prop_insert(struct gdn_ctr *c, const char *name,
				 const char *value, size_t len)
{
	struct gdn_prop *p = hash_get(&c->props, name);
	if (!p) {
		p = xcalloc(1, sizeof *p);
		p->name = xstrdup(name);
		p->slot = c->npslots;
		c->pslots =
		    xrealloc(c->pslots, (c->npslots + 1) * sizeof *c->pslots);
		c->pslots[c->npslots++] = p;
		hash_put(&c->props, p->name, p);
	}
	free(p->value);
	p->value = xmalloc(len + 1);
	memcpy(p->value, value, len);
	p->value[len] = '\0';
	p->len = len;
	return p;
}

int gdn_prop_set(struct gdn_ctr *c, const char *name, const char *value,
		 size_t len, struct gdn_prop **out, gfs_err *err)
{
	if (!gdn_prop_name_ok(name, err))
		return -EINVAL;
	if (len > gdn_prop_max)
		return gfs_error(err, EFBIG,
				 "property %s: values are limited to %zu bytes",
				 name, gdn_prop_max);
	int r = gdn_meta_save_prop(c, name, value, len, err);
	if (r < 0)
		return r;
	struct gdn_prop *p = gdn_prop_insert(c, name, value, len);
	if (out)
		*out = p;
	return 0;
}

int gdn_prop_remove(struct gdn_ctr *c, const char *name, gfs_err *err)
{
	struct gdn_prop *p = hash_get(&c->props, name);
	if (!p)
		return gfs_error(err, ENOENT, "no property %s", name);
	int r = gdn_meta_remove_prop(c, name, err);
	if (r < 0)
		return r;
	hash_del(&c->props, name);
	c->pslots[p->slot] = NULL;
	free(p->name);
	free(p->value);
	free(p);
	return 0;
}

/* --- processes --- */

struct gdn_proc *gdn_proc_find(struct gdn_ctr *c, const char *name)
{
	return hash_get(&c->procs, name);
}

struct gdn_proc *gdn_proc_by_id(struct gdn_ctr *c, uint32_t id)
{
	size_t lo = 0, hi = c->nprocs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->pbyid[mid]->id == id)
			return c->pbyid[mid];
		if (c->pbyid[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void gdn_proc_ref(struct gdn_proc *p)
{
	p->refs++;
}

void gdn_proc_put(struct gdn_proc *p)
{
	if (--p->refs > 0)
		return;
	free(p->name);
	free(p->command);
	free(p);
}

static struct gdn_proc *proc_insert(struct gdn_ctr *c, uint32_t id,
				    const char *name)
{
	struct gdn_proc *p = xcalloc(1, sizeof *p);
	p->id = id;
	p->name = xstrdup(name);
	p->c = c;
	p->refs = 1;
	size_t i = c->nprocs;
	c->pbyid = xrealloc(c->pbyid, (c->nprocs + 1) * sizeof *c->pbyid);
	while (i > 0 && c->pbyid[i - 1]->id > id) {
		c->pbyid[i] = c->pbyid[i - 1];
		i--;
	}
	c->pbyid[i] = p;
	c->nprocs++;
	hash_put(&c->procs, p->name, p);
	return p;
}

/* Out of the container's tables; the memory goes with the last ref. */
static void proc_unlink(struct gdn_proc *p)
{
	struct gdn_ctr *c = p->c;
	if (!c)
		return;
	loop_timer_stop(&p->start_timer);
	if (hash_get(&c->procs, p->name) == p)
		hash_del(&c->procs, p->name);
	for (size_t i = 0; i < c->nprocs; i++)
		if (c->pbyid[i] == p) {
			memmove(c->pbyid + i, c->pbyid + i + 1,
				(c->nprocs - i - 1) * sizeof *c->pbyid);
			c->nprocs--;
			break;
		}
	if (p->watching && gdn_bk->watch_output && c->phase != GDN_DESTROYING)
		gdn_bk->watch_output(c, p, false);
	p->watching = 0;
	p->c = NULL;
	gdn_proc_put(p);
}

struct gdn_proc *gdn_bk_proc_add(struct gdn_ctr *c, uint32_t id,
				 const char *name, const char *command,
				 enum gdn_proc_state st, int status, pid_t pid)
{
	struct gdn_proc *p = proc_insert(c, id, name);
	p->command = xstrdup(command ? command : "");
	p->state = st;
	p->status = status;
	p->pid = pid;
	return p;
}

static void start_overdue(struct loop_timer *t)
{
	struct gdn_proc *p = gfs_container_of(t, struct gdn_proc, start_timer);
	gfs_err err;
	gfs_error(&err, ETIMEDOUT, "process %s did not start within %llu s",
		  p->name, (unsigned long long)gdn_cfg.spawn_timeout_ms / 1000);
	if (p->c && gdn_bk->spawn_abandon)
		gdn_bk->spawn_abandon(p->c, p, &err);
	gdn_bk_spawn_failed(p, &err);
}

int gdn_run(struct gdn_ctr *c, const struct gfs_procspec *spec,
	    gdn_started_fn started, void *arg, struct gdn_proc **out,
	    gfs_err *err)
{
	uint32_t id;
	char num[16];
	const char *name = spec->id;
	if (c->phase != GDN_LIVE)
		return gfs_error(err, ENOENT, "no container %s", c->handle);
	if (c->stopped || c->stopping)
		return gfs_error(err, EPERM, "container %s is stopped",
				 c->handle);
	if (name && !gfs_proc_name_ok(name, err))
		return -EINVAL;
	struct gdn_proc *old = name ? hash_get(&c->procs, name) : NULL;
	if (old && old->state != GDN_EXITED)
		return gfs_error(err, EEXIST, "process %s is running", name);
	int r = gdn_bk->reserve_id(c, &id, err);
	/* a number that somebody took as a name is skipped */
	while (r == 0 && !name) {
		snprintf(num, sizeof num, "%u", id);
		if (!hash_get(&c->procs, num))
			break;
		r = gdn_bk->reserve_id(c, &id, err);
	}
	if (r < 0)
		return r;
	if (old) {
		/* Garden reuses the id of a finished process: the old one
		 * and its output go */
		if (gdn_bk->forget)
			gdn_bk->forget(c, old);
		wake_proc(old, GDN_EV_GONE);
		proc_unlink(old);
	}
	struct gdn_proc *p = proc_insert(c, id, name ? name : num);
	p->state = GDN_STARTING;
	p->tty = spec->tty;
	p->tty_columns = spec->tty_columns ? spec->tty_columns : 80;
	p->tty_rows = spec->tty_rows ? spec->tty_rows : 24;
	p->command = gfs_procspec_command(spec);
	p->started = started;
	p->started_arg = arg;
	r = gdn_bk->spawn(c, p, spec, err);
	if (r < 0) {
		p->started = NULL;
		proc_unlink(p);
		return r;
	}
	loop_timer_start(&p->start_timer, gdn_cfg.spawn_timeout_ms,
			 start_overdue);
	grace_update(c, false);
	*out = p;
	return 0;
}

void gdn_bk_started(struct gdn_proc *p, pid_t pid)
{
	static const gfs_err ok = {0};
	if (p->state != GDN_STARTING)
		return;
	loop_timer_stop(&p->start_timer);
	p->state = GDN_RUNNING;
	p->pid = pid;
	gdn_started_fn cb = p->started;
	p->started = NULL;
	gdn_proc_ref(p);
	if (cb && p->c)
		cb(p->started_arg, p, &ok);
	if (p->c) {
		wake_proc(p, GDN_EV_STARTED);
		info_changed(p->c);
	}
	gdn_proc_put(p);
}

void gdn_bk_spawn_failed(struct gdn_proc *p, const gfs_err *err)
{
	if (p->state != GDN_STARTING || !p->c)
		return;
	struct gdn_ctr *c = p->c;
	loop_timer_stop(&p->start_timer);
	p->state = GDN_EXITED;
	p->status = 255;
	gdn_started_fn cb = p->started;
	p->started = NULL;
	gdn_proc_ref(p);
	gdn_ctr_ref(c);
	if (gdn_bk->forget)
		gdn_bk->forget(c, p);
	proc_unlink(p);
	if (cb)
		cb(p->started_arg, p, err);
	gdn_wake_list(&p->waiters, GDN_EV_EXIT);
	grace_update(c, false);
	gdn_ctr_put(c);
	gdn_proc_put(p);
}

void gdn_bk_exited(struct gdn_proc *p, int status)
{
	if (p->state == GDN_STARTING) {
		gfs_err err;
		gfs_error(&err, EIO, "process %s died before it started",
			  p->name);
		gdn_bk_spawn_failed(p, &err);
		return;
	}
	if (p->state == GDN_EXITED)
		return;
	p->state = GDN_EXITED;
	p->status = status;
	struct gdn_ctr *c = p->c;
	gdn_proc_ref(p);
	wake_proc(p, GDN_EV_EXIT);
	if (c) {
		info_changed(c);
		grace_update(c, false);
	}
	gdn_proc_put(p);
}

void gdn_bk_output(struct gdn_proc *p)
{
	wake_proc(p, GDN_EV_OUTPUT);
}

int gdn_signal(struct gdn_proc *p, int sig, gfs_err *err)
{
	if (p->state == GDN_EXITED || !p->c)
		return gfs_error(err, ESRCH, "process %s has exited", p->name);
	return gdn_bk->signal(p->c, p, sig, err);
}

int gdn_output_open(struct gdn_proc *p, int which, gfs_err *err)
{
	if (!p->c)
		return gfs_error(err, ENOENT, "process %s is gone", p->name);
	return gdn_bk->output_open(p->c, p, which, err);
}

bool gdn_output_done(const struct gdn_proc *p)
{
	return p->state == GDN_EXITED || !p->c;
}

int gdn_stdin_open(struct gdn_proc *p, bool *first, gfs_err *err)
{
	if (!p->c)
		return gfs_error(err, ENOENT, "process %s is gone", p->name);
	int fd = gdn_bk->stdin_open(p->c, p, err);
	if (fd >= 0) {
		*first = !p->stdin_claimed;
		p->stdin_claimed = true;
	}
	return fd;
}

int gdn_stdin_eof(struct gdn_proc *p, gfs_err *err)
{
	if (!p->c || p->state == GDN_EXITED)
		return 0;
	return gdn_bk->stdin_eof(p->c, p, err);
}

int gdn_tty_resize(struct gdn_proc *p, int columns, int rows, gfs_err *err)
{
	if (!p->tty)
		return gfs_error(err, EINVAL, "process %s has no tty", p->name);
	if (p->state == GDN_EXITED || !p->c)
		return gfs_error(err, ESRCH, "process %s has exited", p->name);
	if (!gdn_bk->tty_resize)
		return gfs_error(err, ENOTSUP, "no tty support");
	int r = gdn_bk->tty_resize(p->c, p, columns, rows, err);
	if (r == 0) {
		p->tty_columns = columns;
		p->tty_rows = rows;
	}
	return r;
}
