/* What garden/ keeps of a container beside the backend's files, in
 * DEPOT/containers/H/meta: properties (one file each, the value's bytes),
 * grace, events, errors and the limits as written.  A restarted daemon
 * reads them back.  Every change is written (temporary file, rename)
 * before the request that made it returns. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "garden/garden_priv.h"
#include "lib/parse.h"

struct gdn_errlog gdn_top_errors;

void gdn_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (gdn_cfg.foreground) {
		fprintf(stderr, "gardenfs: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(LOG_NOTICE, fmt, ap);
	}
	va_end(ap);
}

/* --- the errors rings --- */

static void ring_add(struct gdn_errlog *l, const char *line)
{
	unsigned i;
	if (l->n == GDN_ERRLOG_MAX) {
		free(l->lines[l->first]);
		l->first = (l->first + 1) % GDN_ERRLOG_MAX;
		i = (l->first + l->n - 1) % GDN_ERRLOG_MAX;
	} else {
		i = (l->first + l->n) % GDN_ERRLOG_MAX;
		l->n++;
	}
	l->lines[i] = xstrdup(line);
}

void gdn_errlog_init(struct gdn_errlog *l, char *path)
{
	memset(l, 0, sizeof *l);
	l->path = path;
	if (!path)
		return;
	/* keep what an earlier daemon logged */
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		ring_add(l, line);
	}
	free(line);
	fclose(f);
}

void gdn_errlog_add(struct gdn_errlog *l, const char *line)
{
	ring_add(l, line);
	if (!l->path)
		return;
	int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size > 64 * 1024) {
		/* cut back to what the ring holds */
		close(fd);
		sbuf b = SBUF_INIT;
		gdn_errlog_render(l, &b);
		gfs_write_file(l->path, b.s ? b.s : "", b.len, GFS_IGNORE);
		sbuf_free(&b);
		return;
	}
	sbuf b = SBUF_INIT;
	sbuf_printf(&b, "%s\n", line);
	if (write(fd, b.s, b.len) < 0) {
		/* best effort on disk; memory has the line */
	}
	sbuf_free(&b);
	close(fd);
}

void gdn_errlog_render(const struct gdn_errlog *l, sbuf *out)
{
	for (unsigned k = 0; k < l->n; k++)
		sbuf_printf(out, "%s\n",
			    l->lines[(l->first + k) % GDN_ERRLOG_MAX]);
}

void gdn_errlog_free(struct gdn_errlog *l)
{
	for (unsigned k = 0; k < l->n; k++)
		free(l->lines[(l->first + k) % GDN_ERRLOG_MAX]);
	free(l->path);
	memset(l, 0, sizeof *l);
}

/* --- files of meta/ --- */

static char *meta_path(struct gdn_ctr *c, const char *name)
{
	return c->meta ? xasprintf("%s/%s", c->meta, name) : NULL;
}

int gdn_meta_write(struct gdn_ctr *c, const char *name, const void *data,
		   size_t len, gfs_err *err)
{
	cleanup_free char *path = meta_path(c, name);
	return path ? gfs_write_file(path, data, len, err) : 0;
}

static int read_all(int dirfd, const char *name, sbuf *out)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		sbuf_add(out, buf, (size_t)n);
	close(fd);
	return n < 0 ? -errno : 0;
}

static bool read_u64(int dfd, const char *name, uint64_t *v)
{
	sbuf b = SBUF_INIT;
	bool ok = false;
	if (read_all(dfd, name, &b) == 0 && b.len) {
		b.s[strcspn(b.s, "\n")] = '\0';
		ok = gfs_parse_u64(b.s, v, GFS_IGNORE) == 0;
	}
	sbuf_free(&b);
	return ok;
}

static void load_disk(int dfd, struct gfs_disk *d)
{
	sbuf b = SBUF_INIT;
	if (read_all(dfd, "limit.disk", &b) == 0 && b.len) {
		/* "key value" lines as limits/disk reads */
		for (char *save = NULL, *l = strtok_r(b.s, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save)) {
			char *sp = strchr(l, ' ');
			if (!sp)
				continue;
			*sp = '\0';
			for (int k = 0; k < GFS_DISK_N; k++)
				if (strcmp(l, gfs_disk_keys[k]) == 0)
					gfs_parse_u64(sp + 1, &d->v[k],
						      GFS_IGNORE);
		}
	}
	sbuf_free(&b);
}

static const char *const limit_files[GDN_LIM_N] = {
    [GDN_LIM_MEMORY] = "limit.memory",
    [GDN_LIM_CPU] = "limit.cpu",
    [GDN_LIM_PIDS] = "limit.pids",
};

