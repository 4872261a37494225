/* IPv4 addresses, CIDRs, link names and the address pool: which address and
 * subnet a container gets.  Pure (the unit tests link it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "net/priv.h"

/* Up to 3 decimal digits, no leading zero, <= max; *end after them. */
static int small_num(const char *s, unsigned max, unsigned *out,
		     const char **end)
{
	unsigned v = 0;
	size_t i = 0;
	while (s[i] >= '0' && s[i] <= '9' && i < 4)
		v = v * 10 + (unsigned)(s[i++] - '0');
	if (i == 0 || i > 3 || (i > 1 && s[0] == '0') || v > max)
		return -EINVAL;
	*out = v;
	*end = s + i;
	return 0;
}

int net_ip_parse(const char *s, uint32_t *out)
{
	uint32_t ip = 0;
	for (int k = 0; k < 4; k++) {
		unsigned v;
		if (small_num(s, 255, &v, &s) < 0)
			return -EINVAL;
		ip = ip << 8 | v;
		if (k < 3 && *s++ != '.')
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	*out = ip;
	return 0;
}

void net_ip_fmt(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255,
		 ip >> 8 & 255, ip & 255);
}

int net_cidr_parse(const char *s, bool bare_ok, bool exact, struct net_cidr *c,
		   uint32_t *ip, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	const char *slash = strchr(s, '/');
	unsigned prefix = 32;
	uint32_t a;

	if (!slash && !bare_ok)
		return gfs_error(err, EINVAL, "`%s`: want IP/PREFIX",
				 gfs_excerpt(ex, s, strlen(s)));
	cleanup_free char *addr =
	    slash ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
	if (net_ip_parse(addr, &a) < 0)
		return gfs_error(err, EINVAL, "`%s`: not an IPv4 address",
				 gfs_excerpt(ex, s, strlen(s)));
	if (slash) {
		const char *end;
		if (small_num(slash + 1, 32, &prefix, &end) < 0 || *end)
			return gfs_error(err, EINVAL,
					 "`%s`: the prefix must be 0..32",
					 gfs_excerpt(ex, s, strlen(s)));
	}
	if (exact && (a & ~net_mask(prefix)))
		return gfs_error(
		    err, EINVAL,
		    "`%s`: host bits set (the network is %u.%u.%u.%u/%u)",
		    gfs_excerpt(ex, s, strlen(s)), (a & net_mask(prefix)) >> 24,
		    (a & net_mask(prefix)) >> 16 & 255,
		    (a & net_mask(prefix)) >> 8 & 255,
		    a & net_mask(prefix) & 255, prefix);
	c->net = a & net_mask(prefix);
	c->prefix = prefix;
	if (ip)
		*ip = a;
	return 0;
}

bool net_cidr_overlap(struct net_cidr a, struct net_cidr b)
{
	return a.net <= net_cidr_last(b) && b.net <= net_cidr_last(a);
}

bool net_cidr_contains(struct net_cidr outer, struct net_cidr inner)
{
	return inner.prefix >= outer.prefix &&
	       (inner.net & net_mask(outer.prefix)) == outer.net;
}

int net_cidr_list_parse(const char *s, struct net_cidr **out, size_t *n,
			gfs_err *err)
{
	*out = NULL;
	*n = 0;
	if (!s || !*s)
		return 0;
	struct net_cidr *v = NULL;
	size_t k = 0;
	const char *p = s;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		cleanup_free char *one = xstrndup(p, len);
		struct net_cidr c;
		int r = net_cidr_parse(one, true, true, &c, NULL, err);
		if (r < 0) {
			free(v);
			return r;
		}
		v = xrealloc(v, (k + 1) * sizeof *v);
		v[k++] = c;
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = v;
	*n = k;
	return 0;
}

/* ---- link names */

bool net_tag_is_valid(const char *tag)
{
	size_t n = tag ? strlen(tag) : 0;
	if (n < 1 || n > NET_TAG_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((tag[i] >= 'a' && tag[i] <= 'z') ||
		      (tag[i] >= '0' && tag[i] <= '9')))
			return false;
	return true;
}

void net_link_name(char out[16], const char *tag, char kind, uint32_t ip)
{
	snprintf(out, 16, "%s%c%08x", tag, kind, ip);
}

