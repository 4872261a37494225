/* Container networking: the loopback of a fresh namespace (net_lo_up, the
 * one piece gardenfs-init links), and the daemon's library for everything
 * else: an address per container from the pool, a bridge per subnet, a veth
 * pair into the container, NAT and the net/in mappings, net/out rules with
 * --deny-networks, bandwidth shaping, counters.  Links, addresses, routes
 * and tc go through libnl-route-3, the firewall through libnftables (one
 * table per daemon).  docs/net.md describes what is built and why.
 *
 * Threads: every function may be called from any thread, concurrently for
 * different containers; calls for the same container must not overlap (the
 * caller serializes them, as it does every other operation on a
 * container).  Shared state sits behind one mutex.  A function that enters
 * a container's network namespace restores the calling thread's own before
 * it returns.
 *
 * Call order: net_config_check (pure) and net_setup once; after a daemon
 * restart net_ctr_restore for every live container, then net_gc once; then
 * anything.  net_teardown when the daemon stops with no container left,
 * net_shutdown last. */
#ifndef GFS_NET_H
#define GFS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/err.h"

/* Brings "lo" up in the caller's network namespace (gardenfs-init). */
int net_lo_up(gfs_err *err);

#define NET_POOL_DEFAULT       "10.254.0.0/22"
#define NET_PORT_FIRST_DEFAULT 60000
#define NET_PORT_LAST_DEFAULT  64999
/* A tag is 1..NET_TAG_MAX bytes of [a-z0-9]. */
#define NET_TAG_MAX 6

struct net_config {
	const char *pool; /* CIDR for container addresses; NULL: the default */
	uint16_t port_first, port_last; /* net/in's host ports; 0,0: default */
	const char *deny; /* "CIDR,CIDR,..." (a bare IP is a /32); NULL: none */
	const char *tag;  /* unique per depot: names every link and the table */
	const char *state_dir; /* exists; holds the port queue ("ports") */
};

/* Pure: validates pool (an exact network, prefix 1..30), ports
 * (1 <= first <= last), deny, tag.  -EINVAL with the reason. */
int net_config_check(const struct net_config *cfg, gfs_err *err);
/* How many /30s the pool holds (0 when cfg is invalid). */
uint64_t net_pool_capacity(const struct net_config *cfg);

/* Once per daemon: nft table "gardenfs_TAG" with its base chains, sets and
 * masquerade; ip_forward=1; finds the uplink (external IP, MTU); loads the
 * port queue.  Idempotent: a restarted daemon calls it again and the live
 * containers' rules, links and qdiscs stay as they are.  -EBUSY when an
 * address inside the pool is already on a host link that is not ours. */
int net_setup(const struct net_config *cfg, gfs_err *err);
/* Frees the library's memory, and every net_ctr still held (their pointers
 * die); kernel state stays for the live containers.  No call may be in
 * flight. */
void net_shutdown(void);
/* Removes the table and every link of ours (bridges, veths, ifbs), for a
 * daemon that stops with no container left (-EBUSY while it holds one).
 * The port queue file stays, so the order survives. */
int net_teardown(gfs_err *err);

struct net_ctr; /* one container's network */

/* Checks `network=IP/PREFIX` before anything is made: syntax and prefix
 * (<= 30) -EINVAL; outside the pool, the subnet's gateway or broadcast
 * -EINVAL; overlapping a live subnet of another prefix, or the address
 * taken -EBUSY; no free address left in the subnet -ENOSPC.  A later
 * net_ctr_create may still lose the race for the address. */
int net_spec_check(const char *network, gfs_err *err);

/* Makes the container's network: network NULL takes the pool's lowest free
 * /30 (host side .1, container .2); "IP/PREFIX" with the subnet's network
 * address takes the subnet's lowest free address, any other IP that exact
 * address (errors as net_spec_check).  The host side of a subnet is its
 * first address (.1) on the subnet's bridge, shared by its containers.  In
 * the container (init_pid's network namespace): eth0 with the address,
 * up, the uplink's MTU, a default route via the host side.  -ESRCH when
 * init_pid is gone.  Nothing is left behind on failure. */
int net_ctr_create(const char *handle, pid_t init_pid, const char *network,
		   struct net_ctr **out, gfs_err *err);
/* After a daemon restart: takes back what `saved` (net_ctr_save's text)
 * holds -- address, host ports, rules, bandwidth -- and rebuilds on the
 * host and in the container whatever is missing (bridge, veth, eth0's
 * address and route, nft rules and elements, qdiscs and ifb).  -EBUSY
 * when the address or a port is held by another container, -EINVAL for
 * text that does not parse or an address outside the (new) pool. */
int net_ctr_restore(const char *handle, pid_t init_pid, const char *saved,
		    struct net_ctr **out, gfs_err *err);
/* Once, after every restore: removes the links (by name: our tag), nft
 * chains and elements, and qdiscs and ifbs of ours that belong to no
 * net_ctr held now (the live containers are those restored or created
 * since net_setup), and puts host ports nobody holds back into the
 * queue. */
int net_gc(gfs_err *err);
/* The text to persist after every successful change (create, restore,
 * net_in, net_out, bandwidth) and to hand back to net_ctr_restore. */
void net_ctr_save(const struct net_ctr *nc, sbuf *out);
/* Removes every link, address, route, qdisc, rule and element it made,
 * releases the address and the host ports (to the BACK of the queue), and
 * frees nc.  Idempotent on what is already gone (a dead container's veth
 * went with its namespace).  On failure nc stays valid and may be given
 * again (its ports are free already, its address not yet); or net_ctr_free
 * it and let a later net_gc clean up.  Slow kernel work (link deletion)
 * runs without the library's lock. */
