/* The networking library's public half: the daemon-wide state (pool, port
 * queue, nft context, the containers held) behind one mutex, and each
 * container's network made, changed, rebuilt and removed.  net.h says what
 * every function promises; docs/net.md what gets built.
 *
 * Every change to the kernel is ordered so that a failure leaves what was
 * there: the nft batch (all or nothing) goes first where a later failure
 * can take it back, and memory (pool, queue, the container's lists) changes
 * only once the kernel has. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "net/net.h"
#include "net/priv.h"

struct net_ctr {
	struct net_ctr *prev, *next; /* the containers held */
	char *handle;
	pid_t pid;
	struct net_lease lease;
	char veth[16], bridge[16], ifb[16];
	char log_prefix[32];
	struct net_port_map *in;
	size_t nin;
	struct net_rule **out;
	size_t nout;
	uint64_t rate, burst;
};

static struct {
	pthread_mutex_t lock;
	bool up;
	struct net_cidr pool;
	struct net_cidr *deny;
	size_t ndeny;
	char tag[NET_TAG_MAX + 1];
	char table[32];
	char *state_dir;
	char ext_ip[16];
	unsigned mtu;
	struct net_pool leases;
	struct net_ports ports;
	struct net_ctr *ctrs;
	/* bridges a destroy is deleting with the lock let go; a create in
	 * that subnet waits on cond until they are gone */
	char (*doomed)[16];
	size_t ndoomed;
	pthread_cond_t cond;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void unlockp(pthread_mutex_t **m)
{
	if (*m)
		pthread_mutex_unlock(*m);
}
/* The lock, let go when the scope ends. */
#define LOCKED                                                                 \
	__attribute__((cleanup(unlockp))) pthread_mutex_t *_held = &g.lock;    \
	pthread_mutex_lock(_held)

static void nl_closep(struct nl_sock **sk)
{
	net_nl_close(*sk);
}
#define cleanup_nl __attribute__((cleanup(nl_closep)))

/* ---- configuration */

struct cfg {
	struct net_cidr pool;
	unsigned first, last;
	struct net_cidr *deny;
	size_t ndeny;
};

static int parse_config(const struct net_config *c, struct cfg *out,
			gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	memset(out, 0, sizeof *out);
	const char *pool = c->pool ? c->pool : NET_POOL_DEFAULT;
	int r = net_cidr_parse(pool, false, true, &out->pool, NULL, err);
	if (r < 0)
		return gfs_error_wrap(err, "network pool");
	if (out->pool.prefix < 1 || out->pool.prefix > 30)
		return gfs_error(err, EINVAL,
				 "network pool `%s`: the prefix must be 1..30",
				 gfs_excerpt(ex, pool, strlen(pool)));
	out->first = c->port_first;
	out->last = c->port_last;
	if (!out->first && !out->last) {
		out->first = NET_PORT_FIRST_DEFAULT;
		out->last = NET_PORT_LAST_DEFAULT;
	}
	if (out->first < 1 || out->first > out->last)
		return gfs_error(err, EINVAL,
				 "port pool %u-%u: want 1 <= FIRST <= LAST",
				 out->first, out->last);
	if (!net_tag_is_valid(c->tag))
		return gfs_error(
		    err, EINVAL, "network tag `%s`: want 1..%d of [a-z0-9]",
		    c->tag ? gfs_excerpt(ex, c->tag, strlen(c->tag)) : "",
		    NET_TAG_MAX);
	if (!c->state_dir || !*c->state_dir)
		return gfs_error(err, EINVAL, "network: no state directory");
	r = net_cidr_list_parse(c->deny, &out->deny, &out->ndeny, err);
	if (r < 0)
		return gfs_error_wrap(err, "deny networks");
	return 0;
}

int net_config_check(const struct net_config *cfg, gfs_err *err)
{
	struct cfg c;
	int r = parse_config(cfg, &c, err);
	free(c.deny);
	return r;
}

uint64_t net_pool_capacity(const struct net_config *cfg)
{
	struct net_cidr pool;
	if (net_cidr_parse(cfg->pool ? cfg->pool : NET_POOL_DEFAULT, false,
			   true, &pool, NULL, GFS_IGNORE) < 0 ||
	    pool.prefix < 1 || pool.prefix > 30)
		return 0;
	return (uint64_t)1 << (30 - pool.prefix);
}

/* ---- the port queue file */

static char *ports_path(void)
{
	return xasprintf("%s/ports", g.state_dir);
}

/* Best effort: the file only keeps the order.  A stale one costs nothing
 * else, since restores take held ports out of the queue and net_gc puts
 * back what nobody holds. */
static void save_ports(void)
{
	sbuf b = SBUF_INIT;
	net_ports_format(&g.ports, &b);
	cleanup_free char *path = ports_path();
	cleanup_free char *tmp = xasprintf("%s/.ports.tmp", g.state_dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		bool ok = write(fd, b.s, b.len) == (ssize_t)b.len;
		ok = close(fd) == 0 && ok;
		if (!ok || rename(tmp, path) < 0)
			unlink(tmp);
	}
	sbuf_free(&b);
}

static int load_ports(gfs_err *err)
{
	cleanup_free char *path = ports_path();
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0
				       : gfs_error_sys(err, errno, "%s", path);
	sbuf b = SBUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		sbuf_add(&b, chunk, n);
	int r = net_ports_load(&g.ports, b.s ? b.s : "", err);
	sbuf_free(&b);
	return r < 0 ? gfs_error_wrap(err, "%s", path) : 0;
}

/* Is some host process bound to TCP port? */
static bool port_bound(unsigned port, void *arg)
{
	(void)arg;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	int one = 1;
	/* so that a connection in TIME_WAIT does not count */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_ANY)};
	bool busy = bind(fd, (struct sockaddr *)&a, sizeof a) < 0 &&
		    errno == EADDRINUSE;
	close(fd);
	return busy;
}

