/* net/out rules: the text grammar (docs/net.md), the builder for fronts
 * that get fields (Garden's JSON NetOutRule), and the nft rule each one
 * becomes.  Pure (unit-tested). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "net/priv.h"

static const char *const proto_names[] = {
    [NET_PROTO_ALL] = "all",
    [NET_PROTO_TCP] = "tcp",
    [NET_PROTO_UDP] = "udp",
    [NET_PROTO_ICMP] = "icmp",
};

struct net_rule *net_rule_new(enum net_proto proto)
{
	struct net_rule *r = xcalloc(1, sizeof *r);
	r->proto = proto;
	r->icmp_type = r->icmp_code = -1;
	return r;
}

void net_rule_free(struct net_rule *r)
{
	if (!r)
		return;
	free(r->nets);
	free(r->ports);
	free(r->text);
	free(r);
}

const char *net_rule_text(const struct net_rule *r)
{
	return r->text;
}

static void add_range(struct net_range **v, size_t *n, uint32_t lo, uint32_t hi)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[*n].lo = lo;
	(*v)[*n].hi = hi;
	(*n)++;
}

int net_rule_add_network(struct net_rule *r, const char *start, const char *end,
			 gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	uint32_t lo, hi;
	if (!start || net_ip_parse(start, &lo) < 0)
		return gfs_error(
		    err, EINVAL, "network `%s`: not an IPv4 address",
		    start ? gfs_excerpt(ex, start, strlen(start)) : "");
	hi = lo;
	if (end && *end && net_ip_parse(end, &hi) < 0)
		return gfs_error(err, EINVAL,
				 "network end `%s`: not an IPv4 address",
				 gfs_excerpt(ex, end, strlen(end)));
	if (hi < lo)
		return gfs_error(err, EINVAL,
				 "network %s-%s: the end is before the start",
				 start, end);
	add_range(&r->nets, &r->nnets, lo, hi);
	return 0;
}

int net_rule_add_ports(struct net_rule *r, uint32_t start, uint32_t end,
		       gfs_err *err)
{
	if (start < 1 || start > 65535 || end < 1 || end > 65535)
		return gfs_error(err, EINVAL, "port %u-%u: ports are 1..65535",
				 start, end);
	if (end < start)
		return gfs_error(err, EINVAL,
				 "port %u-%u: the end is before the start",
				 start, end);
	add_range(&r->ports, &r->nports, start, end);
	return 0;
}

int net_rule_set_icmp(struct net_rule *r, int type, int code, gfs_err *err)
{
	if (type < 0 || type > 255 || code < -1 || code > 255)
		return gfs_error(err, EINVAL,
				 "icmp %d/%d: type and code are 0..255", type,
				 code);
	r->icmp_type = type;
	r->icmp_code = code;
	return 0;
}

void net_rule_set_log(struct net_rule *r, bool log)
{
	r->log = log;
}

static int check(const struct net_rule *r, gfs_err *err)
{
	if ((unsigned)r->proto > NET_PROTO_ICMP)
		return gfs_error(err, EINVAL, "protocol %d: unknown",
				 (int)r->proto);
	if (r->nports && r->proto != NET_PROTO_TCP && r->proto != NET_PROTO_UDP)
		return gfs_error(
		    err, EINVAL,
		    "port is only for protocol=tcp or protocol=udp");
	if (r->icmp_type >= 0 && r->proto != NET_PROTO_ICMP)
		return gfs_error(err, EINVAL, "icmp is only for protocol=icmp");
	return 0;
}

static void canonical(const struct net_rule *r, sbuf *b)
{
	char a[16], z[16];
	sbuf_printf(b, "protocol=%s", proto_names[r->proto]);
	for (size_t i = 0; i < r->nnets; i++) {
		net_ip_fmt(r->nets[i].lo, a);
		net_ip_fmt(r->nets[i].hi, z);
		if (r->nets[i].lo == r->nets[i].hi)
			sbuf_printf(b, " network=%s", a);
		else
			sbuf_printf(b, " network=%s-%s", a, z);
	}
	for (size_t i = 0; i < r->nports; i++)
		if (r->ports[i].lo == r->ports[i].hi)
			sbuf_printf(b, " port=%u", r->ports[i].lo);
		else
			sbuf_printf(b, " port=%u-%u", r->ports[i].lo,
				    r->ports[i].hi);
	if (r->icmp_type >= 0) {
		sbuf_printf(b, " icmp=%d", r->icmp_type);
		if (r->icmp_code >= 0)
			sbuf_printf(b, "/%d", r->icmp_code);
	}
	if (r->log)
		sbuf_adds(b, " log=true");
}

int net_rule_finish(struct net_rule *r, gfs_err *err)
{
	int ret = check(r, err);
	if (ret < 0)
		return ret;
	sbuf b = SBUF_INIT;
	canonical(r, &b);
	free(r->text);
	r->text = sbuf_steal(&b);
	return 0;
}

/* "N" or "N-M" of 1..65535 */
static int port_range(const char *v, uint32_t *lo, uint32_t *hi)
{
	uint64_t a, b;
	const char *dash = strchr(v, '-');
	cleanup_free char *first =
	    dash ? xstrndup(v, (size_t)(dash - v)) : xstrdup(v);
	if (gfs_parse_u64(first, &a, GFS_IGNORE) < 0 ||
	    (dash && gfs_parse_u64(dash + 1, &b, GFS_IGNORE) < 0))
		return -EINVAL;
	if (!dash)
		b = a;
	if (a < 1 || b > 65535 || a > b)
		return -EINVAL;
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return 0;
}

