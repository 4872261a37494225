/* What the files of net/ share and nothing outside net/ uses.  The pure
 * half (addr.c ports.c rule.c state.c nfttext.c resolv.c: no kernel, no
 * library but lib/) is what the unit tests link; link.c tc.c nft.c hold the
 * libnl and libnftables calls; net.c ties them together. */
#ifndef GFS_NET_PRIV_H
#define GFS_NET_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "net/net.h"

/* ---- addr.c: IPv4 addresses (host byte order), CIDRs, the pool */

struct net_cidr {
	uint32_t net; /* the network address: host bits are zero */
	unsigned prefix;
};

static inline uint32_t net_mask(unsigned prefix)
{
	return prefix ? ~(uint32_t)0 << (32 - prefix) : 0;
}
static inline uint32_t net_cidr_last(struct net_cidr c)
{
	return c.net | ~net_mask(c.prefix);
}

/* Strict dotted quad: four decimal parts 0..255, no leading zeros. */
int net_ip_parse(const char *s, uint32_t *out);
void net_ip_fmt(uint32_t ip, char out[16]);
/* "IP/PREFIX", or a bare IP as /32 when bare_ok.  *ip gets the address as
 * written; c the network it is in.  With exact, host bits set are
 * refused. */
int net_cidr_parse(const char *s, bool bare_ok, bool exact, struct net_cidr *c,
		   uint32_t *ip, gfs_err *err);
bool net_cidr_overlap(struct net_cidr a, struct net_cidr b);
bool net_cidr_contains(struct net_cidr outer, struct net_cidr inner);
/* "CIDR,CIDR,..." (bare IPs are /32s); NULL or "" is none. */
int net_cidr_list_parse(const char *s, struct net_cidr **out, size_t *n,
			gfs_err *err);

/* A container's address and the subnet it is in.  The subnet's first
 * address is the gateway (the bridge), the last its broadcast. */
struct net_lease {
	uint32_t ip;
	struct net_cidr sub;
};
static inline uint32_t net_lease_gateway(const struct net_lease *l)
{
	return l->sub.net + 1;
}

/* The live leases, sorted by address.  Live subnets are pairwise equal or
 * disjoint; those equal share a bridge. */
struct net_pool {
	struct net_cidr range;
	struct net_lease *v;
	size_t n, cap;
};
void net_pool_init(struct net_pool *p, struct net_cidr range);
void net_pool_free(struct net_pool *p);
/* Chooses a lease for spec (NULL: the lowest free /30) without taking it;
 * errors as net_spec_check documents. */
int net_pool_pick(const struct net_pool *p, const char *spec,
		  struct net_lease *out, gfs_err *err);
/* Checks that l can be held (inside the range, no conflict) and holds it:
 * net_pool_pick's result, or a restored lease. */
int net_pool_take(struct net_pool *p, const struct net_lease *l, gfs_err *err);
void net_pool_release(struct net_pool *p, const struct net_lease *l);
/* How many live leases are in exactly this subnet (its bridge's users). */
size_t net_pool_subnet_users(const struct net_pool *p, struct net_cidr sub);

/* Link names: TAG, one letter for the kind, eight hex digits of an
 * address: 'b' bridge (subnet's network), 'h' host side of a veth and 'i'
 * ifb (container's address).  At most 15 bytes. */
#define NET_KIND_BRIDGE 'b'
#define NET_KIND_VETH	'h'
#define NET_KIND_IFB	'i'
void net_link_name(char out[16], const char *tag, char kind, uint32_t ip);
/* The inverse: true when name is one of ours for tag. */
bool net_link_name_parse(const char *name, const char *tag, char *kind,
			 uint32_t *ip);
/* 1..NET_TAG_MAX bytes of [a-z0-9]. */
bool net_tag_is_valid(const char *tag);

/* ---- ports.c: the queue of free host ports */

struct net_ports {
	unsigned first, last;
	uint16_t *q; /* free ports, front first */
	size_t n;
	uint8_t inq[65536 / 8];	 /* bit per port: in q */
	uint8_t held[65536 / 8]; /* bit per port: mapped by a container */
};
/* A queue holding first..last in order. */
void net_ports_init(struct net_ports *p, unsigned first, unsigned last);
void net_ports_free(struct net_ports *p);
/* Replaces the queue with the persisted one (net_ports_format's text):
 * ports outside first..last and repeats are dropped; ports missing stay
 * out until net_ports_reconcile (a live container may hold them). */
