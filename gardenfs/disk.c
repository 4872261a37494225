/* limits/disk and the disk keys of metrics: the front of quota/.  Each
 * container's files (writable layer, process output) live in its own btrfs
 * subvolume named after its handle; the hard limit is that subvolume's
 * qgroup limit.  Soft limits are kept and reported, not enforced (btrfs has
 * none), and inode limits are refused: btrfs cannot limit inodes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gardenfs/gfs.h"
#include "lib/parse.h"

/* Garden's DiskLimits, in its order. */
enum {
	D_BLOCK_SOFT,
	D_BLOCK_HARD,
	D_INODE_SOFT,
	D_INODE_HARD,
	D_BYTE_SOFT,
	D_BYTE_HARD,
	D_N
};
static const char *const dkeys[D_N] = {"block_soft", "block_hard", "inode_soft",
				       "inode_hard", "byte_soft",  "byte_hard"};

struct dlimits {
	uint64_t v[D_N];
};

static void load(struct gfs_ctr *c, struct dlimits *d)
{
	memset(d, 0, sizeof *d);
	cleanup_free char *path = xasprintf("%s/limit.disk", c->meta);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	char line[128];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		for (int k = 0; k < D_N; k++)
			if (strcmp(line, dkeys[k]) == 0)
				gfs_parse_u64(sp + 1, &d->v[k], NULL);
	}
	fclose(f);
}

static void render(const struct dlimits *d, sbuf *out)
{
	for (int k = 0; k < D_N; k++)
		sbuf_printf(out, "%s %llu\n", dkeys[k],
			    (unsigned long long)d->v[k]);
}

int gfs_render_disk(struct gfs_ctx *x, sbuf *out, gfs_err *err)
{
	(void)err;
	struct dlimits d;
	load(x->c, &d);
	render(&d, out);
	return 0;
}

/* The bytes the hard limit comes to: block_hard (1 KiB blocks) when given,
 * else byte_hard, as the seed's DiskLimits says. */
static int hard_bytes(const struct dlimits *d, uint64_t *out, gfs_err *err)
{
	if (d->v[D_BLOCK_HARD]) {
		if (d->v[D_BLOCK_HARD] > UINT64_MAX / 1024)
			return gfs_error(err, EINVAL,
					 "block_hard is too large");
		*out = d->v[D_BLOCK_HARD] * 1024;
	} else {
		*out = d->v[D_BYTE_HARD];
	}
	return 0;
}

/* Parses "KEY=N KEY=N" (blanks or commas between) over the old values. */
static int parse(const char *cmd, struct dlimits *d, gfs_err *err)
{
	cleanup_free char *s = xstrdup(cmd);
	bool any = false;
	for (char *save = NULL, *w = strtok_r(s, " \t,", &save); w;
	     w = strtok_r(NULL, " \t,", &save)) {
		char *eq = strchr(w, '=');
		if (!eq)
			return gfs_error(err, EINVAL, "'%.64s' is not KEY=N",
					 w);
		*eq = '\0';
		int k;
		for (k = 0; k < D_N; k++)
			if (strcmp(w, dkeys[k]) == 0)
				break;
		if (k == D_N)
			return gfs_error(err, EINVAL,
					 "unknown key '%.64s' (block_soft "
					 "block_hard inode_soft inode_hard "
					 "byte_soft byte_hard)",
					 w);
		uint64_t v;
		int r = (k == D_BYTE_SOFT || k == D_BYTE_HARD)
			    ? gfs_parse_size(eq + 1, &v, err)
			    : gfs_parse_u64(eq + 1, &v, err);
		if (r < 0)
			return gfs_error_wrap(err, "%s", w);
		if ((k == D_INODE_SOFT || k == D_INODE_HARD) && v)
			return gfs_error(
			    err, EINVAL,
			    "%s: btrfs has no inode limits; only 0 "
			    "is accepted",
			    w);
		d->v[k] = v;
		any = true;
	}
	if (!any)
		return gfs_error(err, EINVAL, "no KEY=N given");
	return 0;
}

int gfs_apply_disk(struct gfs_ctr *c, const char *cmd, gfs_err *err)
{
	struct dlimits d;
	load(c, &d);
	int r = parse(cmd, &d, err);
	if (r < 0)
		return gfs_error_wrap(err, "limits/disk");
	uint64_t bytes = 0;
	r = hard_bytes(&d, &bytes, err);
	if (r < 0)
		return gfs_error_wrap(err, "limits/disk");
	r = rt_disk_limit(c->rt, bytes, err);
	if (r < 0)
		return gfs_error_wrap(err, "limits/disk");
	sbuf b = SBUF_INIT;
	render(&d, &b);
	cleanup_free char *path = xasprintf("%s/limit.disk", c->meta);
	r = gfs_write_file(path, b.s, b.len, err);
	sbuf_free(&b);
	return r;
}

int gfs_write_disk(struct gfs_ctx *x, struct gfs_fh *fh, const char *buf,
		   size_t len, gfs_err *err)
{
	(void)fh;
	cleanup_free char *cmd = NULL;
	int r = gfs_command(buf, len, &cmd, err);
	if (r < 0)
		return gfs_error_wrap(err, "limits/disk");
	return gfs_apply_disk(x->c, cmd, err);
}

void gfs_disk_usage(struct gfs_ctr *c, uint64_t *bytes, uint64_t *inodes)
{
	gfs_err err = {0};
	if (rt_disk_usage(c->rt, bytes, inodes, &err) < 0)
		gfs_log("%s: disk usage: %s", c->handle, err.msg);
}

uint64_t gfs_disk_capacity(void)
{
	return rt_disk_capacity();
}
