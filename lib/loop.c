/* The event loop (lib/loop.h): one epoll set, a binary heap of timers
 * behind the epoll timeout, and a worker pool whose finished jobs come back
 * through an eventfd.  Only loop_job_submit's queue is shared with the
 * workers; it is the one lock here. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/loop.h"

#define WORKERS_MAX 16

static int epfd = -1;

static uint64_t clock_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t (*clock_fn)(void) = clock_mono;

uint64_t loop_now(void)
{
	return clock_fn();
}

void loop_set_clock(uint64_t (*now)(void))
{
	clock_fn = now ? now : clock_mono;
}

/* --- watches --- */

int loop_watch_add(struct loop_watch *w, int fd, uint32_t events,
		   loop_watch_fn fn)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		w->fd = -1;
		return -e;
	}
	return 0;
}

int loop_watch_mod(struct loop_watch *w, uint32_t events)
{
	if (w->fd < 0)
		return -EBADF;
	if (w->events == events)
		return 0;
	struct epoll_event ev = {.events = events, .data.ptr = w};
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

void loop_watch_del(struct loop_watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
}

bool loop_watching(const struct loop_watch *w)
{
	return w->fd >= 0;
}

/* --- timers: a binary min-heap on due --- */

static struct loop_timer **heap;
static size_t nheap, capheap;

static void heap_set(size_t i, struct loop_timer *t)
{
	heap[i] = t;
	t->slot = i + 1;
}

static void heap_up(size_t i)
{
	struct loop_timer *t = heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (heap[p]->due <= t->due)
			break;
		heap_set(i, heap[p]);
		i = p;
	}
	heap_set(i, t);
}

static void heap_down(size_t i)
{
	struct loop_timer *t = heap[i];
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct loop_timer *best = t;
		if (l < nheap && heap[l]->due < best->due) {
			m = l;
			best = heap[l];
		}
		if (l + 1 < nheap && heap[l + 1]->due < best->due) {
			m = l + 1;
			best = heap[l + 1];
		}
		if (m == i)
			break;
		heap_set(i, best);
		i = m;
	}
	heap_set(i, t);
}

void loop_timer_stop(struct loop_timer *t)
{
	if (!t->slot)
		return;
	size_t i = t->slot - 1;
	t->slot = 0;
	nheap--;
	if (i == nheap)
		return;
	heap_set(i, heap[nheap]);
	heap_up(i);
	heap_down(heap[i]->slot - 1);
}

void loop_timer_start(struct loop_timer *t, uint64_t ms, loop_timer_fn fn)
{
	loop_timer_stop(t);
	t->due = loop_now() + ms;
	t->fn = fn;
	if (nheap == capheap) {
		capheap = capheap ? capheap * 2 : 64;
		heap = xrealloc(heap, capheap * sizeof *heap);
	}
	heap_set(nheap, t);
	nheap++;
	heap_up(nheap - 1);
}

bool loop_timer_armed(const struct loop_timer *t)
{
	return t->slot != 0;
}

int loop_timers_run(void)
{
	int n = 0;
	uint64_t now = loop_now();
	while (nheap && heap[0]->due <= now) {
		struct loop_timer *t = heap[0];
		loop_timer_stop(t);
		n++;
		t->fn(t); /* may re-arm t or others */
	}
	return n;
}

static int timeout_ms(int cap)
{
	if (!nheap)
		return cap;
	uint64_t now = loop_now();
	uint64_t d = heap[0]->due > now ? heap[0]->due - now : 0;
	if (cap >= 0 && d > (uint64_t)cap)
		return cap;
	return d > 1000000 ? 1000000 : (int)d;
}

/* --- deferred calls --- */

struct deferred {
	void (*fn)(void *);
	void *arg;
};
static struct deferred *defq;
static size_t ndefq, capdefq;

void loop_defer(void (*fn)(void *arg), void *arg)
{
	for (size_t i = 0; i < ndefq; i++)
		if (defq[i].fn == fn && defq[i].arg == arg)
			return;
	if (ndefq == capdefq) {
		capdefq = capdefq ? capdefq * 2 : 16;
		defq = xrealloc(defq, capdefq * sizeof *defq);
	}
	defq[ndefq++] = (struct deferred){fn, arg};
}

