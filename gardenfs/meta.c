/* What the front keeps of a container beside the runtime's files, in
 * DEPOT/containers/H/meta: properties (one file each, the value's bytes),
 * grace, events and errors.  A restarted daemon reads them back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gardenfs/gfs.h"
#include "lib/parse.h"

void gfs_errlog_init(struct gfs_errlog *l, char *path)
{
	memset(l, 0, sizeof *l);
	l->path = path;
	if (!path)
		return;
	/* keep what an earlier daemon logged; the file is cut back to the
	 * last lines as it is read */
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		unsigned i = (l->first + l->n) % GFS_ERRLOG_MAX;
		if (l->n == GFS_ERRLOG_MAX) {
			free(l->lines[l->first]);
			l->first = (l->first + 1) % GFS_ERRLOG_MAX;
			i = (l->first + l->n - 1) % GFS_ERRLOG_MAX;
		} else {
			l->n++;
		}
		l->lines[i] = xstrdup(line);
	}
	free(line);
	fclose(f);
}

void gfs_errlog_add(struct gfs_errlog *l, const char *line)
{
	unsigned i;
	if (l->n == GFS_ERRLOG_MAX) {
		free(l->lines[l->first]);
		l->first = (l->first + 1) % GFS_ERRLOG_MAX;
		i = (l->first + l->n - 1) % GFS_ERRLOG_MAX;
	} else {
		i = (l->first + l->n) % GFS_ERRLOG_MAX;
		l->n++;
	}
	l->lines[i] = xstrdup(line);
	if (!l->path)
		return;
	int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	struct stat st;
	if (fstat(fd, &st) == 0 && st.st_size > 64 * 1024) {
		/* rewrite with what is kept in memory */
		close(fd);
		sbuf b = SBUF_INIT;
		gfs_errlog_render(l, &b);
		gfs_write_file(l->path, b.s, b.len, NULL);
		sbuf_free(&b);
		return;
	}
	sbuf b = SBUF_INIT;
	sbuf_printf(&b, "%s\n", line);
	if (write(fd, b.s, b.len) < 0) {
		/* errors are best effort on disk; memory has the line */
	}
	sbuf_free(&b);
	close(fd);
}

void gfs_errlog_render(struct gfs_errlog *l, sbuf *out)
{
	for (unsigned k = 0; k < l->n; k++)
		sbuf_printf(out, "%s\n",
			    l->lines[(l->first + k) % GFS_ERRLOG_MAX]);
}

void gfs_errlog_free(struct gfs_errlog *l)
{
	for (unsigned k = 0; k < l->n; k++)
		free(l->lines[(l->first + k) % GFS_ERRLOG_MAX]);
	free(l->path);
	memset(l, 0, sizeof *l);
}

int gfs_write_file(const char *path, const void *data, size_t len, gfs_err *err)
{
	cleanup_free char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return gfs_error_sys(err, errno, "creating %s", tmp);
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			return gfs_error_sys(err, e, "writing %s", tmp);
		}
		p += n;
		len -= n;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return gfs_error_sys(err, e, "renaming %s", tmp);
	}
	return 0;
}

static int read_all(int dirfd, const char *name, sbuf *out)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	char buf[8192];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		sbuf_add(out, buf, n);
	close(fd);
	return n < 0 ? -errno : 0;
}

static uint32_t prop_slot_new(struct gfs_ctr *c)
{
	c->props = xrealloc(c->props, (c->nprops + 1) * sizeof *c->props);
	c->props[c->nprops] = NULL;
	return c->nprops++;
}