static int small(const char *s, size_t n, int *out)
{
	uint64_t v;
	cleanup_free char *t = xstrndup(s, n);
	if (gfs_parse_u64(t, &v, GFS_IGNORE) < 0 || v > 255)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_word(struct net_rule *r, const char *w, unsigned *seen,
		      gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	const char *eq = strchr(w, '=');
	enum { K_PROTO = 1, K_ICMP = 2, K_LOG = 4 };

	gfs_excerpt(ex, w, strlen(w));
	if (!eq)
		return gfs_error(err, EINVAL, "`%s`: want KEY=VALUE", ex);
	size_t klen = (size_t)(eq - w);
	const char *v = eq + 1;
#define KEY(k) (klen == strlen(k) && strncmp(w, k, klen) == 0)
	if (KEY("protocol")) {
		if (*seen & K_PROTO)
			return gfs_error(err, EINVAL, "protocol given twice");
		*seen |= K_PROTO;
		for (unsigned i = 0; i <= NET_PROTO_ICMP; i++)
			if (strcmp(v, proto_names[i]) == 0) {
				r->proto = (enum net_proto)i;
				return 0;
			}
		return gfs_error(err, EINVAL,
				 "`%s`: protocol is tcp, udp, icmp or all", ex);
	}
	if (KEY("network")) {
		const char *dash = strchr(v, '-');
		cleanup_free char *lo =
		    dash ? xstrndup(v, (size_t)(dash - v)) : xstrdup(v);
		if (dash && !dash[1])
			return gfs_error(err, EINVAL, "`%s`: want IP or IP-IP",
					 ex);
		return net_rule_add_network(r, lo, dash ? dash + 1 : NULL, err);
	}
	if (KEY("port")) {
		uint32_t lo, hi;
		if (port_range(v, &lo, &hi) < 0)
			return gfs_error(err, EINVAL,
					 "`%s`: want N or N-M, ports 1..65535",
					 ex);
		add_range(&r->ports, &r->nports, lo, hi);
		return 0;
	}
	if (KEY("icmp")) {
		if (*seen & K_ICMP)
			return gfs_error(err, EINVAL, "icmp given twice");
		*seen |= K_ICMP;
		const char *slash = strchr(v, '/');
		int type, code = -1;
		if (small(v, slash ? (size_t)(slash - v) : strlen(v), &type) <
			0 ||
		    (slash && small(slash + 1, strlen(slash + 1), &code) < 0))
			return gfs_error(err, EINVAL,
					 "`%s`: want TYPE or TYPE/CODE, 0..255",
					 ex);
		r->icmp_type = type;
		r->icmp_code = code;
		return 0;
	}
	if (KEY("log")) {
		if (*seen & K_LOG)
			return gfs_error(err, EINVAL, "log given twice");
		*seen |= K_LOG;
		if (strcmp(v, "true") == 0)
			r->log = true;
		else if (strcmp(v, "false") == 0)
			r->log = false;
		else
			return gfs_error(err, EINVAL,
					 "`%s`: log is true or false", ex);
		return 0;
	}
#undef KEY
	return gfs_error(
	    err, EINVAL,
	    "`%s`: unknown key (protocol, network, port, icmp, log)", ex);
}

int net_rule_parse(const char *text, struct net_rule **out, gfs_err *err)
{
	*out = NULL;
	for (const char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return gfs_error(err, EINVAL,
					 "a rule is one line of text");
	struct net_rule *r = net_rule_new(NET_PROTO_ALL);
	unsigned seen = 0;
	size_t words = 0;
	const char *p = text;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && *e != ' ' && *e != '\t')
			e++;
		cleanup_free char *w = xstrndup(p, (size_t)(e - p));
		int ret = parse_word(r, w, &seen, err);
		if (ret < 0) {
			net_rule_free(r);
			return ret;
		}
		words++;
		p = e;
	}
	int ret = words ? check(r, err)
			: gfs_error(err, EINVAL,
				    "empty rule (protocol=all allows all)");
	if (ret < 0) {
		net_rule_free(r);
		return ret;
	}
	r->text = xstrdup(text);
	*out = r;
	return 0;
}

