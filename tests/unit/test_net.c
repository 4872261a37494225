/* cmocka tests for the pure half of net/: addresses and the pool, link
 * names, the port queue and its file, net/out rules and the nft text they
 * become, the saved state, and /etc/hosts and resolv.conf. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "net/priv.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void assert_reason(const gfs_err *err, int code)
{
	assert_int_equal(err->code, code);
	assert_true(strlen(err->msg) > 0);
	assert_null(strchr(err->msg, '\n'));
}

static uint32_t ip(const char *s)
{
	uint32_t v;
	assert_int_equal(net_ip_parse(s, &v), 0);
	return v;
}

static const char *fmt(uint32_t v)
{
	static char b[4][16];
	static int k;
	k = (k + 1) % 4;
	net_ip_fmt(v, b[k]);
	return b[k];
}

/* ---- addresses */

static void test_ip_parse(void **state)
{
	(void)state;
	assert_int_equal(ip("10.254.0.2"), 0x0afe0002);
	assert_int_equal(ip("0.0.0.0"), 0);
	assert_int_equal(ip("255.255.255.255"), 0xffffffff);
	assert_string_equal(fmt(0x0afe0002), "10.254.0.2");
	static const char *const bad[] = {
	    "",		"1.2.3",    "1.2.3.4.5", "256.1.1.1",
	    "01.2.3.4", "1.2.3.4 ", " 1.2.3.4",	 "1..2.3",
	    "a.b.c.d",	"1.2.3.-4", "1.2.3.4/",	 "1.2.3.1000",
	};
	for (size_t i = 0; i < N(bad); i++) {
		uint32_t v = 7;
		assert_int_equal(net_ip_parse(bad[i], &v), -EINVAL);
		assert_int_equal(v, 7);
	}
}

