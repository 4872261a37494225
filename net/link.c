/* Links, addresses and routes through libnl-route-3: the bridges, the veth
 * pairs, a container's eth0, the uplink, counters; and the one place that
 * enters a container's network namespace.  Every function opens nothing
 * it does not close; a libnl socket is used by one thread at a time. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "lib/buf.h"
#include "net/priv.h"

static int nl_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_EXIST:
		return EEXIST;
	case NLE_NODEV:
	case NLE_OBJ_NOTFOUND:
		return ENODEV;
	case NLE_PERM:
		return EPERM;
	case NLE_BUSY:
		return EBUSY;
	case NLE_INVAL:
	case NLE_MISSING_ATTR:
		return EINVAL;
	case NLE_RANGE:
		return ERANGE;
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_OPNOTSUPP:
		return EOPNOTSUPP;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_AGAIN:
		return EAGAIN;
	default:
		return EIO;
	}
}

int net_nl_error(gfs_err *err, int nlerr, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return gfs_error(err, nl_to_errno(nlerr), "%s: %s", what,
			 nl_geterror(nlerr));
}

static bool gone(int nlerr)
{
	return nlerr == -NLE_NODEV || nlerr == -NLE_OBJ_NOTFOUND;
}

int net_nl_open(struct nl_sock **out, gfs_err *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return gfs_error(err, ENOMEM, "netlink socket");
	int r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return net_nl_error(err, r, "netlink socket");
	}
	*out = sk;
	return 0;
}

void net_nl_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}

/* ---- namespaces */

int net_ns_open(pid_t pid, gfs_err *err)
{
	char path[64];
	if (pid <= 0)
		return gfs_error(err, ESRCH, "no process %d", (int)pid);
	cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		int e = errno;
		return gfs_error_sys(err, e, "process %d", (int)pid);
	}
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gfs_error_sys(err, ESRCH, "%s", path);
	/* the pidfd was taken first: if that process is still alive, the
	 * namespace is its own and not a recycled pid's */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
		close(fd);
		return gfs_error(err, ESRCH, "process %d is gone", (int)pid);
	}
	return fd;
}

int net_ns_nl_open(int nsfd, struct nl_sock **out, gfs_err *err)
{
	cleanup_close int self =
	    open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return gfs_error_sys(err, errno, "/proc/thread-self/ns/net");
	if (setns(nsfd, CLONE_NEWNET) < 0)
		return gfs_error_sys(
		    err, errno, "entering the container's network namespace");
	/* a netlink socket stays in the namespace it was made in: open it
	 * there and leave at once */
	struct nl_sock *sk = nl_socket_alloc();
	int r = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* a worker thread left in a container's namespace would do
		 * the next container's work in the wrong place */
		fprintf(
		    stderr,
		    "gardenfs: cannot return to the daemon's network namespace: %s\n",
		    strerror(errno));
		abort();
	}
	if (r < 0) {
		if (sk)
			nl_socket_free(sk);
		return net_nl_error(
		    err, r, "netlink socket in the container's namespace");
	}
	*out = sk;
	return 0;
}

/* ---- links */

static int get(struct nl_sock *sk, const char *name, struct rtnl_link **out,
	       gfs_err *err)
{
	int r = rtnl_link_get_kernel(sk, 0, name, out);
	if (r < 0)
		return gone(r) ? gfs_error(err, ENODEV, "no link %s", name)
			       : net_nl_error(err, r, "link %s", name);
	return 0;
}

int net_link_index(struct nl_sock *sk, const char *name, gfs_err *err)
{
	struct rtnl_link *l;
	int r = get(sk, name, &l, err);
	if (r < 0)
		return r;
	int i = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return i;
}

void net_link_no_ipv6(const char *name)
{
	char path[96];
	snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) < 0) {
		/* nothing to do: the link works without it */
	}
	close(fd);
}