int net_ports_load(struct net_ports *p, const char *text, gfs_err *err);
void net_ports_format(const struct net_ports *p, sbuf *out);
/* The first queued port for which busy() is false, without taking it;
 * -ENOSPC when there is none. */
int net_ports_peek(const struct net_ports *p,
		   bool (*busy)(unsigned port, void *arg), void *arg,
		   unsigned *out, gfs_err *err);
bool net_ports_is_held(const struct net_ports *p, unsigned port);
/* Marks port held and takes it out of the queue; returns where it was in
 * the queue (-1: not queued) for net_ports_unhold. */
long net_ports_hold(struct net_ports *p, unsigned port);
/* Undoes net_ports_hold exactly. */
void net_ports_unhold(struct net_ports *p, unsigned port, long pos);
/* A port let go: unheld, and to the back of the queue when in the range. */
void net_ports_release(struct net_ports *p, unsigned port);
/* Every port of the range neither held nor queued to the back, in
 * order; returns how many. */
size_t net_ports_reconcile(struct net_ports *p);

/* ---- rule.c: net/out rules */

struct net_range {
	uint32_t lo, hi;
};
struct net_rule {
	enum net_proto proto;
	struct net_range *nets, *ports;
	size_t nnets, nports;
	int icmp_type, icmp_code; /* -1: none, any */
	bool log;
	char *text; /* as written, or canonical once finished */
};
/* The nft rule for r, after "add rule ip T CHAIN ": matches, then log
 * (with log_prefix) when asked, then accept. */
void net_rule_nft(const struct net_rule *r, const char *log_prefix, sbuf *out);
/* The log prefix for a container: the handle's first 28 bytes, anything
 * but [A-Za-z0-9._-] as '_', and a blank. */
void net_log_prefix(const char *handle, char out[32]);

/* ---- state.c: what net_ctr_save writes */

struct net_saved {
	struct net_lease lease;
	struct net_port_map *in;
	size_t nin;
	char **out; /* rule texts */
	size_t nout;
	uint64_t rate, burst;
};
void net_saved_format(const struct net_saved *s, sbuf *out);
int net_saved_parse(const char *text, struct net_saved *s, gfs_err *err);
void net_saved_free(struct net_saved *s);

/* ---- nfttext.c: nft batches.  Every batch is idempotent where it can be:
 * it adds what it deletes first, so that a batch never fails on something
 * already gone. */

/* The table's name for a tag: "gardenfs_TAG". */
void net_nft_table(char out[32], const char *tag);
/* Table, sets, maps, base chains and their rules; the deny set is
 * refilled.  ext_ip "" when the host has none: DNAT then applies to every
 * local address but loopback. */
void net_nft_setup_text(sbuf *b, const char *table, struct net_cidr pool,
			const struct net_cidr *deny, size_t ndeny,
			const char *ext_ip);
/* One container, whole: its chain refilled with its rules (the last
 * first), its address and bridge in the dispatch map and set, its
 * ports. */
struct net_nft_ctr {
	uint32_t ip;
	const char *bridge;
	const char *log_prefix;
	struct net_rule *const *rules;
	size_t nrules;
	const struct net_port_map *in;
	size_t nin;
};
void net_nft_ctr_text(sbuf *b, const char *table, const struct net_nft_ctr *c);
/* Removes what net_nft_ctr_text added; the bridge's element only when
 * drop_bridge (the subnet's last container). */
void net_nft_ctr_del_text(sbuf *b, const char *table,
			  const struct net_nft_ctr *c, bool drop_bridge);
/* New rules at the top of the container's chain (later rules first). */
void net_nft_rules_text(sbuf *b, const char *table, uint32_t ip,
			const char *log_prefix, struct net_rule *const *rules,
			size_t n);
/* A port mapping added or removed. */
void net_nft_port_text(sbuf *b, const char *table, bool add, uint32_t host,
		       uint32_t ip, uint32_t ctr);
/* A container's chain: "out_XXXXXXXX". */
void net_nft_chain(char out[16], uint32_t ip);
bool net_nft_chain_parse(const char *name, uint32_t *ip);

/* ---- resolv.c */

/* host: /etc/resolv.conf's text; upstream: systemd-resolved's list (may
 * be NULL).  See net_resolv_text. */
char *net_resolv_compose(const char *host, const char *upstream);
char *net_hosts_compose(const char *ip, const char *handle);

/* ---- link.c: links, addresses, routes (libnl-route-3) */

