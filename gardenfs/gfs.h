/* The FUSE front of gardenfs: the file tree over garden/.  Only gardenfs/
 * includes FUSE headers.
 *
 * Every directory is a table of rows (Plan 9's Dirtab).  A row names a
 * kind, and a kind is one struct of operations (Plan 9's Dev): open, read,
 * write, poll, flush, release, stat.  The generic code in fs.c walks the
 * tables and calls through the kinds; it never switches on which file it
 * serves.  A new file is one row (tab.c) and its handler (nodes.c), with
 * the prototype in nodes.h. */
#ifndef GFS_FRONT_H
#define GFS_FRONT_H

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>

#include "garden/garden.h"
#include "lib/buf.h"
#include "lib/err.h"

struct gfs_fh;
struct gfs_row;

/* What a row is about: decides what the inode's slot and index name. */
enum gfs_scope {
	GFS_TOP,  /* /garden itself */
	GFS_CTR,  /* a container's (slot: the container) */
	GFS_PROC, /* a process's (index: its id) */
	GFS_PROP, /* a property (index: its slot) */
};

/* A node resolved from an inode or a walk. */
struct gfs_ref {
	const struct gfs_row *row;
	struct gdn_ctr *c;     /* NULL at the top level */
	struct gdn_proc *p;    /* GFS_PROC */
	struct gdn_prop *prop; /* GFS_PROP */
	uint64_t idx;	       /* process id, property slot */
};

/* A request that waits (a parked read or write, a mkdir): replied to
 * exactly once, by whoever finishes first (the work or an interrupt). */
struct gfs_park {
	fuse_req_t req;
	bool done; /* replied */
	struct gfs_fh *fh;
	size_t size;
	struct gdn_waiter w;
	void (*cancel)(struct gfs_park *pk); /* at interrupt, before reply */
	struct gfs_park *next, **prevp;	     /* in fh->parked */
};

/* A kind of file. */
struct gfs_kind {
	/* Sets fi's flags and fh's state; may refuse with err. */
	int (*open)(struct gfs_fh *fh, struct fuse_file_info *fi, gfs_err *err);
	void (*read)(fuse_req_t req, struct gfs_fh *fh, size_t size, off_t off);
	void (*write)(fuse_req_t req, struct gfs_fh *fh, const char *buf,
		      size_t size, off_t off);
	/* What poll(2) should say now (POLLIN...); the front has armed fh's
	 * waiter when ph is set. */
	unsigned (*poll)(struct gfs_fh *fh);
	void (*flush)(fuse_req_t req, struct gfs_fh *fh);
	void (*release)(struct gfs_fh *fh);
	/* st_size and the like (st is filled otherwise). */
	void (*stat)(const struct gfs_ref *x, struct stat *st);
	/* events that make poll look again */
	uint32_t poll_mask;
	bool cacheable; /* entry and attributes never change */
};

/* One command written to a file.  A handler returns 0 (the front answers
 * the write), a negative errno with err (refused), or GFS_LATER: it
 * keeps k->req and answers it itself (gfs_cmd_reply / fuse_reply_err). */
#define GFS_LATER 1
struct gfs_cmd {
	fuse_req_t req;
	struct gfs_fh *fh;
	const struct gfs_ref *x;
	const char *buf; /* the bytes as written */
	size_t len;
	char *line; /* gfs_command's text (no trailing newline) */
};

/* A directory's dynamic entries: containers, processes, properties. */
struct gfs_dyn {
	const struct gfs_row *row; /* what each entry is */
	int (*lookup)(const struct gfs_ref *dir, const char *name,
		      struct gfs_ref *out);
	/* calls add for every entry, in ls order */
	void (*list)(const struct gfs_ref *dir, struct gfs_fh *fh,
		     void (*add)(struct gfs_fh *fh, const char *name,
				 const struct gfs_ref *x));
};

