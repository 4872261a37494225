/* The nft batches net/ runs, as text for libnftables.  Pure (the unit tests
 * read them); docs/net.md draws the table.
 *
 * Per container the kernel holds a chain out_XXXXXXXX (XXXXXXXX: its
 * address in hex) with its net/out rules, an element ADDRESS : jump
 * out_XXXXXXXX in the map ctrs that the shared chain from_ctr dispatches
 * on, its bridge in the set bridges, and an element HOST : ADDRESS . PORT
 * in the map ports per net/in mapping.  Elements and chains carry no rule
 * handles, so a container is rebuilt or removed by name alone. */
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "net/priv.h"

void net_nft_table(char out[32], const char *tag)
{
	snprintf(out, 32, "gardenfs_%s", tag);
}

void net_nft_chain(char out[16], uint32_t ip)
{
	snprintf(out, 16, "out_%08x", ip);
}

bool net_nft_chain_parse(const char *name, uint32_t *ip)
{
	if (strlen(name) != 12 || strncmp(name, "out_", 4) != 0)
		return false;
	uint32_t v = 0;
	for (int i = 4; i < 12; i++) {
		char c = name[i];
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else
			return false;
	}
	*ip = v;
	return true;
}

void net_nft_setup_text(sbuf *b, const char *t, struct net_cidr pool,
			const struct net_cidr *deny, size_t ndeny,
			const char *ext_ip)
{
	char p[24], a[16];
	net_ip_fmt(pool.net, a);
	snprintf(p, sizeof p, "%s/%u", a, pool.prefix);

	sbuf_printf(b, "add table ip %s\n", t);
	sbuf_printf(
	    b,
	    "add set ip %s deny { type ipv4_addr; flags interval; auto-merge; }\n"
	    "flush set ip %s deny\n",
	    t, t);
	if (ndeny) {
		sbuf_printf(b, "add element ip %s deny { ", t);
		for (size_t i = 0; i < ndeny; i++) {
			net_ip_fmt(deny[i].net, a);
			sbuf_printf(b, "%s%s/%u", i ? ", " : "", a,
				    deny[i].prefix);
		}
		sbuf_adds(b, " }\n");
	}
	sbuf_printf(
	    b,
	    "add set ip %s bridges { type ifname; }\n"
	    "add map ip %s ctrs { type ipv4_addr : verdict; }\n"
	    "add map ip %s ports { type inet_service : ipv4_addr . inet_service; }\n",
	    t, t, t);
	static const char *const chains[][2] = {
	    {"forward", "type filter hook forward priority filter"},
	    {"from_ctr", NULL},
	    {"prerouting", "type nat hook prerouting priority dstnat"},
	    {"output", "type nat hook output priority -100"},
	    {"postrouting", "type nat hook postrouting priority srcnat"},
	};
	for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
		if (chains[i][1])
			sbuf_printf(
			    b, "add chain ip %s %s { %s; policy accept; }\n", t,
			    chains[i][0], chains[i][1]);
		else
			sbuf_printf(b, "add chain ip %s %s\n", t, chains[i][0]);
		/* base rules are rewritten whole on every start */
		sbuf_printf(b, "flush chain ip %s %s\n", t, chains[i][0]);
	}
	/* forward: answers always pass; what comes from our bridges is a
	 * container's and gets from_ctr */
	sbuf_printf(
	    b,
	    "add rule ip %s forward ct state established,related accept\n"
	    "add rule ip %s forward iifname @bridges jump from_ctr\n",
	    t, t);
	/* from_ctr: no spoofed sources (outside the pool, or not routed back
	 * through the bridge it came in on); containers reach each other;
	 * then the container's own rules; then the deny list */
	sbuf_printf(b,
		    "add rule ip %s from_ctr ip saddr != %s drop\n"
		    "add rule ip %s from_ctr fib saddr . iif oif missing drop\n"
		    "add rule ip %s from_ctr ip daddr %s accept\n"
		    "add rule ip %s from_ctr ip saddr vmap @ctrs\n"
		    "add rule ip %s from_ctr ip daddr @deny drop\n",
		    t, p, t, t, p, t, t);
	/* net/in: from outside and other containers (prerouting) and from
	 * the host itself (output), to the external address only: never
	 * 127.0.0.1, which would need route_localnet (CVE-2020-8558) */
	const char *to = ext_ip && *ext_ip ? NULL
					   : "fib daddr type local "
					     "ip daddr != 127.0.0.0/8";
	for (int i = 0; i < 2; i++) {
		const char *c = i ? "output" : "prerouting";
		if (to)
			sbuf_printf(
			    b,
			    "add rule ip %s %s %s dnat ip to tcp dport map @ports\n",
			    t, c, to);
		else
			sbuf_printf(
			    b,
			    "add rule ip %s %s ip daddr %s dnat ip to tcp dport map @ports\n",
			    t, c, ext_ip);
	}
	/* masquerade what leaves for outside the pool, and what was DNATed
	 * from a container (a container reaching itself or a neighbour
	 * through the external address must see the answer come back the
	 * same way) */
	sbuf_printf(
	    b,
	    "add rule ip %s postrouting ip saddr %s ip daddr != %s masquerade\n"
	    "add rule ip %s postrouting ct status dnat ip saddr %s masquerade\n",
	    t, p, p, t, p);
}

