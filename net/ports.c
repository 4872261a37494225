/* The queue of host ports net/in hands out, and its text form.  Garden's
 * port pool: the front is handed out, a released port goes to the back, so
 * a port just let go is the last to be reused.  Pure (unit-tested).
 *
 * Persisted text: the line "gardenfs-ports 1", then the queue front first,
 * one line per run of consecutive ascending ports ("60005-64999" or
 * "60002"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "net/priv.h"

#define HEADER "gardenfs-ports 1"

static bool bit(const uint8_t *set, unsigned port)
{
	return set[port >> 3] & (1u << (port & 7));
}
static void bit_set(uint8_t *set, unsigned port, bool on)
{
	if (on)
		set[port >> 3] |= (uint8_t)(1u << (port & 7));
	else
		set[port >> 3] &= (uint8_t) ~(1u << (port & 7));
}

static size_t range_size(const struct net_ports *p)
{
	return p->last - p->first + 1;
}

void net_ports_init(struct net_ports *p, unsigned first, unsigned last)
{
	memset(p, 0, sizeof *p);
	p->first = first;
	p->last = last;
	p->q = xcalloc(range_size(p), sizeof *p->q);
	for (unsigned port = first; port <= last; port++) {
		p->q[p->n++] = (uint16_t)port;
		bit_set(p->inq, port, true);
	}
}

void net_ports_free(struct net_ports *p)
{
	free(p->q);
	p->q = NULL;
	p->n = 0;
}

static void push_back(struct net_ports *p, unsigned port)
{
	p->q[p->n++] = (uint16_t)port;
	bit_set(p->inq, port, true);
}

static bool in_range(const struct net_ports *p, unsigned port)
{
	return port >= p->first && port <= p->last;
}

int net_ports_load(struct net_ports *p, const char *text, gfs_err *err)
{
	const char *s = text;
	size_t line = 1;
	const char *nl = strchr(s, '\n');
	if (!nl || (size_t)(nl - s) != strlen(HEADER) ||
	    strncmp(s, HEADER, strlen(HEADER)) != 0)
		return gfs_error(err, EINVAL, "not a port queue (want `%s`)",
				 HEADER);
	/* parse into a fresh queue, so a bad file changes nothing */
	uint16_t *q = xcalloc(range_size(p), sizeof *q);
	uint8_t seen[65536 / 8];
	size_t n = 0;
	memset(seen, 0, sizeof seen);
	for (s = nl + 1; *s; s = nl + 1) {
		line++;
		nl = strchr(s, '\n');
		if (!nl) {
			free(q);
			return gfs_error(err, EINVAL,
					 "port queue line %zu: no newline",
					 line);
		}
		cleanup_free char *one = xstrndup(s, (size_t)(nl - s));
		char *dash = strchr(one, '-');
		uint64_t lo, hi;
		if (dash)
			*dash = '\0';
		if (gfs_parse_u64(one, &lo, GFS_IGNORE) < 0 ||
		    (dash && gfs_parse_u64(dash + 1, &hi, GFS_IGNORE) < 0)) {
			free(q);
			return gfs_error(
			    err, EINVAL,
			    "port queue line %zu: not PORT or FIRST-LAST",
			    line);
		}
		if (!dash)
			hi = lo;
		if (lo < 1 || hi > 65535 || lo > hi) {
			free(q);
			return gfs_error(err, EINVAL,
					 "port queue line %zu: bad range",
					 line);
		}
		for (uint64_t port = lo; port <= hi; port++) {
			/* a changed --port-pool drops what it no longer has */
			if (!in_range(p, (unsigned)port) ||
			    bit(seen, (unsigned)port))
				continue;
			bit_set(seen, (unsigned)port, true);
			q[n++] = (uint16_t)port;
		}
	}
	free(p->q);
	p->q = q;
	p->n = 0;
	memset(p->inq, 0, sizeof p->inq);
	for (size_t i = 0; i < n; i++)
		push_back(p, q[i]);
	return 0;
}

void net_ports_format(const struct net_ports *p, sbuf *out)
{
	sbuf_adds(out, HEADER "\n");
	for (size_t i = 0; i < p->n;) {
		size_t j = i;
		while (j + 1 < p->n && p->q[j + 1] == p->q[j] + 1)
			j++;
		if (j == i)
			sbuf_printf(out, "%u\n", p->q[i]);
		else
			sbuf_printf(out, "%u-%u\n", p->q[i], p->q[j]);
		i = j + 1;
	}
}

int net_ports_peek(const struct net_ports *p,
		   bool (*busy)(unsigned port, void *arg), void *arg,
		   unsigned *out, gfs_err *err)
{
	for (size_t i = 0; i < p->n; i++)
		if (!busy || !busy(p->q[i], arg)) {
			*out = p->q[i];
			return 0;
		}
	if (p->n == 0)
		return gfs_error(err, ENOSPC,
				 "the port pool %u-%u is exhausted", p->first,
				 p->last);
	return gfs_error(
	    err, ENOSPC,
	    "the port pool %u-%u is exhausted (the %zu free ports are bound by host processes)",
	    p->first, p->last, p->n);
}

bool net_ports_is_held(const struct net_ports *p, unsigned port)
{
	return port < 65536 && bit(p->held, port);
}

long net_ports_hold(struct net_ports *p, unsigned port)
{
	long pos = -1;
	bit_set(p->held, port, true);
	if (bit(p->inq, port)) {
		for (size_t i = 0; i < p->n; i++)
			if (p->q[i] == port) {
				pos = (long)i;
				break;
			}
		if (pos < 0)
			return -1;
		memmove(&p->q[pos], &p->q[pos + 1],
			(p->n - (size_t)pos - 1) * sizeof *p->q);
		p->n--;
		bit_set(p->inq, port, false);
	}
	return pos;
}

void net_ports_unhold(struct net_ports *p, unsigned port, long pos)
{
	bit_set(p->held, port, false);
	if (pos < 0)
		return;
	memmove(&p->q[pos + 1], &p->q[pos],
		(p->n - (size_t)pos) * sizeof *p->q);
	p->q[pos] = (uint16_t)port;
	p->n++;
	bit_set(p->inq, port, true);
}

void net_ports_release(struct net_ports *p, unsigned port)
{
	bit_set(p->held, port, false);
	if (in_range(p, port) && !bit(p->inq, port))
		push_back(p, port);
}

size_t net_ports_reconcile(struct net_ports *p)
{
	size_t k = 0;
	for (unsigned port = p->first; port <= p->last; port++)
		if (!bit(p->held, port) && !bit(p->inq, port)) {
			push_back(p, port);
			k++;
		}
	return k;
}