/* ---- set up and take down */

static int ip_forward(gfs_err *err)
{
	const char *path = "/proc/sys/net/ipv4/ip_forward";
	char v = 0;
	cleanup_close int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return gfs_error_sys(err, errno, "%s", path);
	if (read(fd, &v, 1) == 1 && v == '1')
		return 0;
	if (pwrite(fd, "1\n", 2, 0) != 2)
		return gfs_error_sys(err, errno, "setting %s", path);
	return 0;
}

static void drop_state(void)
{
	free(g.doomed);
	g.doomed = NULL;
	g.ndoomed = 0;
	net_pool_free(&g.leases);
	net_ports_free(&g.ports);
	free(g.deny);
	g.deny = NULL;
	g.ndeny = 0;
	free(g.state_dir);
	g.state_dir = NULL;
	net_nft_close();
	g.up = false;
}

int net_setup(const struct net_config *cfg, gfs_err *err)
{
	LOCKED;
	struct cfg c;
	cleanup_nl struct nl_sock *sk = NULL;
	if (g.up)
		return gfs_error(err, EBUSY, "network: already set up");
	int r = parse_config(cfg, &c, err);
	if (r < 0) {
		free(c.deny);
		return r;
	}
	g.pool = c.pool;
	g.deny = c.deny;
	g.ndeny = c.ndeny;
	snprintf(g.tag, sizeof g.tag, "%s", cfg->tag);
	net_nft_table(g.table, g.tag);
	g.state_dir = xstrdup(cfg->state_dir);
	net_pool_init(&g.leases, c.pool);
	net_ports_init(&g.ports, c.first, c.last);

	r = net_nl_open(&sk, err);
	if (r == 0)
		r = net_link_pool_free(sk, g.pool, g.tag, err);
	if (r == 0)
		r = net_link_uplink(sk, g.ext_ip, &g.mtu, err);
	if (r == 0)
		r = ip_forward(err);
	if (r == 0)
		r = load_ports(err);
	if (r == 0)
		r = net_nft_open(err);
	if (r == 0) {
		sbuf b = SBUF_INIT;
		net_nft_setup_text(&b, g.table, g.pool, g.deny, g.ndeny,
				   g.ext_ip);
		r = net_nft_run(b.s, err);
		sbuf_free(&b);
	}
	if (r < 0) {
		drop_state();
		return gfs_error_wrap(err, "network setup");
	}
	g.up = true;
	return 0;
}

static void ctr_free(struct net_ctr *nc)
{
	if (!nc)
		return;
	for (size_t i = 0; i < nc->nout; i++)
		net_rule_free(nc->out[i]);
	free(nc->out);
	free(nc->in);
	free(nc->handle);
	free(nc);
}

