/* gfs_err and the cleanup helpers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/err.h"

static void set(gfs_err *err, int code, const char *fmt, va_list ap)
{
	err->code = code;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	/* one line: a reason never carries a newline into `errors` */
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

int gfs_error(gfs_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		set(err, code, fmt, ap);
		va_end(ap);
	}
	return -code;
}

int gfs_error_sys(gfs_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		set(err, code, fmt, ap);
		va_end(ap);
		size_t n = strlen(err->msg);
		snprintf(err->msg + n, sizeof err->msg - n, ": %s",
			 strerror(code));
	}
	return -code;
}

int gfs_error_wrap(gfs_err *err, const char *fmt, ...)
{
	if (!err)
		return -EIO;
	char ctx[sizeof err->msg];
	char old[sizeof err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	/* ctx, ": ", then as much of the old reason as fits */
	size_t n = strnlen(ctx, sizeof err->msg - 1);
	memcpy(err->msg, ctx, n);
	size_t room = sizeof err->msg - 1 - n;
	size_t k = room < 2 ? room : 2;
	memcpy(err->msg + n, ": ", k);
	n += k;
	room -= k;
	size_t m = strnlen(old, room);
	memcpy(err->msg + n, old, m);
	err->msg[n + m] = '\0';
	if (err->code == 0)
		err->code = EIO;
	return -err->code;
}

void gfs_error_clear(gfs_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

void gfs_freep(void *p)
{
	free(*(void **)p);
}

void gfs_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

void gfs_fclosep(void *f)
{
	FILE *fp = *(FILE **)f;
	if (fp)
		fclose(fp);
}

void gfs_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void gfs_strvfreep(void *p)
{
	gfs_strv_free(*(char ***)p);
}

size_t gfs_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

char **gfs_strv_dup(char *const *v)
{
	size_t n = gfs_strv_len(v);
	char **d = xcalloc(n + 1, sizeof *d);
	for (size_t i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return d;
}