static void test_cidr_parse(void **state)
{
	(void)state;
	struct net_cidr c;
	uint32_t a;
	gfs_err err = {0};
	assert_int_equal(
	    net_cidr_parse("10.254.4.7/24", false, false, &c, &a, &err), 0);
	assert_int_equal(c.net, ip("10.254.4.0"));
	assert_int_equal(c.prefix, 24);
	assert_int_equal(a, ip("10.254.4.7"));
	assert_int_equal(
	    net_cidr_parse("10.0.0.0/8", false, true, &c, NULL, &err), 0);
	assert_int_equal(net_cidr_parse("1.2.3.4", true, true, &c, NULL, &err),
			 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(c.net, ip("1.2.3.4"));
	static const struct {
		const char *in;
		bool bare, exact;
	} bad[] = {
	    {"1.2.3.4", false, false},	  {"10.0.0.1/8", false, true},
	    {"10.0.0.0/33", true, true},  {"10.0.0.0/", true, true},
	    {"10.0.0.0/08", true, true},  {"x/8", true, true},
	    {"10.0.0.0/8/8", true, true},
	};
	for (size_t i = 0; i < N(bad); i++) {
		gfs_err e = {0};
		assert_int_equal(net_cidr_parse(bad[i].in, bad[i].bare,
						bad[i].exact, &c, NULL, &e),
				 -EINVAL);
		assert_reason(&e, EINVAL);
	}
	struct net_cidr *v;
	size_t n;
	assert_int_equal(
	    net_cidr_list_parse("10.0.0.0/8,192.168.1.5", &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[1].prefix, 32);
	free(v);
	assert_int_equal(net_cidr_list_parse(NULL, &v, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(net_cidr_list_parse("10.0.0.0/8,", &v, &n, &err),
			 -EINVAL);
	assert_int_equal(
	    net_cidr_list_parse("10.0.0.0/8,,1.2.3.4", &v, &n, &err), -EINVAL);
	assert_int_equal(net_cidr_list_parse("10.0.0.1/8", &v, &n, &err),
			 -EINVAL);
}

static void test_cidr_relations(void **state)
{
	(void)state;
	struct net_cidr a = {ip("10.0.0.0"), 24}, b = {ip("10.0.0.128"), 25},
			c = {ip("10.0.1.0"), 24};
	assert_true(net_cidr_overlap(a, b));
	assert_true(net_cidr_overlap(b, a));
	assert_false(net_cidr_overlap(a, c));
	assert_true(net_cidr_contains(a, b));
	assert_false(net_cidr_contains(b, a));
	assert_false(net_cidr_contains(a, c));
	assert_int_equal(net_cidr_last(a), ip("10.0.0.255"));
	assert_int_equal(net_mask(0), 0);
	assert_int_equal(net_mask(32), 0xffffffff);
}

/* ---- the pool */

static struct net_lease pick(struct net_pool *p, const char *spec)
{
	struct net_lease l;
	gfs_err err = {0};
	int r = net_pool_pick(p, spec, &l, &err);
	if (r < 0)
		fail_msg("pick %s: %s", spec ? spec : "(next)", err.msg);
	assert_int_equal(net_pool_take(p, &l, &err), 0);
	return l;
}

static void pick_fails(struct net_pool *p, const char *spec, int code)
{
	struct net_lease l;
	gfs_err err = {0};
	assert_int_equal(net_pool_pick(p, spec, &l, &err), -code);
	assert_reason(&err, code);
}

static void test_pool_next(void **state)
{
	(void)state;
	struct net_pool p;
	net_pool_init(&p, (struct net_cidr){ip("10.254.0.0"), 22});
	struct net_lease a = pick(&p, NULL), b = pick(&p, NULL);
	assert_string_equal(fmt(a.ip), "10.254.0.2");
	assert_string_equal(fmt(net_lease_gateway(&a)), "10.254.0.1");
	assert_int_equal(a.sub.prefix, 30);
	assert_string_equal(fmt(b.ip), "10.254.0.6");
	assert_string_equal(fmt(net_lease_gateway(&b)), "10.254.0.5");
	/* the lowest free /30 again once released */
	net_pool_release(&p, &a);
	struct net_lease c = pick(&p, NULL);
	assert_string_equal(fmt(c.ip), "10.254.0.2");
	/* a fixed /28 in the way is jumped over */
	struct net_lease f = pick(&p, "10.254.0.18/28");
	assert_string_equal(fmt(f.ip), "10.254.0.18");
	assert_string_equal(fmt(net_lease_gateway(&f)), "10.254.0.17");
	struct net_lease d = pick(&p, NULL);
	assert_string_equal(fmt(d.ip), "10.254.0.10");
	pick(&p, NULL); /* .14 */
	struct net_lease e = pick(&p, NULL);
	assert_string_equal(fmt(e.ip), "10.254.0.34");
	net_pool_free(&p);
}

static void test_pool_exhausted(void **state)
{
	(void)state;
	struct net_pool p;
	net_pool_init(&p, (struct net_cidr){ip("10.1.0.0"), 28});
	for (int i = 0; i < 4; i++)
		pick(&p, NULL);
	pick_fails(&p, NULL, ENOSPC);
	net_pool_free(&p);
	/* the last /30 of a pool that ends at 255.255.255.255 */
	net_pool_init(&p, (struct net_cidr){ip("255.255.255.248"), 29});
	assert_string_equal(fmt(pick(&p, NULL).ip), "255.255.255.250");
	assert_string_equal(fmt(pick(&p, NULL).ip), "255.255.255.254");
	pick_fails(&p, NULL, ENOSPC);
	net_pool_free(&p);
}

static void test_pool_fixed(void **state)
{
	(void)state;
	struct net_pool p;
	net_pool_init(&p, (struct net_cidr){ip("10.254.0.0"), 16});
	/* an address: exactly it */
	struct net_lease a = pick(&p, "10.254.4.7/24");
	assert_string_equal(fmt(a.ip), "10.254.4.7");
	assert_string_equal(fmt(net_lease_gateway(&a)), "10.254.4.1");
	/* the subnet: its next free address, sharing with a */
	struct net_lease b = pick(&p, "10.254.4.0/24");
	assert_string_equal(fmt(b.ip), "10.254.4.2");
	struct net_lease c = pick(&p, "10.254.4.0/24");
	assert_string_equal(fmt(c.ip), "10.254.4.3");
	for (int i = 4; i < 7; i++)
		pick(&p, "10.254.4.0/24");
	struct net_lease d = pick(&p, "10.254.4.0/24");
	assert_string_equal(fmt(d.ip), "10.254.4.8"); /* .7 is a's */
	assert_int_equal(
	    net_pool_subnet_users(&p, (struct net_cidr){ip("10.254.4.0"), 24}),
	    7);
	pick_fails(&p, "10.254.4.7/24", EBUSY);	   /* taken */
	pick_fails(&p, "10.254.4.0/25", EBUSY);	   /* overlaps, other prefix */
	pick_fails(&p, "10.254.0.0/21", EBUSY);	   /* contains it */
	pick_fails(&p, "10.254.4.1/24", EINVAL);   /* the gateway */
	pick_fails(&p, "10.254.4.255/24", EINVAL); /* broadcast */
	pick_fails(&p, "10.255.0.2/24", EINVAL);   /* outside the pool */
	pick_fails(&p, "10.0.0.0/8", EINVAL);	   /* bigger than the pool */
	pick_fails(&p, "10.254.9.9/31", EINVAL);   /* no room */
	pick_fails(&p, "10.254.9.9/32", EINVAL);
	pick_fails(&p, "10.254.9.9", EINVAL); /* no prefix */
	pick_fails(&p, "10.254.9.9/24/2", EINVAL);
	pick_fails(&p, "", EINVAL);
	/* a /30 asked for by its network: .2 */
	struct net_lease e = pick(&p, "10.254.8.0/30");
	assert_string_equal(fmt(e.ip), "10.254.8.2");
	pick_fails(&p, "10.254.8.0/30", ENOSPC);
	/* the dynamic /30s go around fixed subnets */
	struct net_lease n = pick(&p, NULL);
	assert_string_equal(fmt(n.ip), "10.254.0.2");
	net_pool_free(&p);
}

static void test_pool_take(void **state)
{
	(void)state;
	struct net_pool p;
	gfs_err err = {0};
	net_pool_init(&p, (struct net_cidr){ip("10.254.0.0"), 22});
	struct net_lease l = {ip("10.254.1.6"), {ip("10.254.1.4"), 30}};
	assert_int_equal(net_pool_take(&p, &l, &err), 0);
	assert_int_equal(net_pool_take(&p, &l, &err), -EBUSY);
	struct net_lease wide = {ip("10.254.1.9"), {ip("10.254.1.0"), 24}};
	assert_int_equal(net_pool_take(&p, &wide, &err), -EBUSY);
	struct net_lease out = {ip("10.253.0.2"), {ip("10.253.0.0"), 30}};
	assert_int_equal(net_pool_take(&p, &out, &err), -EINVAL);
	struct net_lease gw = {ip("10.254.2.1"), {ip("10.254.2.0"), 30}};
	assert_int_equal(net_pool_take(&p, &gw, &err), -EINVAL);
	/* a restored lease makes the next /30 skip it */
	struct net_lease a = pick(&p, NULL);
	assert_string_equal(fmt(a.ip), "10.254.0.2");
	net_pool_free(&p);
}

/* ---- link names */

static void test_names(void **state)
{
	(void)state;
	char n[16], k;
	uint32_t v;
	net_link_name(n, "a1b2c3", NET_KIND_VETH, ip("10.254.0.2"));
	assert_string_equal(n, "a1b2c3h0afe0002");
	assert_true(strlen(n) <= 15);
	assert_true(net_link_name_parse(n, "a1b2c3", &k, &v));
	assert_int_equal(k, 'h');
	assert_int_equal(v, ip("10.254.0.2"));
	/* another daemon's tag that starts like ours is not ours */
	net_link_name(n, "abb", NET_KIND_BRIDGE, ip("10.254.0.0"));
	assert_false(net_link_name_parse(n, "ab", &k, &v));
	assert_true(net_link_name_parse(n, "abb", &k, &v));
	assert_false(net_link_name_parse("abx0afe0000", "ab", &k, &v));
	assert_false(net_link_name_parse("abh0afe000g", "ab", &k, &v));
	assert_false(net_link_name_parse("eth0", "ab", &k, &v));
	assert_true(net_tag_is_valid("a"));
	assert_true(net_tag_is_valid("ab12cd"));
	assert_false(net_tag_is_valid(""));
	assert_false(net_tag_is_valid(NULL));
	assert_false(net_tag_is_valid("ab12cde"));
	assert_false(net_tag_is_valid("AB"));
	assert_false(net_tag_is_valid("a-b"));
	char ch[16];
	net_nft_chain(ch, ip("10.254.0.6"));
	assert_string_equal(ch, "out_0afe0006");
	assert_true(net_nft_chain_parse(ch, &v));
	assert_int_equal(v, ip("10.254.0.6"));
	assert_false(net_nft_chain_parse("forward", &v));
	assert_false(net_nft_chain_parse("out_0afe000", &v));
	char t[32];
	net_nft_table(t, "ab12");
	assert_string_equal(t, "gardenfs_ab12");
}

/* ---- ports */

static bool busy_odd(unsigned port, void *arg)
{
	(void)arg;
	return port % 2;
}

static char *queue_text(const struct net_ports *p)
{
	sbuf b = SBUF_INIT;
	net_ports_format(p, &b);
	return sbuf_steal(&b);
}

static void test_ports_order(void **state)
{
	(void)state;
	struct net_ports *p = xcalloc(1, sizeof *p);
	gfs_err err = {0};
	unsigned port;
	net_ports_init(p, 60000, 60004);
	assert_int_equal(net_ports_peek(p, NULL, NULL, &port, &err), 0);
	assert_int_equal(port, 60000);
	/* peeking takes nothing */
	assert_int_equal(net_ports_peek(p, NULL, NULL, &port, &err), 0);
	assert_int_equal(port, 60000);
	net_ports_hold(p, 60000);
	assert_true(net_ports_is_held(p, 60000));
	/* a port some host process has bound is skipped, not taken */
	assert_int_equal(net_ports_peek(p, busy_odd, NULL, &port, &err), 0);
	assert_int_equal(port, 60002);
	net_ports_hold(p, 60002);
	assert_int_equal(net_ports_peek(p, NULL, NULL, &port, &err), 0);
	assert_int_equal(port, 60001);
	/* released ports go to the back */
	net_ports_release(p, 60000);
	assert_false(net_ports_is_held(p, 60000));
	char *t = queue_text(p);
	assert_string_equal(t, "gardenfs-ports 1\n60001\n60003-60004\n60000\n");
	free(t);
	/* an explicit port from the middle, and its exact undo */
	long pos = net_ports_hold(p, 60003);
	assert_int_equal(pos, 1);
	net_ports_unhold(p, 60003, pos);
	t = queue_text(p);
	assert_string_equal(t, "gardenfs-ports 1\n60001\n60003-60004\n60000\n");
	free(t);
	/* outside the range: held, never queued */
	assert_int_equal(net_ports_hold(p, 8080), -1);
	assert_true(net_ports_is_held(p, 8080));
	net_ports_release(p, 8080);
	assert_false(net_ports_is_held(p, 8080));
	t = queue_text(p);
	assert_null(strstr(t, "8080"));
	free(t);
	/* exhausted */
	net_ports_hold(p, 60001);
	net_ports_hold(p, 60003);
	net_ports_hold(p, 60004);
	assert_int_equal(net_ports_peek(p, busy_odd, NULL, &port, &err), 0);
	assert_int_equal(port, 60000);
	net_ports_hold(p, 60000);
	assert_int_equal(net_ports_peek(p, NULL, NULL, &port, &err), -ENOSPC);
	assert_reason(&err, ENOSPC);
	net_ports_release(p, 60003);
	gfs_err e2 = {0};
	assert_int_equal(net_ports_peek(p, busy_odd, NULL, &port, &e2),
			 -ENOSPC);
	assert_non_null(strstr(e2.msg, "host processes"));
	net_ports_free(p);
	free(p);
}

static void test_ports_file(void **state)
{
	(void)state;
	struct net_ports *p = xcalloc(1, sizeof *p);
	gfs_err err = {0};
	net_ports_init(p, 100, 110);
	assert_int_equal(
	    net_ports_load(p,
			   "gardenfs-ports 1\n"
			   "105-108\n"
			   "101\n"
			   "90-100\n"  /* 90..99: not in the range */
			   "107\n"     /* again */
			   "200-300\n" /* not in the range */
			   "102\n",
			   &err),
	    0);
	char *t = queue_text(p);
	assert_string_equal(t, "gardenfs-ports 1\n105-108\n101\n100\n102\n");
	/* the text reads back the same */
	struct net_ports *q = xcalloc(1, sizeof *q);
	net_ports_init(q, 100, 110);
	assert_int_equal(net_ports_load(q, t, &err), 0);
	char *t2 = queue_text(q);
	assert_string_equal(t, t2);
	free(t2);
	free(t);
	/* what nobody holds comes back at the end, in order */
	net_ports_hold(p, 104);
	assert_int_equal(net_ports_reconcile(p), 3); /* 103 109 110 */
	t = queue_text(p);
	assert_string_equal(
	    t, "gardenfs-ports 1\n105-108\n101\n100\n102-103\n109-110\n");
	free(t);
	static const char *const bad[] = {
	    "",
	    "gardenfs-ports 2\n",
	    "100\n",
	    "gardenfs-ports 1\n100",
	    "gardenfs-ports 1\nx\n",
	    "gardenfs-ports 1\n5-3\n",
	    "gardenfs-ports 1\n0\n",
	    "gardenfs-ports 1\n65536\n",
	    "gardenfs-ports 1\n1-\n",
	    "gardenfs-ports 1\n 100\n",
	};
	for (size_t i = 0; i < N(bad); i++) {
		gfs_err e = {0};
		assert_int_equal(net_ports_load(q, bad[i], &e), -EINVAL);
		assert_reason(&e, EINVAL);
	}
	/* a bad file changed nothing */
	t = queue_text(q);
	assert_string_equal(t, "gardenfs-ports 1\n105-108\n101\n100\n102\n");
	free(t);
	net_ports_free(p);
	net_ports_free(q);
	free(p);
	free(q);
}

/* ---- rules */

static struct net_rule *rule(const char *text)
{
	struct net_rule *r;
	gfs_err err = {0};
	if (net_rule_parse(text, &r, &err) < 0)
		fail_msg("rule `%s`: %s", text, err.msg);
	return r;
}

static char *nft(const struct net_rule *r)
{
	sbuf b = SBUF_INIT;
	net_rule_nft(r, "web ", &b);
	return sbuf_steal(&b);
}

static void test_rule_good(void **state)
{
	(void)state;
	static const struct {
		const char *in, *nft;
	} t[] = {
	    {"protocol=all", "accept"},
	    {"network=1.2.3.4", "ip daddr { 1.2.3.4 } accept"},
	    {"protocol=tcp network=10.0.0.1-10.0.0.9  port=80 port=8000-8080",
	     "ip daddr { 10.0.0.1-10.0.0.9 } tcp dport { 80, 8000-8080 } "
	     "accept"},
	    {"protocol=udp", "meta l4proto udp accept"},
	    {"protocol=udp port=53", "udp dport { 53 } accept"},
	    {"protocol=tcp log=true",
	     "meta l4proto tcp log prefix \"web \" accept"},
	    {"protocol=tcp log=false", "meta l4proto tcp accept"},
	    {"protocol=icmp", "meta l4proto icmp accept"},
	    {"protocol=icmp icmp=8", "icmp type 8 accept"},
	    {"icmp=3/1 protocol=icmp", "icmp type 3 icmp code 1 accept"},
	    /* overlapping ranges merged: nft refuses them as they are */
	    {"protocol=tcp port=80-90 port=85 port=91 port=100",
	     "tcp dport { 80-91, 100 } accept"},
	    {"network=10.0.0.5 network=10.0.0.0-10.0.0.9 network=9.9.9.9",
	     "ip daddr { 9.9.9.9, 10.0.0.0-10.0.0.9 } accept"},
	    {"\tprotocol=tcp\tport=1 ", "tcp dport { 1 } accept"},
	    {"protocol=tcp port=65535", "tcp dport { 65535 } accept"},
	};
	for (size_t i = 0; i < N(t); i++) {
		struct net_rule *r = rule(t[i].in);
		/* listed as written */
		assert_string_equal(net_rule_text(r), t[i].in);
		char *s = nft(r);
		assert_string_equal(s, t[i].nft);
		free(s);
		net_rule_free(r);
	}
}

static void test_rule_bad(void **state)
{
	(void)state;
	static const char *const t[] = {
	    "",
	    "   ",
	    "protocol=sctp",
	    "protocol=TCP",
	    "protocol=tcp protocol=udp",
	    "proto=tcp",
	    "protocol",
	    "=tcp",
	    "protocol=icmp port=80",
	    "protocol=all port=80",
	    "port=80",
	    "protocol=tcp icmp=8",
	    "icmp=8",
	    "protocol=icmp icmp=8 icmp=0",
	    "protocol=icmp icmp=256",
	    "protocol=icmp icmp=8/256",
	    "protocol=icmp icmp=8/",
	    "protocol=icmp icmp=-1",
	    "protocol=icmp icmp=x",
	    "protocol=tcp port=0",
	    "protocol=tcp port=65536",
	    "protocol=tcp port=90-80",
	    "protocol=tcp port=80-",
	    "protocol=tcp port=-80",
	    "protocol=tcp port=8o",
	    "network=1.2.3",
	    "network=1.2.3.4-",
	    "network=1.2.3.4-1.2.3.3",
	    "network=10.0.0.0/8",
	    "log=yes",
	    "log=true log=true",
	    "protocol=tcp\nport=80",
	    "protocol=tcp\r",
	};
	for (size_t i = 0; i < N(t); i++) {
		struct net_rule *r = (struct net_rule *)1;
		gfs_err err = {0};
		if (net_rule_parse(t[i], &r, &err) != -EINVAL)
			fail_msg("rule `%s` was not refused", t[i]);
		assert_null(r);
		assert_reason(&err, EINVAL);
	}
}

static void test_rule_builder(void **state)
{
	(void)state;
	gfs_err err = {0};
	struct net_rule *r = net_rule_new(NET_PROTO_TCP);
	assert_int_equal(net_rule_add_network(r, "10.0.0.1", NULL, &err), 0);
	assert_int_equal(net_rule_add_network(r, "10.0.1.1", "10.0.1.9", &err),
			 0);
	assert_int_equal(net_rule_add_network(r, "10.0.2.1", "", &err), 0);
	assert_int_equal(net_rule_add_ports(r, 80, 80, &err), 0);
	assert_int_equal(net_rule_add_ports(r, 8000, 8080, &err), 0);
	net_rule_set_log(r, true);
	assert_null(net_rule_text(r));
	assert_int_equal(net_rule_finish(r, &err), 0);
	assert_string_equal(net_rule_text(r),
			    "protocol=tcp network=10.0.0.1 "
			    "network=10.0.1.1-10.0.1.9 network=10.0.2.1 "
			    "port=80 port=8000-8080 log=true");
	/* the canonical text parses to the same rule */
	struct net_rule *again = rule(net_rule_text(r));
	char *a = nft(r), *b = nft(again);
	assert_string_equal(a, b);
	free(a);
	free(b);
	net_rule_free(again);
	net_rule_free(r);

	r = net_rule_new(NET_PROTO_ICMP);
	assert_int_equal(net_rule_set_icmp(r, 8, -1, &err), 0);
	assert_int_equal(net_rule_finish(r, &err), 0);
	assert_string_equal(net_rule_text(r), "protocol=icmp icmp=8");
	net_rule_free(r);

	/* each adder checks its value; finish the cross checks */
	r = net_rule_new(NET_PROTO_UDP);
	assert_int_equal(net_rule_add_network(r, "1.2.3", NULL, &err), -EINVAL);
	assert_int_equal(net_rule_add_network(r, NULL, NULL, &err), -EINVAL);
	assert_int_equal(net_rule_add_network(r, "1.2.3.9", "1.2.3.4", &err),
			 -EINVAL);
	assert_int_equal(net_rule_add_ports(r, 0, 5, &err), -EINVAL);
	assert_int_equal(net_rule_add_ports(r, 9, 5, &err), -EINVAL);
	assert_int_equal(net_rule_add_ports(r, 5, 70000, &err), -EINVAL);
	assert_int_equal(net_rule_set_icmp(r, 256, 0, &err), -EINVAL);
	assert_int_equal(net_rule_set_icmp(r, 3, 0, &err), 0);
	assert_int_equal(net_rule_finish(r, &err), -EINVAL); /* icmp, udp */
	assert_reason(&err, EINVAL);
	assert_null(net_rule_text(r));
	net_rule_free(r);
	r = net_rule_new(NET_PROTO_ALL);
	assert_int_equal(net_rule_add_ports(r, 5, 5, &err), 0);
	assert_int_equal(net_rule_finish(r, &err), -EINVAL);
	net_rule_free(r);
	r = net_rule_new((enum net_proto)7);
	assert_int_equal(net_rule_finish(r, &err), -EINVAL);
	net_rule_free(r);
}

static void test_log_prefix(void **state)
{
	(void)state;
	char p[32];
	net_log_prefix("web-1", p);
	assert_string_equal(p, "web-1 ");
	net_log_prefix("a \"b\"\n;c", p);
	assert_string_equal(p, "a__b___c ");
	net_log_prefix("0123456789012345678901234567890123456789", p);
	assert_string_equal(p, "0123456789012345678901234567 ");
}

/* ---- nft batches */

static void test_nft_ctr(void **state)
{
	(void)state;
	struct net_rule *rules[2] = {rule("protocol=tcp port=80"),
				     rule("protocol=icmp log=true")};
	struct net_port_map in[1] = {{60000, 8080}};
	struct net_nft_ctr c = {
	    .ip = ip("10.254.0.2"),
	    .bridge = "tgb0afe0000",
	    .log_prefix = "web ",
	    .rules = rules,
	    .nrules = 2,
	    .in = in,
	    .nin = 1,
	};
	sbuf b = SBUF_INIT;
	net_nft_ctr_text(&b, "gardenfs_tg", &c);
	/* the later rule first */
	assert_string_equal(
	    b.s, "add chain ip gardenfs_tg out_0afe0002\n"
		 "flush chain ip gardenfs_tg out_0afe0002\n"
		 "add rule ip gardenfs_tg out_0afe0002 meta l4proto icmp log "
		 "prefix \"web \" accept\n"
		 "add rule ip gardenfs_tg out_0afe0002 tcp dport { 80 } "
		 "accept\n"
		 "add element ip gardenfs_tg bridges { \"tgb0afe0000\" }\n"
		 "add element ip gardenfs_tg ctrs { 10.254.0.2 : jump "
		 "out_0afe0002 }\n"
		 "add element ip gardenfs_tg ports { 60000 : 10.254.0.2 . "
		 "8080 }\n");
	sbuf_reset(&b);
	net_nft_ctr_del_text(&b, "gardenfs_tg", &c, true);
	/* everything deleted is added first: nothing already gone fails */
	assert_string_equal(
	    b.s, "add element ip gardenfs_tg ports { 60000 : 10.254.0.2 . "
		 "8080 }\n"
		 "delete element ip gardenfs_tg ports { 60000 }\n"
		 "add chain ip gardenfs_tg out_0afe0002\n"
		 "add element ip gardenfs_tg ctrs { 10.254.0.2 : jump "
		 "out_0afe0002 }\n"
		 "delete element ip gardenfs_tg ctrs { 10.254.0.2 }\n"
		 "flush chain ip gardenfs_tg out_0afe0002\n"
		 "delete chain ip gardenfs_tg out_0afe0002\n"
		 "add element ip gardenfs_tg bridges { \"tgb0afe0000\" }\n"
		 "delete element ip gardenfs_tg bridges { \"tgb0afe0000\" }\n");
	sbuf_reset(&b);
	net_nft_ctr_del_text(&b, "gardenfs_tg", &c, false);
	assert_null(strstr(b.s, "bridges"));
	sbuf_reset(&b);
	/* new rules go on top, one insert each: the last ends up first */
	net_nft_rules_text(&b, "gardenfs_tg", c.ip, "web ", rules, 2);
	assert_string_equal(
	    b.s, "insert rule ip gardenfs_tg out_0afe0002 tcp dport { 80 } "
		 "accept\n"
		 "insert rule ip gardenfs_tg out_0afe0002 meta l4proto icmp "
		 "log prefix \"web \" accept\n");
	sbuf_free(&b);
	net_rule_free(rules[0]);
	net_rule_free(rules[1]);
}

static void test_nft_setup(void **state)
{
	(void)state;
	struct net_cidr deny[2] = {{ip("10.0.0.0"), 8}, {ip("1.2.3.4"), 32}};
	sbuf b = SBUF_INIT;
	net_nft_setup_text(&b, "gardenfs_tg",
			   (struct net_cidr){ip("10.254.0.0"), 22}, deny, 2,
			   "192.0.2.2");
	static const char *const want[] = {
	    "add table ip gardenfs_tg\n",
	    "flush set ip gardenfs_tg deny\n"
	    "add element ip gardenfs_tg deny { 10.0.0.0/8, 1.2.3.4/32 }\n",
	    "add rule ip gardenfs_tg forward ct state established,related "
	    "accept\n"
	    "add rule ip gardenfs_tg forward iifname @bridges jump from_ctr\n",
	    "add rule ip gardenfs_tg from_ctr ip saddr != 10.254.0.0/22 drop\n"
	    "add rule ip gardenfs_tg from_ctr fib saddr . iif oif missing "
	    "drop\n"
	    "add rule ip gardenfs_tg from_ctr ip daddr 10.254.0.0/22 accept\n"
	    "add rule ip gardenfs_tg from_ctr ip saddr vmap @ctrs\n"
	    "add rule ip gardenfs_tg from_ctr ip daddr @deny drop\n",
	    "add rule ip gardenfs_tg prerouting ip daddr 192.0.2.2 dnat ip to "
	    "tcp dport map @ports\n",
	    "add rule ip gardenfs_tg output ip daddr 192.0.2.2 dnat ip to tcp "
	    "dport map @ports\n",
	    "add rule ip gardenfs_tg postrouting ip saddr 10.254.0.0/22 ip "
	    "daddr != 10.254.0.0/22 masquerade\n",
	    "flush chain ip gardenfs_tg forward\n",
	    "flush chain ip gardenfs_tg postrouting\n",
	};
	for (size_t i = 0; i < N(want); i++)
		if (!strstr(b.s, want[i]))
			fail_msg("setup text lacks:\n%s\nin:\n%s", want[i],
				 b.s);
	/* nothing here may make 127.0.0.1 a way in */
	assert_null(strstr(b.s, "127.0.0.1"));
	assert_null(strstr(b.s, "route_localnet"));
	sbuf_reset(&b);
	/* no deny list: no elements; no external address: every local one
	 * but loopback */
	net_nft_setup_text(&b, "gardenfs_tg",
			   (struct net_cidr){ip("10.254.0.0"), 22}, NULL, 0,
			   "");
	assert_null(strstr(b.s, "add element"));
	assert_non_null(strstr(b.s, "prerouting fib daddr type local ip daddr "
				    "!= 127.0.0.0/8 dnat"));
	sbuf_free(&b);
}

/* ---- saved state */

static void test_saved(void **state)
{
	(void)state;
	struct net_port_map in[2] = {{60000, 8080}, {60001, 60001}};
	char *out[2] = {"protocol=tcp port=80", "network=1.2.3.4  log=true"};
	struct net_saved s = {
	    .lease = {ip("10.254.4.7"), {ip("10.254.4.0"), 24}},
	    .in = in,
	    .nin = 2,
	    .out = out,
	    .nout = 2,
	    .rate = 1048576,
	    .burst = 65536,
	};
	sbuf b = SBUF_INIT;
	net_saved_format(&s, &b);
	assert_string_equal(b.s, "gardenfs-net 1\n"
				 "ip 10.254.4.7/24\n"
				 "in 60000 8080\n"
				 "in 60001 60001\n"
				 "out protocol=tcp port=80\n"
				 "out network=1.2.3.4  log=true\n"
				 "bandwidth 1048576 65536\n");
	struct net_saved r;
	gfs_err err = {0};
	assert_int_equal(net_saved_parse(b.s, &r, &err), 0);
	assert_int_equal(r.lease.ip, s.lease.ip);
	assert_int_equal(r.lease.sub.net, s.lease.sub.net);
	assert_int_equal(r.lease.sub.prefix, 24);
	assert_int_equal(r.nin, 2);
	assert_int_equal(r.in[1].host, 60001);
	assert_int_equal(r.nout, 2);
	assert_string_equal(r.out[1], "network=1.2.3.4  log=true");
	assert_int_equal(r.rate, 1048576);
	assert_int_equal(r.burst, 65536);
	net_saved_free(&r);
	sbuf_free(&b);

	static const char *const bad[] = {
	    "",
	    "gardenfs-net 2\nip 10.0.0.2/30\n",
	    "gardenfs-net 1\n",
	    "gardenfs-net 1\nip 10.0.0.2/30",
	    "gardenfs-net 1\nip 10.0.0.2\n",
	    "gardenfs-net 1\nip 10.0.0.2/30\nip 10.0.0.6/30\n",
	    "gardenfs-net 1\nip 10.0.0.2/30\nin 0 80\n",
	    "gardenfs-net 1\nip 10.0.0.2/30\nin 80\n",
	    "gardenfs-net 1\nip 10.0.0.2/30\nin 80 70000\n",
	    "gardenfs-net 1\nip 10.0.0.2/30\nbandwidth 1\n",
	    "gardenfs-net 1\nip 10.0.0.2/30\nwhat 1\n",
	};
	for (size_t i = 0; i < N(bad); i++) {
		gfs_err e = {0};
		assert_int_equal(net_saved_parse(bad[i], &r, &e), -EINVAL);
		assert_reason(&e, EINVAL);
	}
}

/* ---- hosts and resolv.conf */

static void test_resolv(void **state)
{
	(void)state;
	static const struct {
		const char *host, *upstream, *want;
	} t[] = {
	    {"# comment\nnameserver 10.0.0.53\nsearch example.com\n"
	     "nameserver 1.1.1.1\noptions ndots:2\n",
	     NULL,
	     "nameserver 10.0.0.53\nnameserver 1.1.1.1\n"
	     "search example.com\noptions ndots:2\n"},
	    /* systemd-resolved's stub: its upstream servers instead */
	    {"nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n",
	     "nameserver 192.168.1.1\nnameserver ::1\nsearch lan\n",
	     "nameserver 192.168.1.1\noptions edns0 trust-ad\nsearch lan\n"},
	    /* loopback only and no upstream: the fallback */
	    {"nameserver 127.0.0.1\n", NULL,
	     "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
	    {"nameserver 127.0.0.53\n", "nameserver 127.0.0.1\n",
	     "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
	    /* the container has no IPv6 */
	    {"nameserver fd00::1\n", NULL,
	     "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
	    {"", NULL, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"},
	    {"  nameserver\t9.9.9.9  \n;nameserver 8.8.4.4\nnameserver", NULL,
	     "nameserver 9.9.9.9\n"},
	};
	for (size_t i = 0; i < N(t); i++) {
		char *s = net_resolv_compose(t[i].host, t[i].upstream);
		assert_string_equal(s, t[i].want);
		free(s);
	}
	char *h = net_hosts_compose("10.254.0.2", "web");
	assert_string_equal(h, "127.0.0.1 localhost\n"
			       "::1 localhost ip6-localhost ip6-loopback\n"
			       "10.254.0.2 web\n");
	free(h);
	h = net_hosts_compose("10.254.0.2", "two words");
	assert_null(strstr(h, "10.254.0.2"));
	free(h);
	h = net_hosts_compose("10.254.0.2", "a#b");
	assert_null(strstr(h, "10.254.0.2"));
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ip_parse),
	    cmocka_unit_test(test_cidr_parse),
	    cmocka_unit_test(test_cidr_relations),
	    cmocka_unit_test(test_pool_next),
	    cmocka_unit_test(test_pool_exhausted),
	    cmocka_unit_test(test_pool_fixed),
	    cmocka_unit_test(test_pool_take),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_ports_order),
	    cmocka_unit_test(test_ports_file),
	    cmocka_unit_test(test_rule_good),
	    cmocka_unit_test(test_rule_bad),
	    cmocka_unit_test(test_rule_builder),
	    cmocka_unit_test(test_log_prefix),
	    cmocka_unit_test(test_nft_ctr),
	    cmocka_unit_test(test_nft_setup),
	    cmocka_unit_test(test_saved),
	    cmocka_unit_test(test_resolv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
