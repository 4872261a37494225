/* A container's network as text, for the caller to persist and hand back
 * after a restart.  Pure (unit-tested).
 *
 *	gardenfs-net 1
 *	ip 10.254.0.2/30
 *	in HOST CONTAINER		(one a mapping, in order made)
 *	out RULE TEXT			(one a rule, in order given)
 *	bandwidth RATE BURST		(when a limit is set)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "net/priv.h"

#define HEADER "gardenfs-net 1"

void net_saved_format(const struct net_saved *s, sbuf *out)
{
	char a[16];
	net_ip_fmt(s->lease.ip, a);
	sbuf_printf(out, HEADER "\nip %s/%u\n", a, s->lease.sub.prefix);
	for (size_t i = 0; i < s->nin; i++)
		sbuf_printf(out, "in %u %u\n", s->in[i].host, s->in[i].ctr);
	for (size_t i = 0; i < s->nout; i++)
		sbuf_printf(out, "out %s\n", s->out[i]);
	if (s->rate || s->burst)
		sbuf_printf(out, "bandwidth %llu %llu\n",
			    (unsigned long long)s->rate,
			    (unsigned long long)s->burst);
}

void net_saved_free(struct net_saved *s)
{
	free(s->in);
	for (size_t i = 0; i < s->nout; i++)
		free(s->out[i]);
	free(s->out);
	memset(s, 0, sizeof *s);
}

static int two_u64(const char *v, uint64_t *a, uint64_t *b)
{
	const char *sp = strchr(v, ' ');
	if (!sp)
		return -EINVAL;
	cleanup_free char *first = xstrndup(v, (size_t)(sp - v));
	if (gfs_parse_u64(first, a, GFS_IGNORE) < 0 ||
	    gfs_parse_u64(sp + 1, b, GFS_IGNORE) < 0)
		return -EINVAL;
	return 0;
}

static int line(struct net_saved *s, const char *l, bool *have_ip, gfs_err *err)
{
	if (strncmp(l, "ip ", 3) == 0) {
		struct net_cidr c;
		uint32_t ip;
		if (*have_ip)
			return gfs_error(err, EINVAL, "`ip` twice");
		int r = net_cidr_parse(l + 3, false, false, &c, &ip, err);
		if (r < 0)
			return r;
		s->lease.ip = ip;
		s->lease.sub = c;
		*have_ip = true;
		return 0;
	}
	if (strncmp(l, "in ", 3) == 0) {
		uint64_t h, c;
		if (two_u64(l + 3, &h, &c) < 0 || h < 1 || h > 65535 || c < 1 ||
		    c > 65535)
			return gfs_error(err, EINVAL,
					 "`in` wants HOST CONTAINER ports");
		s->in = xrealloc(s->in, (s->nin + 1) * sizeof *s->in);
		s->in[s->nin].host = (uint32_t)h;
		s->in[s->nin].ctr = (uint32_t)c;
		s->nin++;
		return 0;
	}
	if (strncmp(l, "out ", 4) == 0) {
		s->out = xrealloc(s->out, (s->nout + 1) * sizeof *s->out);
		s->out[s->nout++] = xstrdup(l + 4);
		return 0;
	}
	if (strncmp(l, "bandwidth ", 10) == 0) {
		if (two_u64(l + 10, &s->rate, &s->burst) < 0)
			return gfs_error(err, EINVAL,
					 "`bandwidth` wants RATE BURST");
		return 0;
	}
	char ex[GFS_EXCERPT_MAX];
	return gfs_error(err, EINVAL, "unknown line `%s`",
			 gfs_excerpt(ex, l, strlen(l)));
}

int net_saved_parse(const char *text, struct net_saved *s, gfs_err *err)
{
	memset(s, 0, sizeof *s);
	const char *nl = strchr(text, '\n');
	if (!nl || (size_t)(nl - text) != strlen(HEADER) ||
	    strncmp(text, HEADER, strlen(HEADER)) != 0)
		return gfs_error(err, EINVAL, "saved network: not `%s` text",
				 HEADER);
	bool have_ip = false;
	size_t n = 1;
	for (const char *p = nl + 1; *p; p = nl + 1) {
		n++;
		nl = strchr(p, '\n');
		if (!nl) {
			net_saved_free(s);
			return gfs_error(err, EINVAL,
					 "saved network line %zu: no newline",
					 n);
		}
		cleanup_free char *l = xstrndup(p, (size_t)(nl - p));
		int r = line(s, l, &have_ip, err);
		if (r < 0) {
			net_saved_free(s);
			return gfs_error_wrap(err, "saved network line %zu", n);
		}
	}
	if (!have_ip) {
		net_saved_free(s);
		return gfs_error(err, EINVAL, "saved network: no `ip` line");
	}
	return 0;
}
