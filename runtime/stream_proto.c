/* The streamin header, status records and path rules of streaming (see
 * runtime/stream_proto.h).  Pure: no I/O, no global state. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "runtime/image_names.h"
#include "runtime/stream_proto.h"

static bool has_nul(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static bool user_ok(const char *s, size_t n)
{
	if (n == 0 || n > RT_STREAM_USER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

int rt_streamin_header(const char *buf, size_t len, bool eof, char **path,
		       char **user, size_t *used, gfs_err *err)
{
	static const char kw[] = "user ";
	const size_t kwlen = sizeof kw - 1;

	*path = *user = NULL;
	*used = 0;
	/* a path is shorter than PATH_MAX, its newline within it */
	const char *nl = memchr(
	    buf, '\n', len < RT_STREAM_PATH_MAX ? len : RT_STREAM_PATH_MAX);
	size_t plen = nl ? (size_t)(nl - buf) : len;
	if (!nl && len >= RT_STREAM_PATH_MAX)
		return gfs_error(err, EINVAL,
				 "streamin: the path line is longer than %d "
				 "bytes",
				 RT_STREAM_PATH_MAX - 1);
	if (!nl && !eof)
		return -EAGAIN;
	if (plen == 0)
		return gfs_error(err, EINVAL,
				 "streamin: the first line must be a path");
	if (has_nul(buf, plen))
		return gfs_error(err, EINVAL,
				 "streamin: the path holds a NUL byte");

	size_t off = nl ? plen + 1 : plen;
	const char *rest = buf + off;
	size_t rlen = len - off;
	size_t ulen = 0, uoff = 0;
	bool has_user = false;
	if (rlen < kwlen) {
		/* a prefix of "user " may still become the user line */
		if (!eof && memcmp(rest, kw, rlen) == 0)
			return -EAGAIN;
	} else if (memcmp(rest, kw, kwlen) == 0) {
		size_t lim = kwlen + RT_STREAM_USER_MAX + 1;
		const char *unl = memchr(rest, '\n', rlen < lim ? rlen : lim);
		if (!unl && rlen >= lim)
			return gfs_error(err, EINVAL,
					 "streamin: the user line is longer "
					 "than %d bytes",
					 RT_STREAM_USER_MAX);
		if (!unl && !eof)
			return -EAGAIN;
		ulen = (unl ? (size_t)(unl - rest) : rlen) - kwlen;
		if (!user_ok(rest + kwlen, ulen))
			return gfs_error(err, EINVAL,
					 "streamin: bad user name in `user "
					 "NAME`");
		has_user = true;
		uoff = kwlen;
		off += kwlen + ulen + (unl ? 1 : 0);
	}
	*path = xstrndup(buf, plen);
	*user = has_user ? xstrndup(rest + uoff, ulen) : NULL;
	*used = off;
	return 0;
}

size_t rt_stream_record_ready(char *buf)
{
	memcpy(buf, "ready\n", 6);
	return 6;
}

size_t rt_stream_record_done(char *buf, uint64_t entries, uint64_t bytes)
{
	int n = snprintf(buf, RT_STREAM_RECORD_MAX,
			 "done %" PRIu64 " %" PRIu64 "\n", entries, bytes);
	return (size_t)n;
}

size_t rt_stream_record_error(char *buf, int code, const char *msg)
{
	int n = snprintf(buf, RT_STREAM_RECORD_MAX - 1, "error %d %s",
			 code > 0 && code < 4096 ? code : EIO,
			 msg && *msg ? msg : "failed");
	if (n < 0)
		n = 0;
	if ((size_t)n > RT_STREAM_RECORD_MAX - 2)
		n = RT_STREAM_RECORD_MAX - 2;
	for (int i = 6; i < n; i++)
		if ((unsigned char)buf[i] < ' ' || buf[i] == 0x7f)
			buf[i] = ' ';
	buf[n++] = '\n';
	return (size_t)n;
}

static bool parse_u64(const char *s, const char *end, uint64_t *v,
		      const char **next)
{
	uint64_t x = 0;
	const char *p = s;
	if (p >= end || *p < '0' || *p > '9')
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = x;
	*next = p;
	return true;
}

int rt_stream_record_parse(const char *line, size_t len, int *phase,
			   uint64_t *entries, uint64_t *bytes, gfs_err *err)
{
	const char *end = line + len, *p;
	uint64_t a, b;

	if (len == 5 && memcmp(line, "ready", 5) == 0) {
		*phase = RT_STREAM_READY;
		return 0;
	}
	if (len > 5 && memcmp(line, "done ", 5) == 0 &&
	    parse_u64(line + 5, end, &a, &p) && p < end && *p == ' ' &&
	    parse_u64(p + 1, end, &b, &p) && p == end) {
		*phase = RT_STREAM_DONE;
		*entries = a;
		*bytes = b;
		return 0;
	}
	if (len > 6 && memcmp(line, "error ", 6) == 0 &&
	    parse_u64(line + 6, end, &a, &p) && a > 0 && a < 4096 &&
	    (p == end || *p == ' ')) {
		const char *msg = p < end ? p + 1 : p;
		*phase = RT_STREAM_FAILED;
		gfs_error(err, (int)a, "%.*s", (int)(end - msg), msg);
		return 0;
	}
	return gfs_error(err, EPROTO,
			 "the stream helper sent a bad status record");
}

int rt_stream_target(const char *path, const char *home, char **out,
		     gfs_err *err)
{
	*out = NULL;
	if (!path || !*path)
		return gfs_error(err, EINVAL, "an empty path");
	if (path[0] != '/' && (!home || home[0] != '/'))
		return gfs_error(err, EINVAL,
				 "path %s is relative and the user has no "
				 "absolute home",
				 path);
	char *t;
	if (path[0] == '/')
		t = xstrdup(path);
	else if (strcmp(path, ".") == 0)
		t = xstrdup(home);
	else
		t = xasprintf("%s%s%s", home,
			      home[strlen(home) - 1] == '/' ? "" : "/", path);
	if (strlen(t) >= RT_STREAM_PATH_MAX) {
		free(t);
		return gfs_error(err, EINVAL, "path %.64s... is too long",
				 path);
	}
	*out = t;
	return 0;
}

bool rt_stream_dot_style(const char *path)
{
	size_t n = strlen(path);
	if (n == 0)
		return false;
	if (path[n - 1] == '/')
		return true;
	const char *last = strrchr(path, '/');
	last = last ? last + 1 : path;
	return strcmp(last, ".") == 0 || strcmp(last, "..") == 0;
}

int rt_stream_name_clean(const char *in, char *out, size_t outlen)
{
	if (!in)
		return -EINVAL;
	while (*in == '/')
		in++;
	return rt_name_clean(in, out, outlen);
}
