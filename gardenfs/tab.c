/* The tree of /garden: one table of rows per directory (Plan 9's Dirtab),
 * and inode numbers computed from (container slot, index, row id).  A
 * new file is a row here and its handler in nodes.c. */
#include <string.h>

#include "gardenfs/gfs.h"
#include "gardenfs/nodes.h"

#define ROW_FILE(n, k, m, r, c)                                                \
	{                                                                      \
		.name = (n), .kind = &(k), .mode = S_IFREG | (m),              \
		.render = (r), .cmd = (c)                                      \
	}

/* --- a process: procs/N/ --- */
static struct gfs_row row_stdin =
    ROW_FILE("stdin", gfs_kind_stdin, 0200, NULL, NULL);
static struct gfs_row row_stdout = {.name = "stdout",
				    .kind = &gfs_kind_stream,
				    .mode = S_IFREG | 0444,
				    .arg = (void *)1};
static struct gfs_row row_stderr = {.name = "stderr",
				    .kind = &gfs_kind_stream,
				    .mode = S_IFREG | 0444,
				    .arg = (void *)2};
static struct gfs_row row_wait =
    ROW_FILE("wait", gfs_kind_wait, 0444, NULL, NULL);
static struct gfs_row row_signal =
    ROW_FILE("signal", gfs_kind_cmd, 0200, NULL, gfs_cmd_signal);
static struct gfs_row row_status =
    ROW_FILE("status", gfs_kind_text, 0444, gfs_render_status, NULL);
static struct gfs_row row_tty =
    ROW_FILE("tty", gfs_kind_cmd, 0644, gfs_render_tty, gfs_cmd_tty);
static const struct gfs_row *const proc_rows[] = {
    &row_stdin,	 &row_stdout, &row_stderr, &row_wait,
    &row_signal, &row_status, &row_tty,	   NULL};
static struct gfs_row row_proc = {
    .kind = &gfs_kind_dir, .mode = S_IFDIR | 0555, .rows = proc_rows};
static const struct gfs_dyn procs_dyn = {&row_proc, gfs_procs_lookup,
					 gfs_procs_list};

/* --- procs/ --- */
static struct gfs_row row_new = {.name = "new",
				 .kind = &gfs_kind_clone,
				 .mode = S_IFREG | 0600,
				 .cmd = gfs_cmd_new,
				 .max_write = 256 * 1024,
				 .raw = true};
static const struct gfs_row *const procs_rows[] = {&row_new, NULL};

/* --- properties/ --- */
static struct gfs_row row_prop = {.kind = &gfs_kind_prop,
				  .mode = S_IFREG | 0644};
static const struct gfs_row *const no_rows[] = {NULL};
static const struct gfs_dyn props_dyn = {&row_prop, gfs_props_lookup,
					 gfs_props_list};

/* --- limits/ --- */
static struct gfs_row row_memory = {.name = "memory",
				    .kind = &gfs_kind_cmd,
				    .mode = S_IFREG | 0644,
				    .render = gfs_render_limit,
				    .cmd = gfs_cmd_limit,
				    .arg = &gfs_limit_memory};
static struct gfs_row row_cpu = {.name = "cpu",
				 .kind = &gfs_kind_cmd,
				 .mode = S_IFREG | 0644,
				 .render = gfs_render_limit,
				 .cmd = gfs_cmd_limit,
				 .arg = &gfs_limit_cpu};
static struct gfs_row row_pids = {.name = "pids",
				  .kind = &gfs_kind_cmd,
				  .mode = S_IFREG | 0644,
				  .render = gfs_render_limit,
				  .cmd = gfs_cmd_limit,
				  .arg = &gfs_limit_pids};
static struct gfs_row row_disk =
    ROW_FILE("disk", gfs_kind_cmd, 0644, gfs_render_disk, gfs_cmd_disk);
static struct gfs_row row_bandwidth = ROW_FILE(
    "bandwidth", gfs_kind_cmd, 0644, gfs_render_bandwidth, gfs_cmd_bandwidth);
static const struct gfs_row *const limits_rows[] = {
    &row_memory, &row_cpu, &row_pids, &row_disk, &row_bandwidth, NULL};

/* --- net/ --- */
static struct gfs_row row_net_in =
    ROW_FILE("in", gfs_kind_clone, 0644, gfs_render_net_in, gfs_cmd_net_in);
static struct gfs_row row_net_out =
    ROW_FILE("out", gfs_kind_cmd, 0644, gfs_render_net_out, gfs_cmd_net_out);
static const struct gfs_row *const net_rows[] = {&row_net_in, &row_net_out,
						 NULL};
static struct gfs_row row_net = {.name = "net",
				 .kind = &gfs_kind_dir,
				 .mode = S_IFDIR | 0555,
				 .rows = net_rows};

/* --- a container: /garden/H/ --- */
static struct gfs_row row_info = {.name = "info",
				  .kind = &gfs_kind_text,
				  .mode = S_IFREG | 0444,
				  .render = gfs_render_info,
				  .version = gfs_version_info};
static struct gfs_row row_stop =
    ROW_FILE("stop", gfs_kind_cmd, 0200, NULL, gfs_cmd_stop);
