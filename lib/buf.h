/* sbuf: a growable byte buffer (git's strbuf).
 * Invariants: s is NULL or points to cap bytes; len < cap whenever s is not
 * NULL, and s[len] == '\0', so s is always a C string as well as a byte run
 * that may hold NULs.  A zeroed sbuf is a valid empty buffer. */
#ifndef GFS_BUF_H
#define GFS_BUF_H

#include <stddef.h>

typedef struct sbuf {
	char *s;
	size_t len;
	size_t cap;
} sbuf;

#define SBUF_INIT                                                              \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void sbuf_add(sbuf *b, const void *data, size_t n);
void sbuf_adds(sbuf *b, const char *str);
void sbuf_addc(sbuf *b, char c);
void sbuf_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sbuf_reset(sbuf *b);
void sbuf_free(sbuf *b);
/* Returns the string (never NULL) and leaves b empty. */
char *sbuf_steal(sbuf *b);

/* Allocation that aborts on failure: out of memory is not an input error. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