int net_ctr_destroy(struct net_ctr *nc, gfs_err *err);
/* Frees memory only (daemon exit: the network stays for the restart). */
void net_ctr_free(struct net_ctr *nc);

struct net_info {
	char host_ip[16], container_ip[16], external_ip[16];
};
void net_ctr_info(const struct net_ctr *nc, struct net_info *out);

/* net/in: maps TCP host_port on the external IP (from outside, from other
 * containers and from the host itself; not 127.0.0.1) to ctr_port in the
 * container.  host_port 0: the next port of the queue that no host process
 * has bound; ctr_port 0: the same as the host port.  Ports above 65535
 * -EINVAL; a host port already mapped, or bound by a host process -EBUSY;
 * the queue exhausted -ENOSPC.  The pair made comes back in *host_out and
 * *ctr_out. */
int net_ctr_net_in(struct net_ctr *nc, uint32_t host_port, uint32_t ctr_port,
		   uint32_t *host_out, uint32_t *ctr_out, gfs_err *err);
/* "HOST CONTAINER\n" per mapping, in the order made. */
void net_ctr_list_in(const struct net_ctr *nc, sbuf *out);
struct net_port_map {
	uint32_t host, ctr;
};
/* The mappings, in the order made, as a malloc'd array (info's
 * mapped_ports, the HTTP front).  Returns how many. */
size_t net_ctr_ports(const struct net_ctr *nc, struct net_port_map **out);

/* A net/out rule (Garden's NetOutRule). */
struct net_rule;
/* Garden's Protocol numbering. */
enum net_proto {
	NET_PROTO_ALL = 0,
	NET_PROTO_TCP = 1,
	NET_PROTO_UDP = 2,
	NET_PROTO_ICMP = 3
};
/* Pure.  The text grammar: blank-separated words `protocol=tcp|udp|icmp|all`
 * (default all), `network=IP` or `network=IP-IP` (repeatable; none: any
 * destination), `port=N` or `port=N-M` (1..65535, repeatable, only with
 * tcp or udp), `icmp=TYPE` or `icmp=TYPE/CODE` (0..255, only with icmp),
 * `log=true|false`.  Unknown keys, repeated single keys, bad values,
 * empty text, newlines: -EINVAL.  The text is kept as written. */
int net_rule_parse(const char *text, struct net_rule **out, gfs_err *err);
/* Builder for fronts that get the rule as fields (Garden's JSON: protocol,
 * networks [{start,end}], ports [{start,end}], icmps {type,code}, log):
 * net_rule_new, then the adders (each checks its own value, -EINVAL), then
 * net_rule_finish (the cross checks, as net_rule_parse makes them) before
 * net_ctr_net_out.  A finished rule's text is the canonical text form. */
struct net_rule *net_rule_new(enum net_proto proto);
/* end NULL or "": the single address start. */
int net_rule_add_network(struct net_rule *r, const char *start, const char *end,
			 gfs_err *err);
int net_rule_add_ports(struct net_rule *r, uint32_t start, uint32_t end,
		       gfs_err *err);
/* code -1: any code. */
int net_rule_set_icmp(struct net_rule *r, int type, int code, gfs_err *err);
void net_rule_set_log(struct net_rule *r, bool log);
int net_rule_finish(struct net_rule *r, gfs_err *err);
/* The rule as listed in net/out (NULL before net_rule_finish). */
const char *net_rule_text(const struct net_rule *r);
void net_rule_free(struct net_rule *r);

/* net/out: adds rules (finished) in one nft batch (Garden's BulkNetOut);
 * on success nc owns them, on failure nothing changed and the caller still
 * does.  Traffic to --deny-networks is dropped unless a rule allows it;
 * later rules are matched first, so for logging the later rule wins. */
int net_ctr_net_out(struct net_ctr *nc, struct net_rule *const *rules, size_t n,
		    gfs_err *err);
/* One rule a line, as written, in the order given. */
void net_ctr_list_out(const struct net_ctr *nc, sbuf *out);

/* limits/bandwidth: bytes/s and bytes, both directions shaped (traffic into
 * the container and out of it).  0,0 removes the limit.  One of them 0, a
 * rate of 2G (2^31 bytes/s) or more, a burst above 1G, below one frame
 * (MTU + 14: no packet would pass) or above 250 s worth of rate: -EINVAL.
 * On failure the old limit stays. */
int net_ctr_bandwidth(struct net_ctr *nc, uint64_t rate, uint64_t burst,
		      gfs_err *err);
void net_ctr_bandwidth_get(const struct net_ctr *nc, uint64_t *rate,
			   uint64_t *burst);

/* Counters of the container's eth0 as the container sees them (read from
 * the host side of the veth, rx and tx swapped; packets the shaper drops
 * are not counted). */
struct net_stats {
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets, rx_dropped,
	    tx_dropped;
};
int net_ctr_stats(const struct net_ctr *nc, struct net_stats *out,
		  gfs_err *err);

/* /etc/hosts for the container: the localhost lines and handle at the
 * container's address (left out when the handle is not one word).
 * malloc'd. */
char *net_hosts_text(const struct net_ctr *nc, const char *handle);
/* /etc/resolv.conf for the container: the host's IPv4 nameservers and its
 * search/options lines; when those nameservers are only loopback ones (a
 * local stub such as systemd-resolved's 127.0.0.53) the upstream ones from
 * /run/systemd/resolve/resolv.conf, and when there are none either,
 * 8.8.8.8 and 8.8.4.4.  malloc'd. */
char *net_resolv_text(void);

#endif
