/* /etc/hosts and /etc/resolv.conf for a container, composed from text (the
 * caller reads the host's files).  Pure (unit-tested). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "net/priv.h"

#define FALLBACK "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"

/* The IPv4 nameservers of a resolv.conf (the container has no IPv6) into
 * ns, the search/domain/options lines into rest; *local counts loopback
 * ones left out. */
static size_t scan(const char *text, sbuf *ns, sbuf *rest, size_t *local)
{
	size_t k = 0;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *l = xstrndup(p, len);
		char word[16], val[64];
		int n = 0;
		char *s = l;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s && *s != '#' && *s != ';')
			n = sscanf(s, "%15s %63s", word, val);
		if (n == 2 && strcmp(word, "nameserver") == 0) {
			uint32_t ip;
			if (net_ip_parse(val, &ip) == 0) {
				if ((ip >> 24) == 127) {
					(*local)++;
				} else {
					sbuf_printf(ns, "nameserver %s\n", val);
					k++;
				}
			}
		} else if (n >= 1 && (strcmp(word, "search") == 0 ||
				      strcmp(word, "domain") == 0 ||
				      strcmp(word, "options") == 0)) {
			sbuf_adds(rest, s);
			sbuf_addc(rest, '\n');
		}
		free(l);
		p = nl ? nl + 1 : NULL;
	}
	return k;
}

char *net_resolv_compose(const char *host, const char *upstream)
{
	sbuf ns = SBUF_INIT, rest = SBUF_INIT, out = SBUF_INIT;
	size_t local = 0;
	size_t k = scan(host, &ns, &rest, &local);
	if (k == 0 && upstream) {
		/* a local stub (systemd-resolved): its upstream servers,
		 * since the stub's loopback address means the container's
		 * own loopback */
		sbuf ns2 = SBUF_INIT, rest2 = SBUF_INIT;
		size_t local2 = 0;
		k = scan(upstream, &ns2, &rest2, &local2);
		sbuf_free(&ns);
		ns = ns2;
		if (!rest.len) {
			sbuf_free(&rest);
			rest = rest2;
		} else {
			sbuf_free(&rest2);
		}
	}
	if (k == 0)
		sbuf_adds(&out, FALLBACK);
	else
		sbuf_add(&out, ns.s, ns.len);
	if (rest.len)
		sbuf_add(&out, rest.s, rest.len);
	sbuf_free(&ns);
	sbuf_free(&rest);
	return sbuf_steal(&out);
}

static bool one_word(const char *h)
{
	if (!h || !*h)
		return false;
	for (const char *p = h; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '#' || *p == 0x7f)
			return false;
	return true;
}

char *net_hosts_compose(const char *ip, const char *handle)
{
	sbuf b = SBUF_INIT;
	sbuf_adds(&b, "127.0.0.1 localhost\n"
		      "::1 localhost ip6-localhost ip6-loopback\n");
	if (ip && *ip && one_word(handle))
		sbuf_printf(&b, "%s %s\n", ip, handle);
	return sbuf_steal(&b);
}