static int set_up(struct nl_sock *sk, struct rtnl_link *l, gfs_err *err)
{
	if (rtnl_link_get_flags(l) & IFF_UP)
		return 0;
	struct rtnl_link *ch = rtnl_link_alloc();
	if (!ch)
		return gfs_error(err, ENOMEM, "link");
	rtnl_link_set_flags(ch, IFF_UP);
	int r = rtnl_link_change(sk, l, ch, 0);
	rtnl_link_put(ch);
	if (r < 0)
		return net_nl_error(err, r, "bringing %s up",
				    rtnl_link_get_name(l));
	return 0;
}

int net_link_up(struct nl_sock *sk, const char *name, gfs_err *err)
{
	struct rtnl_link *l;
	int r = get(sk, name, &l, err);
	if (r < 0)
		return r;
	r = set_up(sk, l, err);
	rtnl_link_put(l);
	return r;
}

static struct nl_addr *v4(uint32_t ip, unsigned prefix)
{
	uint32_t be = htonl(ip);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, 4);
	if (a)
		nl_addr_set_prefixlen(a, (int)prefix);
	return a;
}

/* ip/prefix on ifindex; there already is fine */
static int add_addr(struct nl_sock *sk, int ifindex, uint32_t ip,
		    unsigned prefix, gfs_err *err)
{
	char s[16];
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = v4(ip, prefix);
	struct nl_addr *bcast = v4(ip | ~net_mask(prefix), 32);
	int r = -NLE_NOMEM;
	if (a && local && bcast) {
		rtnl_addr_set_ifindex(a, ifindex);
		rtnl_addr_set_local(a, local);
		rtnl_addr_set_broadcast(a, bcast);
		r = rtnl_addr_add(sk, a, 0);
	}
	nl_addr_put(local);
	nl_addr_put(bcast);
	rtnl_addr_put(a);
	if (r < 0 && r != -NLE_EXIST) {
		net_ip_fmt(ip, s);
		return net_nl_error(err, r, "adding address %s/%u", s, prefix);
	}
	return 0;
}

int net_link_bridge(struct nl_sock *sk, const char *name, uint32_t gateway,
		    unsigned prefix, unsigned mtu, gfs_err *err)
{
	struct rtnl_link *l = NULL;
	int r = rtnl_link_get_kernel(sk, 0, name, &l);
	if (r < 0 && !gone(r))
		return net_nl_error(err, r, "link %s", name);
	if (r < 0) {
		struct rtnl_link *n = rtnl_link_alloc();
		if (!n)
			return gfs_error(err, ENOMEM, "bridge %s", name);
		rtnl_link_set_name(n, name);
		rtnl_link_set_type(n, "bridge");
		rtnl_link_set_mtu(n, mtu);
		r = rtnl_link_add(sk, n, NLM_F_CREATE | NLM_F_EXCL);
		rtnl_link_put(n);
		if (r < 0)
			return net_nl_error(err, r, "making bridge %s", name);
		/* before it is up, so it never gets a link-local address */
		net_link_no_ipv6(name);
		r = get(sk, name, &l, err);
		if (r < 0)
			return r;
	} else {
		const char *type = rtnl_link_get_type(l);
		if (!type || strcmp(type, "bridge") != 0) {
			rtnl_link_put(l);
			return gfs_error(err, EEXIST,
					 "link %s exists and is no bridge",
					 name);
		}
		net_link_no_ipv6(name);
	}
	r = add_addr(sk, rtnl_link_get_ifindex(l), gateway, prefix, err);
	if (r == 0)
		r = set_up(sk, l, err);
	rtnl_link_put(l);
	return r;
}

/* Hairpin mode on a bridge port: a container that reaches itself at the
 * external address has its DNATed packets bridged (br_netfilter) back out
 * the port they came in on, which a bridge otherwise never does. */
