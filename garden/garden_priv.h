/* What the files of garden/ share with each other and nobody else. */
#ifndef GFS_GARDEN_PRIV_H
#define GFS_GARDEN_PRIV_H

#include "garden/garden.h"
#include "lib/file.h"

extern const struct gdn_backend *gdn_bk;

enum gdn_pending_kind { GDN_PEND_CREATE, GDN_PEND_STOP, GDN_PEND_DESTROY };

/* A completion a front handed in, waiting for the backend. */
struct gdn_pending {
	enum gdn_pending_kind kind;
	gdn_done_fn done;
	void *arg;
	struct gdn_pending *next;
};

/* meta.c */
void gdn_errlog_init(struct gdn_errlog *l, char *path);
void gdn_errlog_add(struct gdn_errlog *l, const char *line);
void gdn_errlog_free(struct gdn_errlog *l);
int gdn_meta_load(struct gdn_ctr *c, gfs_err *err);
int gdn_meta_write(struct gdn_ctr *c, const char *name, const void *data,
		   size_t len, gfs_err *err);
int gdn_meta_save_u64(struct gdn_ctr *c, const char *name, uint64_t v,
		      gfs_err *err);
int gdn_meta_save_disk(struct gdn_ctr *c, const struct gfs_disk *d,
		       gfs_err *err);
int gdn_meta_save_bandwidth(struct gdn_ctr *c, uint64_t rate, uint64_t burst,
			    gfs_err *err);
int gdn_meta_add_event(struct gdn_ctr *c, const char *ev, gfs_err *err);
int gdn_meta_save_prop(struct gdn_ctr *c, const char *name, const char *value,
		       size_t len, gfs_err *err);
int gdn_meta_remove_prop(struct gdn_ctr *c, const char *name, gfs_err *err);
const char *gdn_limit_file(enum gdn_limit l);
void gdn_render_disk(const struct gfs_disk *d, sbuf *out);

/* Wakes every waiter of a list that wants ev; a wake may cancel any of
 * them (garden.c). */
void gdn_wake_list(struct gdn_waiter **head, enum gdn_event ev);

/* stream.c: the container goes; its streams fail */
void gdn_streams_abort(struct gdn_ctr *c);

/* garden.c: a property into the tables, no I/O (loading). */
struct gdn_prop *gdn_prop_insert(struct gdn_ctr *c, const char *name,
				 const char *value, size_t len);

#endif
