/* The handlers of the rows of gardenfs/tab.c: what each file says
 * (render) and does (cmd), and the dynamic entries of directories. */
#ifndef GFS_NODES_H
#define GFS_NODES_H

#include "gardenfs/gfs.h"

/* the top level */
int gfs_render_ping(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_render_capacity(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_render_top_errors(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_cmd_ctl(struct gfs_cmd *k, gfs_err *err);
int gfs_ctrs_lookup(const struct gfs_ref *dir, const char *name,
		    struct gfs_ref *out);
void gfs_ctrs_list(const struct gfs_ref *dir, struct gfs_fh *fh,
		   void (*add)(struct gfs_fh *fh, const char *name,
			       const struct gfs_ref *x));

/* a container */
int gfs_render_info(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_cmd_stop(struct gfs_cmd *k, gfs_err *err);
int gfs_render_events(const struct gfs_ref *x, sbuf *out, gfs_err *err);
uint64_t gfs_version_info(const struct gfs_ref *x);
uint64_t gfs_version_events(const struct gfs_ref *x);
int gfs_render_grace(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_cmd_grace(struct gfs_cmd *k, gfs_err *err);
int gfs_render_errors(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_render_metrics(const struct gfs_ref *x, sbuf *out, gfs_err *err);

/* limits/: the row's arg is one of these */
struct gfs_limit {
	enum gdn_limit which;
	const char *name; /* file name */
	const char *key;  /* what a read says */
	bool size;	  /* takes K M G T */
};
extern const struct gfs_limit gfs_limit_memory, gfs_limit_cpu, gfs_limit_pids;
int gfs_render_limit(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_cmd_limit(struct gfs_cmd *k, gfs_err *err);
int gfs_render_disk(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_cmd_disk(struct gfs_cmd *k, gfs_err *err);

int gfs_render_bandwidth(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_cmd_bandwidth(struct gfs_cmd *k, gfs_err *err);

/* net/ */
int gfs_render_net_in(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_cmd_net_in(struct gfs_cmd *k, gfs_err *err);
int gfs_render_net_out(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_cmd_net_out(struct gfs_cmd *k, gfs_err *err);

/* properties/ */
int gfs_props_lookup(const struct gfs_ref *dir, const char *name,
		     struct gfs_ref *out);
void gfs_props_list(const struct gfs_ref *dir, struct gfs_fh *fh,
		    void (*add)(struct gfs_fh *fh, const char *name,
				const struct gfs_ref *x));

/* procs/ */
int gfs_cmd_new(struct gfs_cmd *k, gfs_err *err);
int gfs_procs_lookup(const struct gfs_ref *dir, const char *name,
		     struct gfs_ref *out);
void gfs_procs_list(const struct gfs_ref *dir, struct gfs_fh *fh,
		    void (*add)(struct gfs_fh *fh, const char *name,
				const struct gfs_ref *x));
int gfs_render_status(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_cmd_signal(struct gfs_cmd *k, gfs_err *err);
int gfs_render_tty(const struct gfs_ref *x, sbuf *out, gfs_err *err);
int gfs_cmd_tty(struct gfs_cmd *k, gfs_err *err);

/* mkdir and rmdir of /garden/H */
void gfs_mkdir_ctr(fuse_req_t req, const char *name);
void gfs_rmdir_ctr(fuse_req_t req, const char *name);

#endif