static void unlink_ctr(struct net_ctr *nc)
{
	if (nc->prev)
		nc->prev->next = nc->next;
	else if (g.ctrs == nc)
		g.ctrs = nc->next;
	if (nc->next)
		nc->next->prev = nc->prev;
	nc->prev = nc->next = NULL;
}

static void link_ctr(struct net_ctr *nc)
{
	nc->prev = NULL;
	nc->next = g.ctrs;
	if (g.ctrs)
		g.ctrs->prev = nc;
	g.ctrs = nc;
}

void net_shutdown(void)
{
	LOCKED;
	while (g.ctrs) {
		struct net_ctr *nc = g.ctrs;
		unlink_ctr(nc);
		ctr_free(nc);
	}
	drop_state();
}

static void del_link(const char *name, char kind, uint32_t ip, void *arg)
{
	(void)kind;
	(void)ip;
	net_link_del(arg, name, GFS_IGNORE);
}

int net_teardown(gfs_err *err)
{
	LOCKED;
	cleanup_nl struct nl_sock *sk = NULL;
	if (!g.up)
		return gfs_error(err, EIO, "network: not set up");
	if (g.ctrs)
		return gfs_error(err, EBUSY,
				 "network: containers still hold addresses");
	cleanup_free char *cmd = xasprintf(
	    "add table ip %s\ndelete table ip %s\n", g.table, g.table);
	int r = net_nft_run(cmd, err);
	if (r == 0)
		r = net_nl_open(&sk, err);
	if (r == 0)
		r = net_link_each_ours(sk, g.tag, del_link, sk, err);
	return r < 0 ? gfs_error_wrap(err, "network teardown") : 0;
}

static bool is_doomed(const char *bridge)
{
	for (size_t i = 0; i < g.ndoomed; i++)
		if (strcmp(g.doomed[i], bridge) == 0)
			return true;
	return false;
}

static void set_doomed(const char *bridge, bool on)
{
	if (on) {
		g.doomed =
		    xrealloc(g.doomed, (g.ndoomed + 1) * sizeof *g.doomed);
		snprintf(g.doomed[g.ndoomed++], 16, "%s", bridge);
		return;
	}
	for (size_t i = 0; i < g.ndoomed; i++)
		if (strcmp(g.doomed[i], bridge) == 0) {
			memmove(&g.doomed[i], &g.doomed[i + 1],
				(g.ndoomed - i - 1) * sizeof *g.doomed);
			g.ndoomed--;
			break;
		}
	pthread_cond_broadcast(&g.cond);
}

/* ---- one container */

static struct net_ctr *ctr_new(const char *handle, pid_t pid,
			       const struct net_lease *l)
{
	struct net_ctr *nc = xcalloc(1, sizeof *nc);
	nc->handle = xstrdup(handle);
	nc->pid = pid;
	nc->lease = *l;
	net_link_name(nc->veth, g.tag, NET_KIND_VETH, l->ip);
	net_link_name(nc->ifb, g.tag, NET_KIND_IFB, l->ip);
	net_link_name(nc->bridge, g.tag, NET_KIND_BRIDGE, l->sub.net);
	net_log_prefix(handle, nc->log_prefix);
	return nc;
}

static struct net_nft_ctr nft_view(const struct net_ctr *nc)
{
	return (struct net_nft_ctr){
	    .ip = nc->lease.ip,
	    .bridge = nc->bridge,
	    .log_prefix = nc->log_prefix,
	    .rules = nc->out,
	    .nrules = nc->nout,
	    .in = nc->in,
	    .nin = nc->nin,
	};
}

/* Does a container held, other than self, use self's subnet? */
static bool subnet_in_use(const struct net_ctr *self)
{
	for (const struct net_ctr *c = g.ctrs; c; c = c->next)
		if (c != self && c->lease.sub.net == self->lease.sub.net &&
		    c->lease.sub.prefix == self->lease.sub.prefix)
			return true;
	return false;
}

/* Removes nc's chain and elements (the bridge's when no other container
 * of the subnet is held). */
static int nft_remove(const struct net_ctr *nc, gfs_err *err)
{
	sbuf b = SBUF_INIT;
	struct net_nft_ctr v = nft_view(nc);
	net_nft_ctr_del_text(&b, g.table, &v, !subnet_in_use(nc));
	int r = net_nft_run(b.s, err);
	sbuf_free(&b);
	return r;
}