static int hairpin(struct nl_sock *sk, int ifindex, const char *dev,
		   gfs_err *err)
{
	/* a port's settings are AF_BRIDGE link messages */
	struct rtnl_link *o = rtnl_link_alloc();
	struct rtnl_link *c = rtnl_link_alloc();
	int r = -NLE_NOMEM;
	if (o && c) {
		rtnl_link_set_family(o, AF_BRIDGE);
		rtnl_link_set_family(c, AF_BRIDGE);
		rtnl_link_set_ifindex(o, ifindex);
		rtnl_link_bridge_set_flags(c, RTNL_BRIDGE_HAIRPIN_MODE);
		r = rtnl_link_change(sk, o, c, 0);
	}
	if (o)
		rtnl_link_put(o);
	if (c)
		rtnl_link_put(c);
	if (r < 0)
		return net_nl_error(err, r, "hairpin mode on %s", dev);
	return 0;
}

int net_link_veth(struct nl_sock *sk, const char *host, const char *bridge,
		  int nsfd, unsigned mtu, gfs_err *err)
{
	int br = net_link_index(sk, bridge, err);
	if (br < 0)
		return br;
	struct rtnl_link *l = rtnl_link_veth_alloc();
	if (!l)
		return gfs_error(err, ENOMEM, "veth %s", host);
	struct rtnl_link *peer = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(l, host);
	rtnl_link_set_mtu(l, mtu);
	rtnl_link_set_master(l, br);
	/* the peer is made right in the container's namespace: it never
	 * exists on the host under a name that could clash */
	rtnl_link_set_name(peer, "eth0");
	rtnl_link_set_mtu(peer, mtu);
	rtnl_link_set_ns_fd(peer, nsfd);
	/* (IFF_UP on the peer here makes the kernel refuse the pair:
	 * ctr_config brings eth0 up from inside) */
	int r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_put(l);
	if (r < 0)
		return net_nl_error(err, r, "making veth %s", host);
	net_link_no_ipv6(host);
	int i = net_link_index(sk, host, err);
	r = i < 0 ? i : hairpin(sk, i, host, err);
	return r < 0 ? r : net_link_up(sk, host, err);
}

int net_link_veth_fix(struct nl_sock *sk, const char *host, const char *bridge,
		      gfs_err *err)
{
	int br = net_link_index(sk, bridge, err);
	if (br < 0)
		return br;
	struct rtnl_link *l;
	int r = get(sk, host, &l, err);
	if (r < 0)
		return r;
	if (rtnl_link_get_master(l) != br) {
		r = rtnl_link_enslave_ifindex(sk, br, rtnl_link_get_ifindex(l));
		if (r < 0) {
			rtnl_link_put(l);
			return net_nl_error(err, r, "putting %s into %s", host,
					    bridge);
		}
	}
	net_link_no_ipv6(host);
	r = hairpin(sk, rtnl_link_get_ifindex(l), host, err);
	if (r == 0)
		r = set_up(sk, l, err);
	rtnl_link_put(l);
	return r;
}

int net_link_ctr_config(struct nl_sock *sk, uint32_t ip, unsigned prefix,
			uint32_t gateway, gfs_err *err)
{
	struct rtnl_link *l;
	int r = get(sk, "eth0", &l, err);
	if (r < 0)
		return gfs_error_wrap(err, "in the container");
	int ifindex = rtnl_link_get_ifindex(l);
	r = add_addr(sk, ifindex, ip, prefix, err);
	if (r == 0)
		r = set_up(sk, l, err);
	rtnl_link_put(l);
	if (r < 0)
		return gfs_error_wrap(err, "in the container");

	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = v4(0, 0), *gw = v4(gateway, 32);
	r = -NLE_NOMEM;
	if (rt && nh && dst && gw) {
		rtnl_route_set_family(rt, AF_INET);
		rtnl_route_set_table(rt, RT_TABLE_MAIN);
		rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
		rtnl_route_set_type(rt, RTN_UNICAST);
		rtnl_route_set_protocol(rt, RTPROT_BOOT);
		rtnl_route_set_dst(rt, dst);
		rtnl_route_nh_set_ifindex(nh, ifindex);
		rtnl_route_nh_set_gateway(nh, gw);
		rtnl_route_add_nexthop(rt, nh);
		nh = NULL; /* the route owns it now */
		r = rtnl_route_add(sk, rt, NLM_F_REPLACE);
	}
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(dst);
	nl_addr_put(gw);
	if (rt)
		rtnl_route_put(rt);
	if (r < 0)
		return net_nl_error(err, r, "in the container: default route");
	return 0;
}