int gfs_meta_load(struct gfs_ctr *c, gfs_err *err)
{
	if (mkdir(c->meta, 0700) < 0 && errno != EEXIST)
		return gfs_error_sys(err, errno, "creating %s", c->meta);
	cleanup_free char *pdir = xasprintf("%s/properties", c->meta);
	if (mkdir(pdir, 0700) < 0 && errno != EEXIST)
		return gfs_error_sys(err, errno, "creating %s", pdir);
	gfs_errlog_init(&c->errors, xasprintf("%s/errors", c->meta));

	int mfd = open(c->meta, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return gfs_error_sys(err, errno, "opening %s", c->meta);
	sbuf b = SBUF_INIT;
	if (read_all(mfd, "grace", &b) == 0)
		gfs_parse_u64(b.len && b.s[b.len - 1] == '\n'
				  ? (b.s[b.len - 1] = '\0', b.s)
				  : b.s,
			      &c->grace, NULL);
	sbuf_reset(&b);
	read_all(mfd, "events", &c->events);
	close(mfd);

	DIR *d = opendir(pdir);
	if (!d) {
		sbuf_free(&b);
		return gfs_error_sys(err, errno, "opening %s", pdir);
	}
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
		struct gfs_prop *p = xcalloc(1, sizeof *p);
		p->name = xstrdup(de->d_name);
		p->len = b.len;
		p->value = xmalloc(b.len + 1);
		memcpy(p->value, b.s ? b.s : "", b.len);
		p->value[b.len] = '\0';
		uint32_t slot = prop_slot_new(c); /* may move c->props */
		c->props[slot] = p;
	}
	closedir(d);
	sbuf_free(&b);
	return 0;
}

int gfs_meta_save_grace(struct gfs_ctr *c, gfs_err *err)
{
	cleanup_free char *path = xasprintf("%s/grace", c->meta);
	cleanup_free char *v =
	    xasprintf("%llu\n", (unsigned long long)c->grace);
	return gfs_write_file(path, v, strlen(v), err);
}

int gfs_meta_add_event(struct gfs_ctr *c, const char *ev, gfs_err *err)
{
	sbuf_printf(&c->events, "%s\n", ev);
	cleanup_free char *path = xasprintf("%s/events", c->meta);
	return gfs_write_file(path, c->events.s, c->events.len, err);
}

struct gfs_prop *gfs_prop_find(struct gfs_ctr *c, const char *name,
			       uint32_t *slot)
{
	for (uint32_t i = 0; i < c->nprops; i++)
		if (c->props[i] && strcmp(c->props[i]->name, name) == 0) {
			if (slot)
				*slot = i;
			return c->props[i];
		}
	return NULL;
}

int gfs_prop_set(struct gfs_ctr *c, const char *name, const char *value,
		 size_t len, uint32_t *slot, gfs_err *err)
{
	cleanup_free char *path = xasprintf("%s/properties/%s", c->meta, name);
	int r = gfs_write_file(path, value, len, err);
	if (r < 0)
		return r;
	uint32_t s;
	struct gfs_prop *p = gfs_prop_find(c, name, &s);
	if (!p) {
		p = xcalloc(1, sizeof *p);
		p->name = xstrdup(name);
		s = prop_slot_new(c);
		c->props[s] = p;
	}
	free(p->value);
	p->value = xmalloc(len + 1);
	memcpy(p->value, value, len);
	p->value[len] = '\0';
	p->len = len;
	if (slot)
		*slot = s;
	return 0;
}

int gfs_prop_remove(struct gfs_ctr *c, const char *name, gfs_err *err)
{
	uint32_t s;
	struct gfs_prop *p = gfs_prop_find(c, name, &s);
	if (!p)
		return gfs_error(err, ENOENT, "no property %s", name);
	cleanup_free char *path = xasprintf("%s/properties/%s", c->meta, name);
	if (unlink(path) < 0 && errno != ENOENT)
		return gfs_error_sys(err, errno, "removing property %s", name);
	free(p->name);
	free(p->value);
	free(p);
	c->props[s] = NULL;
	return 0;
}

void gfs_ctr_free_meta(struct gfs_ctr *c)
{
	for (uint32_t i = 0; i < c->nprops; i++)
		if (c->props[i]) {
			free(c->props[i]->name);
			free(c->props[i]->value);
			free(c->props[i]);
		}
	free(c->props);
	c->props = NULL;
	c->nprops = 0;
	sbuf_free(&c->events);
	gfs_errlog_free(&c->errors);
}