/* eth0 in the container: address, up, default route. */
static int ctr_config(const struct net_ctr *nc, int nsfd, gfs_err *err)
{
	struct nl_sock *in = NULL;
	int r = net_ns_nl_open(nsfd, &in, err);
	if (r < 0)
		return r;
	r = net_link_ctr_config(in, nc->lease.ip, nc->lease.sub.prefix,
				net_lease_gateway(&nc->lease), err);
	net_nl_close(in);
	return r;
}

/* The subnet's bridge and nc's veth pair, eth0 configured.  fresh: a new
 * container (a bridge without users is a leftover and made again);
 * otherwise a restore, which keeps what is there and fills gaps. */
static int plumb(struct nl_sock *sk, const struct net_ctr *nc, int nsfd,
		 bool fresh, bool *made_bridge, gfs_err *err)
{
	size_t users = net_pool_subnet_users(&g.leases, nc->lease.sub);
	gfs_err e2 = {0};
	int r;
	*made_bridge = false;
	if (users == 0) {
		if (fresh) {
			r = net_link_del(sk, nc->bridge, err);
			if (r < 0)
				return r;
		}
		*made_bridge = net_link_index(sk, nc->bridge, &e2) == -ENODEV;
	}
	r = net_link_bridge(sk, nc->bridge, net_lease_gateway(&nc->lease),
			    nc->lease.sub.prefix, g.mtu, err);
	if (r < 0)
		return r;
	int have = net_link_index(sk, nc->veth, &e2);
	if (have > 0 && fresh) {
		/* a leftover of a container that was not restored */
		r = net_link_del(sk, nc->veth, err);
		if (r < 0)
			return r;
		have = -ENODEV;
	}
	if (have > 0) {
		r = net_link_veth_fix(sk, nc->veth, nc->bridge, err);
		if (r == 0)
			r = ctr_config(nc, nsfd, err);
		if (r != -ENODEV)
			return r;
		/* the host end is there but eth0 is not: its peer is not
		 * in this container; start over */
		r = net_link_del(sk, nc->veth, err);
		if (r < 0)
			return r;
	} else if (have != -ENODEV) {
		*err = e2;
		return have;
	}
	r = net_link_veth(sk, nc->veth, nc->bridge, nsfd, g.mtu, err);
	if (r == 0)
		r = ctr_config(nc, nsfd, err);
	return r;
}

/* Takes back what plumb made for a container that failed to start. */
static void unplumb(struct nl_sock *sk, const struct net_ctr *nc,
		    bool made_bridge)
{
	net_link_del(sk, nc->veth, GFS_IGNORE);
	if (made_bridge)
		net_link_del(sk, nc->bridge, GFS_IGNORE);
}

int net_spec_check(const char *network, gfs_err *err)
{
	LOCKED;
	struct net_lease l;
	if (!g.up)
		return gfs_error(err, EIO, "network: not set up");
	return net_pool_pick(&g.leases, network, &l, err);
}

int net_ctr_create(const char *handle, pid_t init_pid, const char *network,
		   struct net_ctr **out, gfs_err *err)
{
	*out = NULL;
	if (!handle || !*handle)
		return gfs_error(err, EINVAL, "network: no handle");
	cleanup_close int nsfd = net_ns_open(init_pid, err);
	if (nsfd < 0)
		return gfs_error_wrap(err, "network");
	LOCKED;
	cleanup_nl struct nl_sock *sk = NULL;
	struct net_lease l;
	if (!g.up)
		return gfs_error(err, EIO, "network: not set up");
	int r;
	for (;;) {
		char br[16];
		r = net_pool_pick(&g.leases, network, &l, err);
		if (r < 0)
			return r;
		net_link_name(br, g.tag, NET_KIND_BRIDGE, l.sub.net);
		if (!is_doomed(br))
			break;
		/* its last container's destroy is deleting the bridge */
		pthread_cond_wait(&g.cond, &g.lock);
	}
	struct net_ctr *nc = ctr_new(handle, init_pid, &l);
	r = net_nl_open(&sk, err);
	if (r < 0) {
		ctr_free(nc);
		return r;
	}
	/* the rules first: the bridge is in the set that sends its traffic
	 * through from_ctr before any packet can cross it */
	sbuf b = SBUF_INIT;
	struct net_nft_ctr v = nft_view(nc);
	net_nft_ctr_text(&b, g.table, &v);
	r = net_nft_run(b.s, err);
	sbuf_free(&b);
	bool made_bridge = false;
	if (r == 0) {
		r = plumb(sk, nc, nsfd, true, &made_bridge, err);
		if (r < 0) {
			unplumb(sk, nc, made_bridge);
			nft_remove(nc, GFS_IGNORE);
		}
	}
	if (r == 0)
		r = net_pool_take(&g.leases, &l, err);
	if (r < 0) {
		ctr_free(nc);
		return gfs_error_wrap(err, "network of %s", handle);
	}
	link_ctr(nc);
	*out = nc;
	return 0;
}