static void run_deferred(void)
{
	/* a deferred call may defer more: run until none is left */
	while (ndefq) {
		struct deferred d = defq[0];
		memmove(defq, defq + 1, (ndefq - 1) * sizeof *defq);
		ndefq--;
		d.fn(d.arg);
	}
}

/* --- jobs --- */

static pthread_mutex_t jlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jcond = PTHREAD_COND_INITIALIZER;
static struct loop_job *todo_head, **todo_tail = &todo_head;
static struct loop_job *done_head, **done_tail = &done_head;
static unsigned nworkers, nidle, npending;
static int donefd = -1;
static struct loop_watch done_watch;
static bool jobs_inline;

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&jlock);
	for (;;) {
		while (!todo_head) {
			nidle++;
			pthread_cond_wait(&jcond, &jlock);
			nidle--;
		}
		struct loop_job *j = todo_head;
		todo_head = j->next;
		if (!todo_head)
			todo_tail = &todo_head;
		pthread_mutex_unlock(&jlock);
		j->work(j);
		pthread_mutex_lock(&jlock);
		j->next = NULL;
		*done_tail = j;
		done_tail = &j->next;
		uint64_t one = 1;
		if (write(donefd, &one, sizeof one) < 0) {
			/* the counter is full: the loop is reading anyway */
		}
	}
	return NULL;
}

void loop_jobs_inline(bool on)
{
	jobs_inline = on;
}

unsigned loop_jobs_pending(void)
{
	return npending;
}

void loop_job_submit(struct loop_job *j, loop_job_fn work, loop_job_fn done)
{
	j->work = work;
	j->done = done;
	j->next = NULL;
	npending++;
	if (jobs_inline || donefd < 0) {
		work(j);
		npending--;
		done(j);
		return;
	}
	pthread_mutex_lock(&jlock);
	*todo_tail = j;
	todo_tail = &j->next;
	if (nidle == 0 && nworkers < WORKERS_MAX) {
		/* workers must not take the signals the loop reads from its
		 * signalfd: they are blocked in the loop's thread, and a new
		 * thread inherits that mask */
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&at, 512 * 1024);
		if (pthread_create(&t, &at, worker, NULL) == 0)
			nworkers++;
		pthread_attr_destroy(&at);
	}
	pthread_cond_signal(&jcond);
	pthread_mutex_unlock(&jlock);
	if (nworkers == 0) {
		/* no thread could be made: do it here rather than never */
		pthread_mutex_lock(&jlock);
		todo_head = NULL;
		todo_tail = &todo_head;
		pthread_mutex_unlock(&jlock);
		work(j);
		npending--;
		done(j);
	}
}

static void jobs_done(struct loop_watch *w, uint32_t events)
{
	(void)w;
	(void)events;
	uint64_t n;
	if (read(donefd, &n, sizeof n) < 0) {
		/* nothing yet */
	}
	pthread_mutex_lock(&jlock);
	struct loop_job *list = done_head;
	done_head = NULL;
	done_tail = &done_head;
	pthread_mutex_unlock(&jlock);
	while (list) {
		struct loop_job *j = list;
		list = j->next;
		npending--;
		j->done(j);
	}
}

int loop_init(void)
{
	if (epfd >= 0)
		return 0;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (donefd < 0)
		return -errno;
	return loop_watch_add(&done_watch, donefd, EPOLLIN, jobs_done);
}

void loop_once(int cap)
{
	struct epoll_event evs[64];
	run_deferred();
	loop_timers_run();
	run_deferred();
	int n = epoll_wait(epfd, evs, 64, timeout_ms(cap));
	for (int i = 0; i < n; i++) {
		struct loop_watch *w = evs[i].data.ptr;
		/* a watch removed by an earlier event of this round has
		 * fd -1; its memory may be gone only if its owner freed it,
		 * which owners defer past the round (see garden/) */
		if (w->fd >= 0)
			w->fn(w, evs[i].events);
	}
	loop_timers_run();
	run_deferred();
}

void loop_run(const volatile bool *stop)
{
	while (!*stop)
		loop_once(-1);
}
