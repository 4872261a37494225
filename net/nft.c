/* libnftables: one context for the daemon, used under the library's lock.
 * A batch is one nft_run_cmd_from_buffer call, which the kernel applies as
 * one transaction: all of it or nothing.  Listing uses nft's JSON output
 * (jansson reads it). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nftables/libnftables.h>

#include "lib/buf.h"
#include "net/priv.h"

static struct nft_ctx *ctx;

int net_nft_open(gfs_err *err)
{
	if (ctx)
		return 0;
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return gfs_error(err, ENOMEM, "nft context");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	return 0;
}

void net_nft_close(void)
{
	if (ctx)
		nft_ctx_free(ctx);
	ctx = NULL;
}

/* nft's error text as one line: the "Error: ..." line, else the first. */
static void reason(const char *text, char *out, size_t n)
{
	const char *p = text ? strstr(text, "Error: ") : NULL;
	if (!p)
		p = text && *text ? text : "nft failed";
	size_t len = strcspn(p, "\n");
	if (len >= n)
		len = n - 1;
	memcpy(out, p, len);
	out[len] = '\0';
}

static int run(const char *cmd, gfs_err *err)
{
	char why[400];
	if (!ctx)
		return gfs_error(err, EIO, "nft: net_setup was not called");
	int r = nft_run_cmd_from_buffer(ctx, cmd);
	const char *e = nft_ctx_get_error_buffer(ctx);
	if (r != 0) {
		reason(e, why, sizeof why);
		/* nft says EEXIST/ENOENT/EBUSY only in words */
		int code = strstr(why, "File exists")		    ? EEXIST
			   : strstr(why, "No such file")	    ? ENOENT
			   : strstr(why, "Device or resource busy") ? EBUSY
			   : strstr(why, "Operation not permitted") ? EPERM
								    : EIO;
		return gfs_error(err, code, "nft: %s", why);
	}
	return 0;
}

int net_nft_run(const char *batch, gfs_err *err)
{
	int r = run(batch, err);
	if (ctx)
		nft_ctx_get_output_buffer(ctx); /* empties it */
	return r;
}

static uint32_t json_ip(json_t *v)
{
	uint32_t ip = 0;
	if (json_is_string(v) && net_ip_parse(json_string_value(v), &ip) == 0)
		return ip;
	return 0;
}

static void add_str(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

static void read_map(json_t *m, struct net_nft_state *st)
{
	const char *name = json_string_value(json_object_get(m, "name"));
	json_t *elems = json_object_get(m, "elem");
	size_t i;
	json_t *e;
	if (!name || !json_is_array(elems))
		return;
	json_array_foreach(elems, i, e)
	{
		if (strcmp(name, "bridges") == 0) {
			if (json_is_string(e))
				add_str(&st->bridges, &st->nbridges,
					json_string_value(e));
			continue;
		}
		if (!json_is_array(e) || json_array_size(e) != 2)
			continue;
		json_t *k = json_array_get(e, 0), *v = json_array_get(e, 1);
		if (strcmp(name, "ctrs") == 0) {
			uint32_t ip = json_ip(k);
			if (!ip)
				continue;
			st->ctrs = xrealloc(st->ctrs,
					    (st->nctrs + 1) * sizeof *st->ctrs);
			st->ctrs[st->nctrs++] = ip;
		} else if (strcmp(name, "ports") == 0) {
			json_t *cc = json_object_get(v, "concat");
			if (!json_is_integer(k) || !json_is_array(cc) ||
			    json_array_size(cc) != 2)
				continue;
			struct net_nft_port p = {
			    .host = (uint32_t)json_integer_value(k),
			    .ip = json_ip(json_array_get(cc, 0)),
			    .ctr = (uint32_t)json_integer_value(
				json_array_get(cc, 1)),
			};
			st->ports = xrealloc(st->ports, (st->nports + 1) *
							    sizeof *st->ports);
			st->ports[st->nports++] = p;
		}
	}
}

int net_nft_list(const char *table, struct net_nft_state *st, gfs_err *err)
{
	memset(st, 0, sizeof *st);
	if (!ctx)
		return gfs_error(err, EIO, "nft: net_setup was not called");
	unsigned flags = nft_ctx_output_get_flags(ctx);
	nft_ctx_output_set_flags(ctx, flags | NFT_CTX_OUTPUT_JSON);
	cleanup_free char *cmd = xasprintf("list table ip %s", table);
	int r = run(cmd, err);
	nft_ctx_output_set_flags(ctx, flags);
	const char *out = nft_ctx_get_output_buffer(ctx);
	if (r < 0)
		return r;
	json_error_t je;
	json_t *root = json_loads(out ? out : "", 0, &je);
	json_t *items = json_object_get(root, "nftables");
	if (!json_is_array(items)) {
		json_decref(root);
		return gfs_error(err, EIO, "nft: unreadable listing of %s: %s",
				 table, je.text);
	}
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		json_t *c = json_object_get(it, "chain");
		json_t *m = json_object_get(it, "map");
		json_t *s = json_object_get(it, "set");
		uint32_t ip;
		if (c) {
			const char *n =
			    json_string_value(json_object_get(c, "name"));
			if (n && net_nft_chain_parse(n, &ip))
				add_str(&st->chains, &st->nchains, n);
		} else if (m) {
			read_map(m, st);
		} else if (s) {
			read_map(s, st);
		}
	}
	json_decref(root);
	return 0;
}

void net_nft_state_free(struct net_nft_state *st)
{
	for (size_t i = 0; i < st->nchains; i++)
		free(st->chains[i]);
	for (size_t i = 0; i < st->nbridges; i++)
		free(st->bridges[i]);
	free(st->chains);
	free(st->bridges);
	free(st->ctrs);
	free(st->ports);
	memset(st, 0, sizeof *st);
}