bool net_link_name_parse(const char *name, const char *tag, char *kind,
			 uint32_t *ip)
{
	size_t t = strlen(tag);
	/* exact length: tag "ab" never claims tag "abb"'s names */
	if (strlen(name) != t + 9 || strncmp(name, tag, t) != 0)
		return false;
	char k = name[t];
	if (k != NET_KIND_BRIDGE && k != NET_KIND_VETH && k != NET_KIND_IFB)
		return false;
	uint32_t v = 0;
	for (size_t i = t + 1; i < t + 9; i++) {
		char c = name[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*kind = k;
	*ip = v;
	return true;
}

/* ---- the pool */

void net_pool_init(struct net_pool *p, struct net_cidr range)
{
	memset(p, 0, sizeof *p);
	p->range = range;
}

void net_pool_free(struct net_pool *p)
{
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}

static bool same_cidr(struct net_cidr a, struct net_cidr b)
{
	return a.net == b.net && a.prefix == b.prefix;
}

/* A live subnet that overlaps sub without being it, or NULL. */
static const struct net_lease *clash(const struct net_pool *p,
				     struct net_cidr sub)
{
	for (size_t i = 0; i < p->n; i++)
		if (net_cidr_overlap(p->v[i].sub, sub) &&
		    !same_cidr(p->v[i].sub, sub))
			return &p->v[i];
	return NULL;
}

static bool taken(const struct net_pool *p, uint32_t ip)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->v[mid].ip == ip)
			return true;
		if (p->v[mid].ip < ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int next_slash30(const struct net_pool *p, struct net_lease *out,
			gfs_err *err)
{
	uint64_t c = p->range.net;
	uint64_t end = (uint64_t)net_cidr_last(p->range);
	/* leases are sorted by address and live subnets are disjoint or
	 * equal, so their subnets come in order too: one walk finds the
	 * first gap of four addresses */
	for (size_t i = 0; i < p->n && c + 3 <= end; i++) {
		const struct net_cidr s = p->v[i].sub;
		if ((uint64_t)net_cidr_last(s) < c)
			continue;
		if ((uint64_t)s.net > c + 3)
			break;
		c = ((uint64_t)net_cidr_last(s) + 1 + 3) & ~(uint64_t)3;
	}
	if (c + 3 > end)
		return gfs_error(
		    err, ENOSPC,
		    "the network pool is exhausted (%zu containers)", p->n);
	out->sub.net = (uint32_t)c;
	out->sub.prefix = 30;
	out->ip = (uint32_t)c + 2;
	return 0;
}

int net_pool_pick(const struct net_pool *p, const char *spec,
		  struct net_lease *out, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX], a[16], b[16];
	struct net_cidr sub;
	uint32_t ip;

	if (!spec)
		return next_slash30(p, out, err);
	gfs_excerpt(ex, spec, strlen(spec));
	int r = net_cidr_parse(spec, false, false, &sub, &ip, err);
	if (r < 0)
		return gfs_error_wrap(err, "network");
	if (sub.prefix > 30)
		return gfs_error(
		    err, EINVAL,
		    "network `%s`: the prefix must be at most 30 (room for the host side and the container)",
		    ex);
	if (!net_cidr_contains(p->range, sub)) {
		net_ip_fmt(p->range.net, a);
		return gfs_error(err, EINVAL,
				 "network `%s` is outside the pool %s/%u", ex,
				 a, p->range.prefix);
	}
	uint32_t last = net_cidr_last(sub);
	if (ip == sub.net + 1)
		return gfs_error(
		    err, EINVAL,
		    "network `%s`: that is the subnet's gateway (the host side)",
		    ex);
	if (ip == last)
		return gfs_error(
		    err, EINVAL,
		    "network `%s`: that is the subnet's broadcast address", ex);
	const struct net_lease *c = clash(p, sub);
	if (c) {
		net_ip_fmt(c->sub.net, a);
		net_ip_fmt(c->ip, b);
		return gfs_error(
		    err, EBUSY,
		    "network `%s` overlaps the live subnet %s/%u (of %s)", ex,
		    a, c->sub.prefix, b);
	}
	out->sub = sub;
	if (ip != sub.net) {
		if (taken(p, ip))
			return gfs_error(err, EBUSY,
					 "network `%s`: the address is taken",
					 ex);
		out->ip = ip;
		return 0;
	}
	for (uint64_t x = (uint64_t)sub.net + 2; x < last; x++)
		if (!taken(p, (uint32_t)x)) {
			out->ip = (uint32_t)x;
			return 0;
		}
	return gfs_error(err, ENOSPC, "network `%s`: no free address left", ex);
}

int net_pool_take(struct net_pool *p, const struct net_lease *l, gfs_err *err)
{
	char a[16], b[16];
	net_ip_fmt(l->ip, a);
	if (!net_cidr_contains(p->range, l->sub) ||
	    (l->sub.net & net_mask(l->sub.prefix)) != l->sub.net ||
	    l->sub.prefix > 30) {
		net_ip_fmt(p->range.net, b);
		return gfs_error(err, EINVAL,
				 "address %s/%u is outside the pool %s/%u", a,
				 l->sub.prefix, b, p->range.prefix);
	}
	if (l->ip <= l->sub.net + 1 || l->ip >= net_cidr_last(l->sub))
		return gfs_error(err, EINVAL,
				 "address %s/%u is no container address", a,
				 l->sub.prefix);
	const struct net_lease *c = clash(p, l->sub);
	if (c) {
		net_ip_fmt(c->sub.net, b);
		return gfs_error(err, EBUSY,
				 "address %s/%u overlaps the live subnet %s/%u",
				 a, l->sub.prefix, b, c->sub.prefix);
	}
	if (taken(p, l->ip))
		return gfs_error(err, EBUSY, "address %s is taken", a);
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->v = xrealloc(p->v, p->cap * sizeof *p->v);
	}
	size_t i = p->n;
	while (i > 0 && p->v[i - 1].ip > l->ip) {
		p->v[i] = p->v[i - 1];
		i--;
	}
	p->v[i] = *l;
	p->n++;
	return 0;
}

void net_pool_release(struct net_pool *p, const struct net_lease *l)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].ip == l->ip) {
			memmove(&p->v[i], &p->v[i + 1],
				(p->n - i - 1) * sizeof *p->v);
			p->n--;
			return;
		}
}

size_t net_pool_subnet_users(const struct net_pool *p, struct net_cidr sub)
{
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++)
		if (same_cidr(p->v[i].sub, sub))
			k++;
	return k;
}
