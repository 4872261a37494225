/* The daemon's one event loop: epoll over file descriptors, timers, a small
 * pool of worker threads for slow file work, and calls deferred to the end
 * of the current round.  Everything but a job's work function runs on the
 * loop's thread, so the fronts and garden/ need no locks; nothing that runs
 * there may wait.
 *
 * A watch, timer or job is a struct the caller embeds in its own object
 * (container_of style), so the loop allocates nothing per event. */
#ifndef GFS_LOOP_H
#define GFS_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define gfs_container_of(p, type, member)                                      \
	((type *)((char *)(p)-offsetof(type, member)))

struct loop_watch;
typedef void (*loop_watch_fn)(struct loop_watch *w, uint32_t events);
struct loop_watch {
	int fd; /* -1 when not watched */
	uint32_t events;
	loop_watch_fn fn;
};

/* Sets up the loop (epoll, the jobs' eventfd); once. */
int loop_init(void);
/* Watches fd for events (EPOLLIN, EPOLLOUT, ...); fn runs on the loop. */
int loop_watch_add(struct loop_watch *w, int fd, uint32_t events,
		   loop_watch_fn fn);
int loop_watch_mod(struct loop_watch *w, uint32_t events);
/* Stops watching (the fd stays open: the caller's). */
void loop_watch_del(struct loop_watch *w);
bool loop_watching(const struct loop_watch *w);

struct loop_timer;
typedef void (*loop_timer_fn)(struct loop_timer *t);
struct loop_timer {
	uint64_t due; /* ms on loop_now() */
	size_t slot;  /* heap index + 1; 0 when not armed */
	loop_timer_fn fn;
};

/* Monotonic milliseconds.  Unit tests may replace the clock. */
uint64_t loop_now(void);
void loop_set_clock(uint64_t (*now)(void));
/* (Re)arms t to fire once, ms from now. */
void loop_timer_start(struct loop_timer *t, uint64_t ms, loop_timer_fn fn);
void loop_timer_stop(struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);
/* Runs the timers that are due at loop_now(); returns how many.  The loop
 * does this itself; unit tests call it after moving their clock. */
int loop_timers_run(void);

/* A job: work() runs on a worker thread and may block on file work; it
 * must touch nothing the loop's thread owns.  done() then runs on the
 * loop.  The pool grows on demand up to a fixed number of threads, so
 * a slow job (an image unpack) never holds up a quick one. */
struct loop_job;
typedef void (*loop_job_fn)(struct loop_job *j);
struct loop_job {
	loop_job_fn work;
	loop_job_fn done;
	struct loop_job *next;
};
void loop_job_submit(struct loop_job *j, loop_job_fn work, loop_job_fn done);
/* Runs every job synchronously (work then done) instead: unit tests and
 * the daemon's own start-up before the loop runs. */
void loop_jobs_inline(bool on);
/* Jobs submitted and not yet done. */
unsigned loop_jobs_pending(void);

/* Calls fn(arg) once at the end of this round of the loop, after the
 * events that caused it (e.g. FUSE poll notifications, which must never be
 * sent from inside a request handler). */
void loop_defer(void (*fn)(void *arg), void *arg);

/* Runs until *stop is true. */
void loop_run(const volatile bool *stop);
/* One round: waits at most timeout_ms (-1: until something happens). */
void loop_once(int timeout_ms);

#endif