struct gfs_row {
	const char *name; /* NULL for a dynamic entry's row */
	const struct gfs_kind *kind;
	mode_t mode;
	/* directories: the fixed rows (NULL-terminated) and the dynamic
	 * entries */
	const struct gfs_row *const *rows;
	const struct gfs_dyn *dyn;
	/* text kinds: renders the whole file */
	int (*render)(const struct gfs_ref *x, sbuf *out, gfs_err *err);
	/* command kinds: one command */
	int (*cmd)(struct gfs_cmd *k, gfs_err *err);
	size_t max_write; /* 0: GFS_CMD_MAX */
	bool raw;	  /* the handler takes the bytes, not one line */
	const void *arg;  /* the handler's: which limit, which stream */
	/* text kinds that poll(2) can wait on: what changes when they do */
	uint64_t (*version)(const struct gfs_ref *x);
	/* set at start by gfs_tab_init */
	uint8_t id;
	enum gfs_scope scope;
};

/* Per-open state (fi->fh). */
struct gfs_fh {
	struct gfs_ref x;
	int flags;   /* open flags */
	sbuf text;   /* the snapshot of a text file */
	sbuf answer; /* a clone file's answer to the write */
	uint64_t answer_off;
	int fd;		   /* output file, stdin fifo; -1 */
	uint64_t off;	   /* stream offset */
	uint64_t seen;	   /* info/events: the version last read */
	bool first_writer; /* stdin: its close is EOF */
	bool wrote;	   /* written since open */
	bool trunc;	   /* property opened with O_TRUNC */
	struct fuse_pollhandle *ph;
	struct gdn_waiter pw; /* the poller's subscription */
	bool notify_due;
	struct gfs_park *parked; /* requests of this fh waiting */
	void *priv;		 /* a kind's own (streams) */
	uint64_t owner; /* lock owner (fd table) of the write or flush served */
	/* readdir snapshot */
	struct gfs_dirent *dents;
	size_t ndents;
};

struct gfs_dirent {
	char *name;
	fuse_ino_t ino;
	mode_t mode;
};

/* tab.c: the tree and inode numbers */
extern struct gfs_row gfs_root;
void gfs_tab_init(void);
const struct gfs_row *gfs_row_by_id(uint8_t id);
/* The fixed row called name in directory row dir, or NULL. */
const struct gfs_row *gfs_row_find(const struct gfs_row *dir, const char *name);
bool gfs_row_is_dir(const struct gfs_row *r);
/* inode = slot (20 bits) | index (36 bits) | row id (8 bits); root 1 */
fuse_ino_t gfs_ino(uint32_t slot, uint64_t idx, uint8_t id);
void gfs_ino_split(fuse_ino_t ino, uint32_t *slot, uint64_t *idx, uint8_t *id);
fuse_ino_t gfs_ref_ino(const struct gfs_ref *x);

/* fs.c */
extern const struct fuse_lowlevel_ops gfs_ops;
extern struct fuse_session *gfs_se;
/* A failed request's reason goes to the nearest errors, its errno to the
 * caller. */
void gfs_reply_fail(fuse_req_t req, struct gdn_ctr *c, const gfs_err *err);
/* Parking: keeps req on fh (interrupt answers EINTR); gfs_park_done
 * replies nothing but unlinks and frees.  gfs_park returns NULL when the
 * request was interrupted already (it got EINTR). */
struct gfs_park *gfs_park(fuse_req_t req, struct gfs_fh *fh, size_t size);
void gfs_park_done(struct gfs_park *pk);
/* The reply to mkdir /garden/H once H is made. */
void gfs_reply_ctr_entry(fuse_req_t req, struct gdn_ctr *c);
/* Poll: the fh's waiter woke; a notification goes out after the round. */
void gfs_poll_due(struct gfs_fh *fh);
void gfs_reply_slice(fuse_req_t req, const sbuf *b, off_t off, size_t size);
/* The longest property value: less than one write request. */
extern size_t gfs_prop_max;

/* kinds.c: the kinds of files */
extern const struct gfs_kind gfs_kind_dir, gfs_kind_text, gfs_kind_cmd,
    gfs_kind_clone, gfs_kind_prop, gfs_kind_stream, gfs_kind_wait,
    gfs_kind_stdin;
/* streams.c */
extern const struct gfs_kind gfs_kind_streamin, gfs_kind_streamout;
/* A clone file's answer to the write, readable on the same descriptor. */
void gfs_answer(struct gfs_fh *fh, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