int net_ctr_restore(const char *handle, pid_t init_pid, const char *saved,
		    struct net_ctr **out, gfs_err *err)
{
	*out = NULL;
	struct net_saved s;
	if (!handle || !*handle)
		return gfs_error(err, EINVAL, "network: no handle");
	int r = net_saved_parse(saved, &s, err);
	if (r < 0)
		return r;
	cleanup_close int nsfd = net_ns_open(init_pid, err);
	if (nsfd < 0) {
		net_saved_free(&s);
		return gfs_error_wrap(err, "network of %s", handle);
	}
	LOCKED;
	cleanup_nl struct nl_sock *sk = NULL;
	if (!g.up) {
		net_saved_free(&s);
		return gfs_error(err, EIO, "network: not set up");
	}
	struct net_ctr *nc = ctr_new(handle, init_pid, &s.lease);
	nc->rate = s.rate;
	nc->burst = s.burst;
	for (size_t i = 0; i < s.nout && r == 0; i++) {
		struct net_rule *rule;
		r = net_rule_parse(s.out[i], &rule, err);
		if (r < 0)
			break;
		nc->out = xrealloc(nc->out, (nc->nout + 1) * sizeof *nc->out);
		nc->out[nc->nout++] = rule;
	}
	nc->in = s.in;
	nc->nin = s.nin;
	s.in = NULL;
	s.nin = 0;
	net_saved_free(&s);

	/* the memory side first here: the address and ports are this
	 * container's unless another holds them */
	long *pos = xcalloc(nc->nin + 1, sizeof *pos);
	size_t held = 0;
	bool took = false;
	if (r == 0)
		r = net_pool_take(&g.leases, &nc->lease, err);
	took = r == 0;
	for (; r == 0 && held < nc->nin; held++) {
		unsigned p = nc->in[held].host;
		if (net_ports_is_held(&g.ports, p)) {
			r = gfs_error(err, EBUSY, "host port %u is held twice",
				      p);
			break;
		}
		pos[held] = net_ports_hold(&g.ports, p);
	}
	/* the kernel: nft elements of ports that now say something else
	 * (a crash between the kernel and the save) are replaced */
	struct net_nft_state st = {0};
	if (r == 0)
		r = net_nft_list(g.table, &st, err);
	if (r == 0) {
		sbuf b = SBUF_INIT;
		for (size_t i = 0; i < st.nports; i++)
			for (size_t j = 0; j < nc->nin; j++)
				if (st.ports[i].host == nc->in[j].host &&
				    (st.ports[i].ip != nc->lease.ip ||
				     st.ports[i].ctr != nc->in[j].ctr))
					sbuf_printf(
					    &b,
					    "delete element ip %s ports { %u }\n",
					    g.table, st.ports[i].host);
		struct net_nft_ctr v = nft_view(nc);
		net_nft_ctr_text(&b, g.table, &v);
		r = net_nft_run(b.s, err);
		sbuf_free(&b);
	}
	net_nft_state_free(&st);
	bool made_bridge;
	if (r == 0)
		r = net_nl_open(&sk, err);
	/* plumb counts this container among the subnet's users already */
	if (r == 0)
		r = plumb(sk, nc, nsfd, false, &made_bridge, err);
	if (r == 0)
		r = net_tc_set(sk, nc->veth, nc->ifb, nc->rate, nc->burst, err);
	if (r < 0) {
		/* the kernel keeps what it has: net_gc takes it when this
		 * container stays gone */
		while (held-- > 0)
			net_ports_unhold(&g.ports, nc->in[held].host,
					 pos[held]);
		if (took)
			net_pool_release(&g.leases, &nc->lease);
		free(pos);
		ctr_free(nc);
		return gfs_error_wrap(err, "restoring the network of %s",
				      handle);
	}
	free(pos);
	link_ctr(nc);
	save_ports();
	*out = nc;
	return 0;
}