void net_nft_rules_text(sbuf *b, const char *t, uint32_t ip,
			const char *log_prefix, struct net_rule *const *rules,
			size_t n)
{
	char ch[16];
	net_nft_chain(ch, ip);
	/* each insert goes to the top: the last rule given ends up first */
	for (size_t i = 0; i < n; i++) {
		sbuf_printf(b, "insert rule ip %s %s ", t, ch);
		net_rule_nft(rules[i], log_prefix, b);
		sbuf_addc(b, '\n');
	}
}

void net_nft_port_text(sbuf *b, const char *t, bool add, uint32_t host,
		       uint32_t ip, uint32_t ctr)
{
	char a[16];
	net_ip_fmt(ip, a);
	/* adding the same element first makes the delete safe when it is
	 * already gone */
	sbuf_printf(b, "add element ip %s ports { %u : %s . %u }\n", t, host, a,
		    ctr);
	if (!add)
		sbuf_printf(b, "delete element ip %s ports { %u }\n", t, host);
}

void net_nft_ctr_text(sbuf *b, const char *t, const struct net_nft_ctr *c)
{
	char ch[16], a[16];
	net_nft_chain(ch, c->ip);
	net_ip_fmt(c->ip, a);
	sbuf_printf(b, "add chain ip %s %s\nflush chain ip %s %s\n", t, ch, t,
		    ch);
	for (size_t i = c->nrules; i-- > 0;) {
		sbuf_printf(b, "add rule ip %s %s ", t, ch);
		net_rule_nft(c->rules[i], c->log_prefix, b);
		sbuf_addc(b, '\n');
	}
	sbuf_printf(b, "add element ip %s bridges { \"%s\" }\n", t, c->bridge);
	sbuf_printf(b, "add element ip %s ctrs { %s : jump %s }\n", t, a, ch);
	for (size_t i = 0; i < c->nin; i++)
		net_nft_port_text(b, t, true, c->in[i].host, c->ip,
				  c->in[i].ctr);
}

void net_nft_ctr_del_text(sbuf *b, const char *t, const struct net_nft_ctr *c,
			  bool drop_bridge)
{
	char ch[16], a[16];
	net_nft_chain(ch, c->ip);
	net_ip_fmt(c->ip, a);
	for (size_t i = 0; i < c->nin; i++)
		net_nft_port_text(b, t, false, c->in[i].host, c->ip,
				  c->in[i].ctr);
	sbuf_printf(b,
		    "add chain ip %s %s\n"
		    "add element ip %s ctrs { %s : jump %s }\n"
		    "delete element ip %s ctrs { %s }\n"
		    "flush chain ip %s %s\n"
		    "delete chain ip %s %s\n",
		    t, ch, t, a, ch, t, a, t, ch, t, ch);
	if (drop_bridge)
		sbuf_printf(b,
			    "add element ip %s bridges { \"%s\" }\n"
			    "delete element ip %s bridges { \"%s\" }\n",
			    t, c->bridge, t, c->bridge);
}