static struct gfs_row row_events = {.name = "events",
				    .kind = &gfs_kind_text,
				    .mode = S_IFREG | 0444,
				    .render = gfs_render_events,
				    .version = gfs_version_events};
static struct gfs_row row_grace =
    ROW_FILE("grace", gfs_kind_cmd, 0644, gfs_render_grace, gfs_cmd_grace);
static struct gfs_row row_errors =
    ROW_FILE("errors", gfs_kind_text, 0444, gfs_render_errors, NULL);
static struct gfs_row row_metrics =
    ROW_FILE("metrics", gfs_kind_text, 0444, gfs_render_metrics, NULL);
static struct gfs_row row_limits = {.name = "limits",
				    .kind = &gfs_kind_dir,
				    .mode = S_IFDIR | 0555,
				    .rows = limits_rows};
static struct gfs_row row_props = {.name = "properties",
				   .kind = &gfs_kind_dir,
				   .mode = S_IFDIR | 0755,
				   .rows = no_rows,
				   .dyn = &props_dyn};
static struct gfs_row row_procs = {.name = "procs",
				   .kind = &gfs_kind_dir,
				   .mode = S_IFDIR | 0555,
				   .rows = procs_rows,
				   .dyn = &procs_dyn};
static struct gfs_row row_streamin = {
    .name = "streamin", .kind = &gfs_kind_streamin, .mode = S_IFREG | 0200};
static struct gfs_row row_streamout = {
    .name = "streamout", .kind = &gfs_kind_streamout, .mode = S_IFREG | 0600};
static const struct gfs_row *const ctr_rows[] = {
    &row_info,	   &row_stop,	   &row_events, &row_grace, &row_errors,
    &row_metrics,  &row_limits,	   &row_props,	&row_procs, &row_net,
    &row_streamin, &row_streamout, NULL};
static struct gfs_row row_ctr = {
    .kind = &gfs_kind_dir, .mode = S_IFDIR | 0555, .rows = ctr_rows};
static const struct gfs_dyn ctrs_dyn = {&row_ctr, gfs_ctrs_lookup,
					gfs_ctrs_list};

/* --- the top: /garden --- */
static struct gfs_row row_ctl =
    ROW_FILE("ctl", gfs_kind_clone, 0600, NULL, gfs_cmd_ctl);
static struct gfs_row row_ping =
    ROW_FILE("ping", gfs_kind_text, 0444, gfs_render_ping, NULL);
static struct gfs_row row_capacity =
    ROW_FILE("capacity", gfs_kind_text, 0444, gfs_render_capacity, NULL);
static struct gfs_row row_toperrors =
    ROW_FILE("errors", gfs_kind_text, 0444, gfs_render_top_errors, NULL);
static const struct gfs_row *const root_rows[] = {
    &row_ctl, &row_ping, &row_capacity, &row_toperrors, NULL};
struct gfs_row gfs_root = {.name = "",
			   .kind = &gfs_kind_dir,
			   .mode = S_IFDIR | 0755,
			   .rows = root_rows,
			   .dyn = &ctrs_dyn};

/* --- ids: every row numbered once, depth first --- */

static struct gfs_row *by_id[256];
static unsigned nids;

static void number(struct gfs_row *r, enum gfs_scope scope)
{
	if (r->id)
		return;
	r->id = (uint8_t)++nids;
	r->scope = scope;
	by_id[r->id] = r;
	for (const struct gfs_row *const *c = r->rows; c && *c; c++)
		number((struct gfs_row *)*c, scope);
	if (r->dyn) {
		struct gfs_row *d = (struct gfs_row *)r->dyn->row;
		enum gfs_scope s = d == &row_ctr    ? GFS_CTR
				   : d == &row_proc ? GFS_PROC
						    : GFS_PROP;
		number(d, s);
	}
}

void gfs_tab_init(void)
{
	if (!nids)
		number(&gfs_root, GFS_TOP);
}

const struct gfs_row *gfs_row_by_id(uint8_t id)
{
	return id && id <= nids ? by_id[id] : NULL;
}

const struct gfs_row *gfs_row_find(const struct gfs_row *dir, const char *name)
{
	for (const struct gfs_row *const *c = dir->rows; c && *c; c++)
		if (strcmp((*c)->name, name) == 0)
			return *c;
	return NULL;
}

bool gfs_row_is_dir(const struct gfs_row *r)
{
	return r->kind == &gfs_kind_dir;
}

fuse_ino_t gfs_ino(uint32_t slot, uint64_t idx, uint8_t id)
{
	if (id == gfs_root.id)
		return FUSE_ROOT_ID;
	return ((uint64_t)slot << 44) | ((idx & ((1ULL << 36) - 1)) << 8) | id;
}

void gfs_ino_split(fuse_ino_t ino, uint32_t *slot, uint64_t *idx, uint8_t *id)
{
	if (ino == FUSE_ROOT_ID) {
		*slot = 0;
		*idx = 0;
		*id = gfs_root.id;
		return;
	}
	*slot = (uint32_t)(ino >> 44);
	*idx = (ino >> 8) & ((1ULL << 36) - 1);
	*id = ino & 0xff;
}

fuse_ino_t gfs_ref_ino(const struct gfs_ref *x)
{
	return gfs_ino(x->c ? x->c->slot : 0, x->idx, x->row->id);
}