static const struct net_ctr *live_ip(uint32_t ip)
{
	for (const struct net_ctr *c = g.ctrs; c; c = c->next)
		if (c->lease.ip == ip)
			return c;
	return NULL;
}

static bool live_bridge(const char *name)
{
	for (const struct net_ctr *c = g.ctrs; c; c = c->next)
		if (strcmp(c->bridge, name) == 0)
			return true;
	return false;
}

struct gc {
	struct nl_sock *sk;
	size_t removed;
};

static void gc_link(const char *name, char kind, uint32_t ip, void *arg)
{
	struct gc *gc = arg;
	const struct net_ctr *c = live_ip(ip);
	bool live = kind == NET_KIND_BRIDGE ? live_bridge(name)
		    : kind == NET_KIND_IFB  ? c && c->rate
					    : c != NULL;
	if (live)
		return;
	if (net_link_del(gc->sk, name, GFS_IGNORE) == 0)
		gc->removed++;
}

int net_gc(gfs_err *err)
{
	LOCKED;
	cleanup_nl struct nl_sock *sk = NULL;
	if (!g.up)
		return gfs_error(err, EIO, "network: not set up");
	struct net_nft_state st;
	int r = net_nft_list(g.table, &st, err);
	if (r < 0)
		return gfs_error_wrap(err, "network gc");
	sbuf b = SBUF_INIT;
	for (size_t i = 0; i < st.nctrs; i++)
		if (!live_ip(st.ctrs[i])) {
			char a[16];
			net_ip_fmt(st.ctrs[i], a);
			sbuf_printf(&b, "delete element ip %s ctrs { %s }\n",
				    g.table, a);
		}
	for (size_t i = 0; i < st.nchains; i++) {
		uint32_t ip;
		if (net_nft_chain_parse(st.chains[i], &ip) && !live_ip(ip))
			sbuf_printf(
			    &b, "flush chain ip %s %s\ndelete chain ip %s %s\n",
			    g.table, st.chains[i], g.table, st.chains[i]);
	}
	for (size_t i = 0; i < st.nports; i++) {
		const struct net_nft_port *p = &st.ports[i];
		const struct net_ctr *c = live_ip(p->ip);
		bool live = false;
		for (size_t j = 0; c && j < c->nin; j++)
			if (c->in[j].host == p->host && c->in[j].ctr == p->ctr)
				live = true;
		if (!live)
			sbuf_printf(&b, "delete element ip %s ports { %u }\n",
				    g.table, p->host);
	}
	for (size_t i = 0; i < st.nbridges; i++)
		if (!live_bridge(st.bridges[i]))
			sbuf_printf(&b,
				    "delete element ip %s bridges { \"%s\" }\n",
				    g.table, st.bridges[i]);
	net_nft_state_free(&st);
	if (b.len)
		r = net_nft_run(b.s, err);
	sbuf_free(&b);
	if (r == 0)
		r = net_nl_open(&sk, err);
	if (r == 0) {
		struct gc gc = {.sk = sk};
		r = net_link_each_ours(sk, g.tag, gc_link, &gc, err);
	}
	/* a live container without a limit keeps no qdisc or ifb */
	for (const struct net_ctr *c = g.ctrs; r == 0 && c; c = c->next)
		if (!c->rate)
			r = net_tc_clear(sk, c->veth, c->ifb, err);
	if (r < 0)
		return gfs_error_wrap(err, "network gc");
	net_ports_reconcile(&g.ports);
	save_ports();
	return 0;
}

void net_ctr_save(const struct net_ctr *nc, sbuf *out)
{
	struct net_saved s = {
	    .lease = nc->lease,
	    .in = nc->in,
	    .nin = nc->nin,
	    .rate = nc->rate,
	    .burst = nc->burst,
	};
	char **texts = xcalloc(nc->nout + 1, sizeof *texts);
	for (size_t i = 0; i < nc->nout; i++)
		texts[i] = nc->out[i]->text;
	s.out = texts;
	s.nout = nc->nout;
	net_saved_format(&s, out);
	free(texts);
}

/* Deleting links waits for the kernel (tens of ms for a bridge), so it
 * runs with the lock let go: the address stays leased meanwhile, so no new
 * container takes the veth's or the ifb's name, and the bridge is doomed,
 * so no new container joins it. */
