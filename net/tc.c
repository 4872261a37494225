/* Bandwidth through libnl-route-3.  Traffic into the container leaves the
 * host end of its veth: a tbf at that link's root shapes it.  Traffic out
 * of the container arrives on the host end, where only a policer could
 * act, and this kernel has neither the police action nor matchall; so an
 * ingress qdisc with a u32 match-everything filter hands every packet by
 * mirred to an ifb of the container's own, whose root tbf shapes it.  The
 * ifb exists only while a limit is set. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "net/priv.h"

#define INGRESS TC_HANDLE(0xffffU, 0)
/* the queue a tbf may build, as time at the rate */
#define LATENCY_US 25000

static int tbf(struct nl_sock *sk, int ifindex, const char *dev, uint64_t rate,
	       uint64_t burst, gfs_err *err)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return gfs_error(err, ENOMEM, "tbf on %s", dev);
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
	rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(1, 0));
	int r = rtnl_tc_set_kind(TC_CAST(q), "tbf");
	if (r == 0) {
		rtnl_qdisc_tbf_set_rate(q, (int)rate, (int)burst, 0);
		r = rtnl_qdisc_tbf_set_limit_by_latency(q, LATENCY_US);
	}
	if (r == 0)
		r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_qdisc_put(q);
	if (r < 0)
		return net_nl_error(err, r, "tbf on %s", dev);
	return 0;
}

static int ingress(struct nl_sock *sk, int ifindex, const char *dev,
		   gfs_err *err)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return gfs_error(err, ENOMEM, "ingress qdisc on %s", dev);
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), INGRESS);
	int r = rtnl_tc_set_kind(TC_CAST(q), "ingress");
	if (r == 0)
		r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_qdisc_put(q);
	if (r < 0)
		return net_nl_error(err, r, "ingress qdisc on %s", dev);
	return 0;
}

/* Every packet arriving on ifindex goes to the ifb's egress. */
static int redirect(struct nl_sock *sk, int ifindex, const char *dev, int ifb,
		    gfs_err *err)
{
	struct rtnl_cls *c = rtnl_cls_alloc();
	struct rtnl_act *a = rtnl_act_alloc();
	int r = -NLE_NOMEM;
	if (c && a) {
		rtnl_tc_set_ifindex(TC_CAST(c), ifindex);
		rtnl_tc_set_parent(TC_CAST(c), INGRESS);
		rtnl_cls_set_prio(c, 1);
		rtnl_cls_set_protocol(c, ETH_P_ALL);
		r = rtnl_tc_set_kind(TC_CAST(c), "u32");
	}
	if (r == 0)
		r = rtnl_u32_add_key_uint32(c, 0, 0, 0, 0);
	/* without the terminal flag u32 never runs the node's actions */
	if (r == 0)
		r = rtnl_u32_set_cls_terminal(c);
	if (r == 0)
		r = rtnl_tc_set_kind(TC_CAST(a), "mirred");
	if (r == 0) {
		rtnl_mirred_set_action(a, TCA_EGRESS_REDIR);
		rtnl_mirred_set_policy(a, TC_ACT_STOLEN);
		rtnl_mirred_set_ifindex(a, (uint32_t)ifb);
		r = rtnl_u32_add_action(c, a);
	}
	if (r == 0)
		r = rtnl_cls_add(sk, c, NLM_F_CREATE | NLM_F_EXCL);
	if (a)
		rtnl_act_put(a);
	if (c)
		rtnl_cls_put(c);
	if (r < 0)
		return net_nl_error(err, r, "redirect filter on %s", dev);
	return 0;
}

static int make_ifb(struct nl_sock *sk, const char *name, gfs_err *err)
{
	struct rtnl_link *l = rtnl_link_alloc();
	if (!l)
		return gfs_error(err, ENOMEM, "ifb %s", name);
	rtnl_link_set_name(l, name);
	int r = rtnl_link_set_type(l, "ifb");
	if (r == 0)
		r = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (r < 0)
		return net_nl_error(err, r, "making ifb %s", name);
	net_link_no_ipv6(name);
	return net_link_up(sk, name, err);
}

/* The qdisc kind at parent of ifindex, into kind ("" when none). */
static void qdisc_kind(struct nl_cache *qs, int ifindex, uint32_t parent,
		       char kind[16], uint64_t *rate, uint64_t *burst)
{
	kind[0] = '\0';
	struct rtnl_qdisc *q = rtnl_qdisc_get_by_parent(qs, ifindex, parent);
	if (!q)
		return;
	const char *k = rtnl_tc_get_kind(TC_CAST(q));
	snprintf(kind, 16, "%s", k ? k : "");
	if (rate && strcmp(kind, "tbf") == 0) {
		*rate = (uint64_t)rtnl_qdisc_tbf_get_rate(q);
		*burst = (uint64_t)rtnl_qdisc_tbf_get_rate_bucket(q);
	}
	rtnl_qdisc_put(q);
}