/* ---- nft */

static int cmp_range(const void *a, const void *b)
{
	const struct net_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* "{ a, b-c }", the ranges sorted and merged: nft refuses an anonymous
 * interval set whose elements overlap. */
static void set_text(const struct net_range *v, size_t n, bool ip, sbuf *out)
{
	struct net_range *s = xmalloc(n * sizeof *s);
	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_range);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k && (uint64_t)s[i].lo <= (uint64_t)s[k - 1].hi + 1) {
			if (s[i].hi > s[k - 1].hi)
				s[k - 1].hi = s[i].hi;
		} else {
			s[k++] = s[i];
		}
	sbuf_adds(out, "{ ");
	for (size_t i = 0; i < k; i++) {
		char a[16], z[16];
		if (i)
			sbuf_adds(out, ", ");
		if (ip) {
			net_ip_fmt(s[i].lo, a);
			net_ip_fmt(s[i].hi, z);
		} else {
			snprintf(a, sizeof a, "%u", s[i].lo);
			snprintf(z, sizeof z, "%u", s[i].hi);
		}
		if (s[i].lo == s[i].hi)
			sbuf_adds(out, a);
		else
			sbuf_printf(out, "%s-%s", a, z);
	}
	sbuf_adds(out, " } ");
	free(s);
}

void net_rule_nft(const struct net_rule *r, const char *log_prefix, sbuf *out)
{
	if (r->nnets) {
		sbuf_adds(out, "ip daddr ");
		set_text(r->nets, r->nnets, true, out);
	}
	switch (r->proto) {
	case NET_PROTO_TCP:
	case NET_PROTO_UDP: {
		const char *l4 = r->proto == NET_PROTO_TCP ? "tcp" : "udp";
		if (r->nports) {
			sbuf_printf(out, "%s dport ", l4);
			set_text(r->ports, r->nports, false, out);
		} else {
			sbuf_printf(out, "meta l4proto %s ", l4);
		}
		break;
	}
	case NET_PROTO_ICMP:
		if (r->icmp_type < 0)
			sbuf_adds(out, "meta l4proto icmp ");
		else
			sbuf_printf(out, "icmp type %d ", r->icmp_type);
		if (r->icmp_type >= 0 && r->icmp_code >= 0)
			sbuf_printf(out, "icmp code %d ", r->icmp_code);
		break;
	case NET_PROTO_ALL:
		break;
	}
	if (r->log)
		sbuf_printf(out, "log prefix \"%s\" ", log_prefix);
	sbuf_adds(out, "accept");
}

void net_log_prefix(const char *handle, char out[32])
{
	size_t i = 0;
	for (; handle[i] && i < 28; i++) {
		char c = handle[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			  c == '-';
		out[i] = ok ? c : '_';
	}
	out[i++] = ' ';
	out[i] = '\0';
}
