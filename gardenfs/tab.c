/* The node tables (Plan 9's Dirtab) and inode numbers: pure functions,
 * shared by the file server and its unit tests. */
#include <string.h>

#include "gardenfs/gfs.h"

/* The handlers live in nodes.c and limits.c.  They are weak here so
 * that the unit tests link the tables without the file server. */
int gfs_render_capacity(struct gfs_ctx *x, sbuf *out, gfs_err *err)
    __attribute__((weak));
int gfs_render_disk(struct gfs_ctx *x, sbuf *out, gfs_err *err)
    __attribute__((weak));
int gfs_write_disk(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		   size_t len, gfs_err *err) __attribute__((weak));
int gfs_render_errors(struct gfs_ctx *x, sbuf *out, gfs_err *err)
    __attribute__((weak));
int gfs_render_events(struct gfs_ctx *x, sbuf *out, gfs_err *err)
    __attribute__((weak));
int gfs_render_grace(struct gfs_ctx *x, sbuf *out, gfs_err *err)
    __attribute__((weak));
int gfs_render_info(struct gfs_ctx *x, sbuf *out, gfs_err *err)
    __attribute__((weak));
int gfs_render_limit(struct gfs_ctx *x, sbuf *out, gfs_err *err)
    __attribute__((weak));
int gfs_render_metrics(struct gfs_ctx *x, sbuf *out, gfs_err *err)
    __attribute__((weak));
int gfs_render_ping(struct gfs_ctx *x, sbuf *out, gfs_err *err)
    __attribute__((weak));
int gfs_render_status(struct gfs_ctx *x, sbuf *out, gfs_err *err)
    __attribute__((weak));
int gfs_render_toperrors(struct gfs_ctx *x, sbuf *out, gfs_err *err)
    __attribute__((weak));
int gfs_write_ctl(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		  size_t len, gfs_err *err) __attribute__((weak));
int gfs_write_grace(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		    size_t len, gfs_err *err) __attribute__((weak));
int gfs_write_limit(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		    size_t len, gfs_err *err) __attribute__((weak));
int gfs_write_new(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		  size_t len, gfs_err *err) __attribute__((weak));
int gfs_write_signal(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		     size_t len, gfs_err *err) __attribute__((weak));
int gfs_write_stop(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		   size_t len, gfs_err *err) __attribute__((weak));

const struct gfs_node gfs_nodes[T_NTYPES] = {
    [T_ROOT] = {"", K_DIR, S_IFDIR | 0755, NULL, NULL, 0},
    [T_CTL] = {"ctl", K_CLONE, S_IFREG | 0600, NULL, gfs_write_ctl, 0},
    [T_PING] = {"ping", K_TEXT, S_IFREG | 0444, gfs_render_ping, NULL, 0},
    [T_CAPACITY] = {"capacity", K_TEXT, S_IFREG | 0444, gfs_render_capacity,
		    NULL, 0},
    [T_TOPERRORS] = {"errors", K_TEXT, S_IFREG | 0444, gfs_render_toperrors,
		     NULL, 0},
    [T_CTR] = {"", K_DIR, S_IFDIR | 0555, NULL, NULL, 0},
    [T_INFO] = {"info", K_TEXT, S_IFREG | 0444, gfs_render_info, NULL, 0},
    [T_STOP] = {"stop", K_CMD, S_IFREG | 0200, NULL, gfs_write_stop, 0},
    [T_EVENTS] = {"events", K_TEXT, S_IFREG | 0444, gfs_render_events, NULL, 0},
    [T_GRACE] = {"grace", K_CMD, S_IFREG | 0644, gfs_render_grace,
		 gfs_write_grace, 0},
    [T_ERRORS] = {"errors", K_TEXT, S_IFREG | 0444, gfs_render_errors, NULL, 0},
    [T_METRICS] = {"metrics", K_TEXT, S_IFREG | 0444, gfs_render_metrics, NULL,
		   0},
    [T_LIMITS] = {"limits", K_DIR, S_IFDIR | 0555, NULL, NULL, 0},
    [T_LMEMORY] = {"memory", K_CMD, S_IFREG | 0644, gfs_render_limit,
		   gfs_write_limit, 0},
    [T_LCPU] = {"cpu", K_CMD, S_IFREG | 0644, gfs_render_limit, gfs_write_limit,
		0},
    [T_LPIDS] = {"pids", K_CMD, S_IFREG | 0644, gfs_render_limit,
		 gfs_write_limit, 0},
    [T_LDISK] = {"disk", K_CMD, S_IFREG | 0644, gfs_render_disk, gfs_write_disk,
		 0},
    [T_PROPS] = {"properties", K_DIR, S_IFDIR | 0755, NULL, NULL, 0},
    [T_PROP] = {"", K_PROP, S_IFREG | 0644, NULL, NULL, 0},
    [T_PROCS] = {"procs", K_DIR, S_IFDIR | 0555, NULL, NULL, 0},
    [T_NEW] = {"new", K_CLONE, S_IFREG | 0600, NULL, gfs_write_new, 256 * 1024},
    [T_PROC] = {"", K_DIR, S_IFDIR | 0555, NULL, NULL, 0},
    [T_STDIN] = {"stdin", K_STDIN, S_IFREG | 0200, NULL, NULL, 0},
    [T_STDOUT] = {"stdout", K_STREAM, S_IFREG | 0444, NULL, NULL, 0},
    [T_STDERR] = {"stderr", K_STREAM, S_IFREG | 0444, NULL, NULL, 0},
    [T_WAIT] = {"wait", K_STREAM, S_IFREG | 0444, NULL, NULL, 0},
    [T_SIGNAL] = {"signal", K_CMD, S_IFREG | 0200, NULL, gfs_write_signal, 0},
    [T_STATUS] = {"status", K_TEXT, S_IFREG | 0444, gfs_render_status, NULL, 0},
};