int net_link_del(struct nl_sock *sk, const char *name, gfs_err *err)
{
	struct rtnl_link *l = rtnl_link_alloc();
	if (!l)
		return gfs_error(err, ENOMEM, "link %s", name);
	rtnl_link_set_name(l, name);
	int r = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	if (r < 0 && !gone(r))
		return net_nl_error(err, r, "deleting link %s", name);
	return 0;
}

struct names {
	char (*v)[16];
	char *kind;
	uint32_t *ip;
	size_t n;
	const char *tag;
};

static void collect(struct nl_object *o, void *arg)
{
	struct names *ns = arg;
	const char *name = rtnl_link_get_name((struct rtnl_link *)o);
	char k;
	uint32_t ip;
	if (!name || !net_link_name_parse(name, ns->tag, &k, &ip))
		return;
	ns->v = xrealloc(ns->v, (ns->n + 1) * sizeof *ns->v);
	ns->kind = xrealloc(ns->kind, ns->n + 1);
	ns->ip = xrealloc(ns->ip, (ns->n + 1) * sizeof *ns->ip);
	snprintf(ns->v[ns->n], 16, "%s", name);
	ns->kind[ns->n] = k;
	ns->ip[ns->n] = ip;
	ns->n++;
}

int net_link_each_ours(struct nl_sock *sk, const char *tag,
		       void (*fn)(const char *name, char kind, uint32_t ip,
				  void *arg),
		       void *arg, gfs_err *err)
{
	struct nl_cache *cache;
	int r = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (r < 0)
		return net_nl_error(err, r, "listing links");
	struct names ns = {.tag = tag};
	nl_cache_foreach(cache, collect, &ns);
	nl_cache_free(cache);
	/* the names are copied first: fn may delete links */
	for (size_t i = 0; i < ns.n; i++)
		fn(ns.v[i], ns.kind[i], ns.ip[i], arg);
	free(ns.v);
	free(ns.kind);
	free(ns.ip);
	return 0;
}

static uint32_t nl_v4(struct nl_addr *a)
{
	uint32_t be = 0;
	if (a && nl_addr_get_family(a) == AF_INET && nl_addr_get_len(a) == 4)
		memcpy(&be, nl_addr_get_binary_addr(a), 4);
	return ntohl(be);
}

struct uplink {
	int ifindex;
	uint32_t gw, src, prio;
	bool found;
};

static void default_route(struct nl_object *o, void *arg)
{
	struct uplink *u = arg;
	struct rtnl_route *rt = (struct rtnl_route *)o;
	if (rtnl_route_get_family(rt) != AF_INET ||
	    rtnl_route_get_table(rt) != RT_TABLE_MAIN ||
	    rtnl_route_get_type(rt) != RTN_UNICAST ||
	    nl_addr_get_prefixlen(rtnl_route_get_dst(rt)) != 0 ||
	    rtnl_route_get_nnexthops(rt) < 1)
		return;
	if (u->found && rtnl_route_get_priority(rt) >= u->prio)
		return;
	struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);
	u->found = true;
	u->prio = rtnl_route_get_priority(rt);
	u->ifindex = rtnl_route_nh_get_ifindex(nh);
	u->gw = nl_v4(rtnl_route_nh_get_gateway(nh));
	u->src = nl_v4(rtnl_route_get_pref_src(rt));
}

struct addr_pick {
	int ifindex;
	uint32_t gw, best;
	bool in_subnet;
};