int net_ctr_destroy(struct net_ctr *nc, gfs_err *err)
{
	cleanup_nl struct nl_sock *sk = NULL;
	bool last;
	int r;
	{
		LOCKED;
		/* not by leases: those of containers being destroyed still
		 * count there, and two of them would each leave the bridge
		 * to the other */
		last = !subnet_in_use(nc);
		sbuf b = SBUF_INIT;
		struct net_nft_ctr v = nft_view(nc);
		net_nft_ctr_del_text(&b, g.table, &v, last);
		r = net_nft_run(b.s, err);
		sbuf_free(&b);
		if (r < 0)
			return gfs_error_wrap(err, "removing the network of %s",
					      nc->handle);
		/* the DNAT is gone: the ports are free now, and once only
		 * (a retry after a failure below must not free them again
		 * when another container has them by then) */
		for (size_t i = 0; i < nc->nin; i++)
			net_ports_release(&g.ports, nc->in[i].host);
		if (nc->nin)
			save_ports();
		nc->nin = 0;
		unlink_ctr(nc);
		if (last)
			set_doomed(nc->bridge, true);
	}
	r = net_nl_open(&sk, err);
	if (r == 0)
		r = net_tc_clear(sk, nc->veth, nc->ifb, err);
	/* the peer, eth0, goes with it */
	if (r == 0)
		r = net_link_del(sk, nc->veth, err);
	if (r == 0 && last)
		r = net_link_del(sk, nc->bridge, err);
	LOCKED;
	if (last)
		set_doomed(nc->bridge, false);
	if (r < 0) {
		link_ctr(nc);
		return gfs_error_wrap(err, "removing the network of %s",
				      nc->handle);
	}
	net_pool_release(&g.leases, &nc->lease);
	ctr_free(nc);
	return 0;
}

void net_ctr_free(struct net_ctr *nc)
{
	if (!nc)
		return;
	LOCKED;
	unlink_ctr(nc);
	ctr_free(nc);
}

void net_ctr_info(const struct net_ctr *nc, struct net_info *out)
{
	net_ip_fmt(net_lease_gateway(&nc->lease), out->host_ip);
	net_ip_fmt(nc->lease.ip, out->container_ip);
	snprintf(out->external_ip, sizeof out->external_ip, "%s", g.ext_ip);
}

int net_ctr_net_in(struct net_ctr *nc, uint32_t host_port, uint32_t ctr_port,
		   uint32_t *host_out, uint32_t *ctr_out, gfs_err *err)
{
	if (host_port > 65535 || ctr_port > 65535)
		return gfs_error(err, EINVAL,
				 "net/in %u %u: ports are 0..65535", host_port,
				 ctr_port);
	LOCKED;
	unsigned host = host_port;
	if (!host) {
		int r = net_ports_peek(&g.ports, port_bound, NULL, &host, err);
		if (r < 0)
			return r;
	} else if (net_ports_is_held(&g.ports, host)) {
		return gfs_error(err, EBUSY, "host port %u is already mapped",
				 host);
	} else if (port_bound(host, NULL)) {
		/* a DNAT would take the port's traffic on the external
		 * address from whatever listens there */
		return gfs_error(err, EBUSY,
				 "host port %u is in use by a host process",
				 host);
	}
	uint32_t ctr = ctr_port ? ctr_port : host;
	sbuf b = SBUF_INIT;
	net_nft_port_text(&b, g.table, true, host, nc->lease.ip, ctr);
	int r = net_nft_run(b.s, err);
	sbuf_free(&b);
	if (r < 0)
		return gfs_error_wrap(err, "net/in %u %u", host, ctr);
	net_ports_hold(&g.ports, host);
	nc->in = xrealloc(nc->in, (nc->nin + 1) * sizeof *nc->in);
	nc->in[nc->nin].host = host;
	nc->in[nc->nin].ctr = ctr;
	nc->nin++;
	save_ports();
	*host_out = host;
	*ctr_out = ctr;
	return 0;
}

void net_ctr_list_in(const struct net_ctr *nc, sbuf *out)
{
	for (size_t i = 0; i < nc->nin; i++)
		sbuf_printf(out, "%u %u\n", nc->in[i].host, nc->in[i].ctr);
}