/* inode = slot (20 bits) | idx (36 bits) | type (8 bits); the root is 1. */
fuse_ino_t gfs_ino(uint32_t slot, uint64_t idx, enum gfs_type t)
{
	if (t == T_ROOT)
		return FUSE_ROOT_ID;
	return ((uint64_t)slot << 44) | ((idx & ((1ULL << 36) - 1)) << 8) | t;
}

void gfs_ino_split(fuse_ino_t ino, uint32_t *slot, uint64_t *idx,
		   enum gfs_type *t)
{
	if (ino == FUSE_ROOT_ID) {
		*slot = 0;
		*idx = 0;
		*t = T_ROOT;
		return;
	}
	*slot = ino >> 44;
	*idx = (ino >> 8) & ((1ULL << 36) - 1);
	*t = ino & 0xff;
}

/* The tables: a directory's fixed rows, in ls order. */
static const enum gfs_type root_tab[] = {T_CTL, T_PING, T_CAPACITY, T_TOPERRORS,
					 T_NONE};
static const enum gfs_type ctr_tab[] = {T_INFO,	  T_STOP,    T_EVENTS, T_GRACE,
					T_ERRORS, T_METRICS, T_LIMITS, T_PROPS,
					T_PROCS,  T_NONE};
static const enum gfs_type limits_tab[] = {T_LMEMORY, T_LCPU, T_LPIDS, T_LDISK,
					   T_NONE};
static const enum gfs_type procs_tab[] = {T_NEW, T_NONE};
static const enum gfs_type proc_tab[] = {T_STDIN,  T_STDOUT, T_STDERR, T_WAIT,
					 T_SIGNAL, T_STATUS, T_NONE};
static const enum gfs_type none_tab[] = {T_NONE};

const enum gfs_type *gfs_table(enum gfs_type t)
{
	switch (t) {
	case T_ROOT:
		return root_tab;
	case T_CTR:
		return ctr_tab;
	case T_LIMITS:
		return limits_tab;
	case T_PROCS:
		return procs_tab;
	case T_PROC:
		return proc_tab;
	default:
		return none_tab;
	}
}

enum gfs_type gfs_table_find(enum gfs_type dir, const char *name)
{
	for (const enum gfs_type *t = gfs_table(dir); *t; t++)
		if (strcmp(gfs_nodes[*t].name, name) == 0)
			return *t;
	return T_NONE;
}
