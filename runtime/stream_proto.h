/* The pure parts of streaming, shared by the daemon (runtime/stream.c) and
 * the child (runtime/stream/): the streamin header, the status records on
 * the child's status pipe, and the rules for paths and entry names.  No
 * I/O here, so that unit tests reach all of it. */
#ifndef GFS_RT_STREAM_PROTO_H
#define GFS_RT_STREAM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

enum rt_stream_phase {
	RT_STREAM_STARTING, /* the child is resolving the path */
	RT_STREAM_READY,    /* the path is there: bytes may flow */
	RT_STREAM_DONE,	    /* the last byte went through and all is well */
	RT_STREAM_FAILED,   /* the stream is over and it failed */
};

/* A status record is one line, at most this long with its newline (less
 * than PIPE_BUF, so that a record is written and read whole). */
#define RT_STREAM_RECORD_MAX 640
/* The streamin header's limits: a path of PATH_MAX, a user line. */
#define RT_STREAM_PATH_MAX 4096
#define RT_STREAM_USER_MAX 256

/* The header of a streamin write stream: a path line, then optionally a
 * line `user NAME`; the archive follows.  eof says that buf is all there
 * will ever be (the writer closed).  Returns 0 with *path and *user
 * (malloc'd; *user NULL when absent) and *used (the header's bytes);
 * -EAGAIN when more bytes are needed to tell; -EINVAL (err filled) for a
 * header that can never be good. */
int rt_streamin_header(const char *buf, size_t len, bool eof, char **path,
		       char **user, size_t *used, gfs_err *err);

/* Status records.  Each format function writes one line with its newline
 * into buf (size >= RT_STREAM_RECORD_MAX) and returns its length. */
size_t rt_stream_record_ready(char *buf);
size_t rt_stream_record_done(char *buf, uint64_t entries, uint64_t bytes);
/* msg is cut to fit, newlines and control bytes become spaces. */
size_t rt_stream_record_error(char *buf, int code, const char *msg);
/* Parses one line (without its newline).  0 with *phase READY, DONE (and
 * the counts) or FAILED (err holds the child's errno and reason);
 * -EPROTO (err filled) for anything else. */
int rt_stream_record_parse(const char *line, size_t len, int *phase,
			   uint64_t *entries, uint64_t *bytes, gfs_err *err);

/* The absolute path in the container that path (as the user wrote it)
 * names: itself when absolute, else below home ("." is home).  EINVAL for
 * an empty or too long path or a relative home. */
int rt_stream_target(const char *path, const char *home, char **out,
		     gfs_err *err);
/* Streamout: a path ending in "/" (so "/" too), "." or ".." gives its
 * contents as "./..." entries (Garden's convention); else entries are
 * named after its last component. */
bool rt_stream_dot_style(const char *path);
/* An archive entry's name, made relative to the destination: leading
 * slashes dropped (as tar does), "." components and repeated slashes
 * dropped; "" is the destination itself.  -EINVAL for a ".." component
 * (it could only lead out), -ENAMETOOLONG when out is too small. */
int rt_stream_name_clean(const char *in, char *out, size_t outlen);

#endif
