/* gfs_err: the error object every fallible function fills (crun's
 * libcrun_error_t).  A function that fails returns a negative errno and
 * leaves the errno and a one-line reason here; callers add context with
 * gfs_error_wrap and pass it up.  Only the FUSE front turns it into a reply
 * and a line in `errors`. */
#ifndef GFS_ERR_H
#define GFS_ERR_H

#include <stddef.h>

typedef struct gfs_err {
	int code;      /* positive errno; 0 when no error */
	char msg[512]; /* one line, no trailing newline */
} gfs_err;

/* Sets err (when not NULL) and returns -code. */
int gfs_error(gfs_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like gfs_error, with ": strerror(code)" appended. */
int gfs_error_sys(gfs_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes "context: " to the message already in err; returns -err->code. */
int gfs_error_wrap(gfs_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void gfs_error_clear(gfs_err *err);
/* Library code always gets a real error object.  A caller that drops a
 * result on purpose (a best-effort step whose failure changes nothing, or
 * one reported another way) passes this: a fresh object, thrown away. */
#define GFS_IGNORE (&(gfs_err){0})

/* Cleanup attributes (crun, systemd). */
void gfs_freep(void *p);
void gfs_closep(int *fd);
void gfs_fclosep(void *f);
void gfs_strvfreep(void *p);
#define cleanup_free   __attribute__((cleanup(gfs_freep)))
#define cleanup_close  __attribute__((cleanup(gfs_closep)))
#define cleanup_fclose __attribute__((cleanup(gfs_fclosep)))
#define cleanup_strv   __attribute__((cleanup(gfs_strvfreep)))

/* Hands ownership out of a cleanup variable. */
#define steal_ptr(p)                                                           \
	({                                                                     \
		__typeof__(p) _p = (p);                                        \
		(p) = NULL;                                                    \
		_p;                                                            \
	})
#define steal_fd(fd)                                                           \
	({                                                                     \
		int _fd = (fd);                                                \
		(fd) = -1;                                                     \
		_fd;                                                           \
	})

/* Frees a NULL-terminated vector of strings. */
void gfs_strv_free(char **v);
size_t gfs_strv_len(char *const *v);
/* A copy of v (NULL: an empty vector). */
char **gfs_strv_dup(char *const *v);

#endif