static void pick_addr(struct nl_object *o, void *arg)
{
	struct addr_pick *p = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	if (rtnl_addr_get_family(a) != AF_INET ||
	    rtnl_addr_get_ifindex(a) != p->ifindex ||
	    rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE)
		return;
	struct nl_addr *l = rtnl_addr_get_local(a);
	uint32_t ip = nl_v4(l);
	unsigned pl = (unsigned)rtnl_addr_get_prefixlen(a);
	bool in = p->gw && (ip & net_mask(pl)) == (p->gw & net_mask(pl));
	/* the address in the gateway's subnet, else the first one */
	if (!p->best || (in && !p->in_subnet)) {
		p->best = ip;
		p->in_subnet = in;
	}
}

int net_link_uplink(struct nl_sock *sk, char ext_ip[16], unsigned *mtu,
		    gfs_err *err)
{
	struct nl_cache *routes, *addrs;
	struct uplink u = {0};
	ext_ip[0] = '\0';
	*mtu = 1500;
	int r = rtnl_route_alloc_cache(sk, AF_INET, 0, &routes);
	if (r < 0)
		return net_nl_error(err, r, "listing routes");
	nl_cache_foreach(routes, default_route, &u);
	nl_cache_free(routes);
	if (!u.found || u.ifindex <= 0)
		return 0;
	struct rtnl_link *l;
	if (rtnl_link_get_kernel(sk, u.ifindex, NULL, &l) == 0) {
		*mtu = rtnl_link_get_mtu(l);
		rtnl_link_put(l);
	}
	uint32_t ip = u.src;
	if (!ip) {
		r = rtnl_addr_alloc_cache(sk, &addrs);
		if (r < 0)
			return net_nl_error(err, r, "listing addresses");
		struct addr_pick p = {.ifindex = u.ifindex, .gw = u.gw};
		nl_cache_foreach(addrs, pick_addr, &p);
		nl_cache_free(addrs);
		ip = p.best;
	}
	if (ip)
		net_ip_fmt(ip, ext_ip);
	return 0;
}

struct pool_check {
	struct nl_sock *sk;
	struct net_cidr pool;
	const char *tag;
	uint32_t clash;
	char dev[IF_NAMESIZE];
};

static void check_addr(struct nl_object *o, void *arg)
{
	struct pool_check *c = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)o;
	if (c->clash || rtnl_addr_get_family(a) != AF_INET)
		return;
	uint32_t ip = nl_v4(rtnl_addr_get_local(a));
	struct net_cidr one = {ip, 32};
	if (!net_cidr_contains(c->pool, one))
		return;
	char name[IF_NAMESIZE] = "";
	char k;
	uint32_t x;
	if_indextoname((unsigned)rtnl_addr_get_ifindex(a), name);
	if (net_link_name_parse(name, c->tag, &k, &x))
		return;
	c->clash = ip;
	snprintf(c->dev, sizeof c->dev, "%s", name);
}

int net_link_pool_free(struct nl_sock *sk, struct net_cidr pool,
		       const char *tag, gfs_err *err)
{
	struct nl_cache *addrs;
	int r = rtnl_addr_alloc_cache(sk, &addrs);
	if (r < 0)
		return net_nl_error(err, r, "listing addresses");
	struct pool_check c = {.sk = sk, .pool = pool, .tag = tag};
	nl_cache_foreach(addrs, check_addr, &c);
	nl_cache_free(addrs);
	if (c.clash) {
		char a[16], p[16];
		net_ip_fmt(c.clash, a);
		net_ip_fmt(pool.net, p);
		return gfs_error(
		    err, EBUSY,
		    "the network pool %s/%u holds %s, an address of %s", p,
		    pool.prefix, a, c.dev);
	}
	return 0;
}

int net_link_stats(struct nl_sock *sk, const char *name, struct net_stats *out,
		   gfs_err *err)
{
	struct rtnl_link *l;
	int r = get(sk, name, &l, err);
	if (r < 0)
		return r;
	/* the host end's tx is what the container received */
	out->rx_bytes = rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES);
	out->tx_bytes = rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES);
	out->rx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS);
	out->tx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS);
	out->rx_dropped = rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED);
	out->tx_dropped = rtnl_link_get_stat(l, RTNL_LINK_RX_DROPPED);
	rtnl_link_put(l);
	return 0;
}