struct find_redirect {
	int ifb;
	bool found;
};

static void match_redirect(struct nl_object *o, void *arg)
{
	struct find_redirect *f = arg;
	struct rtnl_cls *c = (struct rtnl_cls *)o;
	const char *k = rtnl_tc_get_kind(TC_CAST(c));
	if (!k || strcmp(k, "u32") != 0)
		return;
	for (struct rtnl_act *a = rtnl_u32_get_action(c); a;
	     a = rtnl_act_next(a)) {
		const char *ak = rtnl_tc_get_kind(TC_CAST(a));
		if (ak && strcmp(ak, "mirred") == 0 &&
		    rtnl_mirred_get_ifindex(a) == (uint32_t)f->ifb)
			f->found = true;
	}
}

/* Are all the pieces there, the ifb's redirect pointing at today's ifb? */
static bool complete(struct nl_sock *sk, int host, int ifb)
{
	struct nl_cache *qs, *cs;
	char k1[16], k2[16], k3[16];
	uint64_t r = 0, b = 0;
	if (rtnl_qdisc_alloc_cache(sk, &qs) < 0)
		return false;
	qdisc_kind(qs, host, TC_H_ROOT, k1, &r, &b);
	qdisc_kind(qs, host, TC_H_INGRESS, k2, NULL, NULL);
	qdisc_kind(qs, ifb, TC_H_ROOT, k3, &r, &b);
	nl_cache_free(qs);
	if (strcmp(k1, "tbf") || strcmp(k2, "ingress") || strcmp(k3, "tbf"))
		return false;
	if (rtnl_cls_alloc_cache(sk, host, INGRESS, &cs) < 0)
		return false;
	struct find_redirect f = {.ifb = ifb};
	nl_cache_foreach(cs, match_redirect, &f);
	nl_cache_free(cs);
	return f.found;
}

static int del_qdisc(struct nl_sock *sk, int ifindex, uint32_t parent,
		     const char *dev, gfs_err *err)
{
	struct nl_cache *qs;
	char kind[16];
	int r = rtnl_qdisc_alloc_cache(sk, &qs);
	if (r < 0)
		return net_nl_error(err, r, "listing qdiscs");
	qdisc_kind(qs, ifindex, parent, kind, NULL, NULL);
	nl_cache_free(qs);
	/* only what we would have put there; the default root (noqueue)
	 * cannot be deleted */
	if (strcmp(kind, parent == TC_H_ROOT ? "tbf" : "ingress") != 0)
		return 0;
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	if (!q)
		return gfs_error(err, ENOMEM, "qdisc on %s", dev);
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), parent);
	r = rtnl_qdisc_delete(sk, q);
	rtnl_qdisc_put(q);
	if (r < 0 && r != -NLE_OBJ_NOTFOUND && r != -NLE_NODEV)
		return net_nl_error(err, r, "deleting the %s qdisc on %s", kind,
				    dev);
	return 0;
}

int net_tc_clear(struct nl_sock *sk, const char *host, const char *ifb,
		 gfs_err *err)
{
	gfs_err e2 = {0};
	int h = net_link_index(sk, host, &e2);
	if (h > 0) {
		int r = del_qdisc(sk, h, TC_H_ROOT, host, err);
		if (r == 0)
			r = del_qdisc(sk, h, TC_H_INGRESS, host, err);
		if (r < 0)
			return r;
	} else if (h != -ENODEV) {
		*err = e2;
		return h;
	}
	return net_link_del(sk, ifb, err);
}

int net_tc_set(struct nl_sock *sk, const char *host, const char *ifb,
	       uint64_t rate, uint64_t burst, gfs_err *err)
{
	if (rate == 0)
		return net_tc_clear(sk, host, ifb, err);
	int h = net_link_index(sk, host, err);
	if (h < 0)
		return h;
	gfs_err e2 = {0};
	int i = net_link_index(sk, ifb, &e2);
	if (i > 0 && complete(sk, h, i)) {
		/* a change of the limit: the tbfs alone, in place */
		int r = tbf(sk, h, host, rate, burst, err);
		if (r == 0)
			r = tbf(sk, i, ifb, rate, burst, err);
		return r;
	}
	int r = net_tc_clear(sk, host, ifb, err);
	if (r < 0)
		return r;
	r = make_ifb(sk, ifb, err);
	if (r == 0) {
		i = net_link_index(sk, ifb, err);
		r = i < 0 ? i : 0;
	}
	/* the ifb's shaper first: once the redirect is in, it is used */
	if (r == 0)
		r = tbf(sk, i, ifb, rate, burst, err);
	if (r == 0)
		r = tbf(sk, h, host, rate, burst, err);
	if (r == 0)
		r = ingress(sk, h, host, err);
	if (r == 0)
		r = redirect(sk, h, host, i, err);
	if (r < 0)
		net_tc_clear(sk, host, ifb, GFS_IGNORE);
	return r;
}