struct nl_sock;
/* A libnl error (-NLE_*) as an errno and a reason: "what: libnl's text". */
int net_nl_error(gfs_err *err, int nlerr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int net_nl_open(struct nl_sock **out, gfs_err *err);
void net_nl_close(struct nl_sock *sk);
/* The network namespace of a live pid (checked through a pidfd, so a
 * recycled pid is not taken for it).  -ESRCH when it is gone. */
int net_ns_open(pid_t pid, gfs_err *err);
/* A netlink socket that works in the namespace nsfd: the thread enters it,
 * opens the socket and goes back before returning. */
int net_ns_nl_open(int nsfd, struct nl_sock **out, gfs_err *err);
/* Index of a link, -ENODEV when absent. */
int net_link_index(struct nl_sock *sk, const char *name, gfs_err *err);
/* The bridge up with gateway/prefix on it; made when missing. */
int net_link_bridge(struct nl_sock *sk, const char *name, uint32_t gateway,
		    unsigned prefix, unsigned mtu, gfs_err *err);
/* A veth pair: host end `host` in bridge `bridge`, up; its peer eth0 in the
 * namespace nsfd (still down).  -EEXIST when host exists. */
int net_link_veth(struct nl_sock *sk, const char *host, const char *bridge,
		  int nsfd, unsigned mtu, gfs_err *err);
/* The host end up and in its bridge (a restore). */
int net_link_veth_fix(struct nl_sock *sk, const char *host, const char *bridge,
		      gfs_err *err);
/* In the container's namespace (sk from net_ns_nl_open): eth0 up with
 * ip/prefix and a default route via gateway; what is there is kept. */
int net_link_ctr_config(struct nl_sock *sk, uint32_t ip, unsigned prefix,
			uint32_t gateway, gfs_err *err);
/* Deletes a link; one already gone is no error. */
int net_link_del(struct nl_sock *sk, const char *name, gfs_err *err);
/* Calls fn for every link of ours (by name). */
int net_link_each_ours(struct nl_sock *sk, const char *tag,
		       void (*fn)(const char *name, char kind, uint32_t ip,
				  void *arg),
		       void *arg, gfs_err *err);
/* The device of the default route: its IPv4 address ("" when none) and
 * MTU (1500 when there is no default route). */
int net_link_uplink(struct nl_sock *sk, char ext_ip[16], unsigned *mtu,
		    gfs_err *err);
/* -EBUSY when an address in pool is on a link that is not ours. */
int net_link_pool_free(struct nl_sock *sk, struct net_cidr pool,
		       const char *tag, gfs_err *err);
int net_link_stats(struct nl_sock *sk, const char *name, struct net_stats *out,
		   gfs_err *err);
/* IPv6 off on a host link of ours (no link-local address for a container
 * to reach the host by, outside the IPv4 rules); no error without IPv6. */
void net_link_no_ipv6(const char *name);
/* Sets IFF_UP. */
int net_link_up(struct nl_sock *sk, const char *name, gfs_err *err);

/* ---- tc.c: bandwidth (libnl-route-3) */

/* rate 0: net_tc_clear.  Otherwise: tbf at host's root (traffic into the
 * container) and host's ingress redirected by u32 + mirred to the ifb
 * `ifb` (made here) with the same tbf (traffic out of it).  When all of
 * that is in place only the two tbfs are replaced; when any piece is
 * missing or wrong (a restore) it is all made again. */
int net_tc_set(struct nl_sock *sk, const char *host, const char *ifb,
	       uint64_t rate, uint64_t burst, gfs_err *err);
/* Removes both qdiscs and the ifb; what is already gone is no error. */
int net_tc_clear(struct nl_sock *sk, const char *host, const char *ifb,
		 gfs_err *err);

/* ---- nft.c: libnftables (callers hold the library's lock) */

int net_nft_open(gfs_err *err);
void net_nft_close(void);
/* Runs one batch, atomically. */
int net_nft_run(const char *batch, gfs_err *err);
/* What is in the table now, for restore and gc. */
struct net_nft_state {
	char **chains; /* out_* chains */
	size_t nchains;
	uint32_t *ctrs; /* keys of the ctrs map */
	size_t nctrs;
	struct net_nft_port {
		uint32_t host, ip, ctr;
	} * ports; /* the ports map */
	size_t nports;
	char **bridges; /* the bridges set */
	size_t nbridges;
};
int net_nft_list(const char *table, struct net_nft_state *st, gfs_err *err);
void net_nft_state_free(struct net_nft_state *st);

#endif