const char *gdn_limit_file(enum gdn_limit l)
{
	return limit_files[l];
}

int gdn_meta_load(struct gdn_ctr *c, gfs_err *err)
{
	if (!c->meta) {
		gdn_errlog_init(&c->errors, NULL);
		return 0;
	}
	if (mkdir(c->meta, 0700) < 0 && errno != EEXIST)
		return gfs_error_sys(err, errno, "creating %s", c->meta);
	cleanup_free char *pdir = xasprintf("%s/properties", c->meta);
	if (mkdir(pdir, 0700) < 0 && errno != EEXIST)
		return gfs_error_sys(err, errno, "creating %s", pdir);
	gdn_errlog_init(&c->errors, xasprintf("%s/errors", c->meta));

	cleanup_close int mfd =
	    open(c->meta, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return gfs_error_sys(err, errno, "opening %s", c->meta);
	read_u64(mfd, "grace", &c->grace);
	read_all(mfd, "events", &c->events);
	for (int l = 0; l < GDN_LIM_N; l++)
		read_u64(mfd, limit_files[l], &c->limit[l]);
	load_disk(mfd, &c->disk);
	sbuf bw = SBUF_INIT;
	if (read_all(mfd, "limit.bandwidth", &bw) == 0 && bw.len) {
		unsigned long long r = 0, b = 0;
		if (sscanf(bw.s, "rate %llu burst %llu", &r, &b) == 2) {
			c->bw_rate = r;
			c->bw_burst = b;
		}
	}
	sbuf_free(&bw);

	DIR *d = opendir(pdir);
	if (!d)
		return gfs_error_sys(err, errno, "opening %s", pdir);
	sbuf b = SBUF_INIT;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] ||
		     (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		size_t nl = strlen(de->d_name);
		if (nl > 4 && strcmp(de->d_name + nl - 4, ".tmp") == 0)
			continue; /* a set interrupted by a crash */
		sbuf_reset(&b);
		if (read_all(dirfd(d), de->d_name, &b) < 0)
			continue;
		gdn_prop_insert(c, de->d_name, b.s ? b.s : "", b.len);
	}
	closedir(d);
	sbuf_free(&b);
	return 0;
}

int gdn_meta_save_u64(struct gdn_ctr *c, const char *name, uint64_t v,
		      gfs_err *err)
{
	char line[32];
	int n = snprintf(line, sizeof line, "%llu\n", (unsigned long long)v);
	return gdn_meta_write(c, name, line, (size_t)n, err);
}

void gdn_render_disk(const struct gfs_disk *d, sbuf *out)
{
	for (int k = 0; k < GFS_DISK_N; k++)
		sbuf_printf(out, "%s %llu\n", gfs_disk_keys[k],
			    (unsigned long long)d->v[k]);
}

int gdn_meta_save_disk(struct gdn_ctr *c, const struct gfs_disk *d,
		       gfs_err *err)
{
	sbuf b = SBUF_INIT;
	gdn_render_disk(d, &b);
	int r = gdn_meta_write(c, "limit.disk", b.s, b.len, err);
	sbuf_free(&b);
	return r;
}

int gdn_meta_save_bandwidth(struct gdn_ctr *c, uint64_t rate, uint64_t burst,
			    gfs_err *err)
{
	char line[64];
	int n = snprintf(line, sizeof line, "rate %llu burst %llu\n",
			 (unsigned long long)rate, (unsigned long long)burst);
	return gdn_meta_write(c, "limit.bandwidth", line, (size_t)n, err);
}

int gdn_meta_add_event(struct gdn_ctr *c, const char *ev, gfs_err *err)
{
	sbuf_printf(&c->events, "%s\n", ev);
	return gdn_meta_write(c, "events", c->events.s, c->events.len, err);
}

int gdn_meta_save_prop(struct gdn_ctr *c, const char *name, const char *value,
		       size_t len, gfs_err *err)
{
	cleanup_free char *rel = xasprintf("properties/%s", name);
	return gdn_meta_write(c, rel, value, len, err);
}

int gdn_meta_remove_prop(struct gdn_ctr *c, const char *name, gfs_err *err)
{
	cleanup_free char *rel = xasprintf("properties/%s", name);
	cleanup_free char *path = meta_path(c, rel);
	if (path && unlink(path) < 0 && errno != ENOENT)
		return gfs_error_sys(err, errno, "removing property %s", name);
	return 0;
}