size_t net_ctr_ports(const struct net_ctr *nc, struct net_port_map **out)
{
	*out = xcalloc(nc->nin + 1, sizeof **out);
	memcpy(*out, nc->in, nc->nin * sizeof **out);
	return nc->nin;
}

int net_ctr_net_out(struct net_ctr *nc, struct net_rule *const *rules, size_t n,
		    gfs_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (!rules[i] || !rules[i]->text)
			return gfs_error(err, EINVAL,
					 "net/out: rule %zu is not finished",
					 i + 1);
	if (n == 0)
		return 0;
	LOCKED;
	sbuf b = SBUF_INIT;
	net_nft_rules_text(&b, g.table, nc->lease.ip, nc->log_prefix, rules, n);
	int r = net_nft_run(b.s, err);
	sbuf_free(&b);
	if (r < 0)
		return gfs_error_wrap(err, "net/out");
	nc->out = xrealloc(nc->out, (nc->nout + n) * sizeof *nc->out);
	memcpy(nc->out + nc->nout, rules, n * sizeof *rules);
	nc->nout += n;
	return 0;
}

void net_ctr_list_out(const struct net_ctr *nc, sbuf *out)
{
	for (size_t i = 0; i < nc->nout; i++) {
		sbuf_adds(out, nc->out[i]->text);
		sbuf_addc(out, '\n');
	}
}

int net_ctr_bandwidth(struct net_ctr *nc, uint64_t rate, uint64_t burst,
		      gfs_err *err)
{
	if ((rate == 0) != (burst == 0))
		return gfs_error(
		    err, EINVAL,
		    "bandwidth: rate and burst are both set or both 0");
	/* tbf takes 32-bit signed rates and a queue limit of burst plus
	 * 25 ms at the rate */
	if (rate > INT32_MAX || burst > (1u << 30))
		return gfs_error(
		    err, EINVAL,
		    "bandwidth: the rate must be below 2G, the burst at most 1G");
	/* a frame is the MTU plus the Ethernet header: a smaller bucket
	 * never lets one through */
	if (burst && burst < (uint64_t)g.mtu + 14)
		return gfs_error(
		    err, EINVAL,
		    "bandwidth: a burst of %llu bytes is less than one full frame (%u)",
		    (unsigned long long)burst, g.mtu + 14);
	/* tbf keeps the bucket as time in 32 bits (~274 s) */
	if (rate && burst / rate >= 250)
		return gfs_error(
		    err, EINVAL,
		    "bandwidth: the burst is more than 250 s at that rate");
	LOCKED;
	cleanup_nl struct nl_sock *sk = NULL;
	int r = net_nl_open(&sk, err);
	if (r == 0)
		r = net_tc_set(sk, nc->veth, nc->ifb, rate, burst, err);
	if (r < 0) {
		/* the old limit back, as far as the kernel lets us */
		if (sk)
			net_tc_set(sk, nc->veth, nc->ifb, nc->rate, nc->burst,
				   GFS_IGNORE);
		return gfs_error_wrap(err, "bandwidth");
	}
	nc->rate = rate;
	nc->burst = burst;
	return 0;
}

void net_ctr_bandwidth_get(const struct net_ctr *nc, uint64_t *rate,
			   uint64_t *burst)
{
	*rate = nc->rate;
	*burst = nc->burst;
}

int net_ctr_stats(const struct net_ctr *nc, struct net_stats *out, gfs_err *err)
{
	cleanup_nl struct nl_sock *sk = NULL;
	memset(out, 0, sizeof *out);
	int r = net_nl_open(&sk, err);
	if (r == 0)
		r = net_link_stats(sk, nc->veth, out, err);
	return r < 0 ? gfs_error_wrap(err, "network counters") : 0;
}

char *net_hosts_text(const struct net_ctr *nc, const char *handle)
{
	char ip[16];
	net_ip_fmt(nc->lease.ip, ip);
	return net_hosts_compose(ip, handle);
}

static char *slurp(const char *path)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	sbuf b = SBUF_INIT;
	char chunk[4096];
	size_t n;
	/* a resolv.conf is small; more is not one */
	while (b.len < 65536 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		sbuf_add(&b, chunk, n);
	return sbuf_steal(&b);
}

char *net_resolv_text(void)
{
	cleanup_free char *host = slurp("/etc/resolv.conf");
	cleanup_free char *up = slurp("/run/systemd/resolve/resolv.conf");
	return net_resolv_compose(host ? host : "", up);
}
