/* Process specs (procs/new) and create specs (`create` in ctl): JSON or a
 * command line into struct gfs_procspec, KEY=VALUE words into struct
 * gfs_createspec.  Pure parsing; tests in tests/unit/test_spec.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>
#include <sys/resource.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "lib/spec.h"

const char *const gfs_rlim_names[GFS_RLIM_N] = {
    [GFS_RLIM_AS] = "as",	    [GFS_RLIM_CORE] = "core",
    [GFS_RLIM_CPU] = "cpu",	    [GFS_RLIM_DATA] = "data",
    [GFS_RLIM_FSIZE] = "fsize",	    [GFS_RLIM_LOCKS] = "locks",
    [GFS_RLIM_MEMLOCK] = "memlock", [GFS_RLIM_MSGQUEUE] = "msgqueue",
    [GFS_RLIM_NICE] = "nice",	    [GFS_RLIM_NOFILE] = "nofile",
    [GFS_RLIM_NPROC] = "nproc",	    [GFS_RLIM_RSS] = "rss",
    [GFS_RLIM_RTPRIO] = "rtprio",   [GFS_RLIM_SIGPENDING] = "sigpending",
    [GFS_RLIM_STACK] = "stack",
};

int gfs_rlim_resource(enum gfs_rlim r)
{
	static const int res[GFS_RLIM_N] = {
	    [GFS_RLIM_AS] = RLIMIT_AS,
	    [GFS_RLIM_CORE] = RLIMIT_CORE,
	    [GFS_RLIM_CPU] = RLIMIT_CPU,
	    [GFS_RLIM_DATA] = RLIMIT_DATA,
	    [GFS_RLIM_FSIZE] = RLIMIT_FSIZE,
	    [GFS_RLIM_LOCKS] = RLIMIT_LOCKS,
	    [GFS_RLIM_MEMLOCK] = RLIMIT_MEMLOCK,
	    [GFS_RLIM_MSGQUEUE] = RLIMIT_MSGQUEUE,
	    [GFS_RLIM_NICE] = RLIMIT_NICE,
	    [GFS_RLIM_NOFILE] = RLIMIT_NOFILE,
	    [GFS_RLIM_NPROC] = RLIMIT_NPROC,
	    [GFS_RLIM_RSS] = RLIMIT_RSS,
	    [GFS_RLIM_RTPRIO] = RLIMIT_RTPRIO,
	    [GFS_RLIM_SIGPENDING] = RLIMIT_SIGPENDING,
	    [GFS_RLIM_STACK] = RLIMIT_STACK,
	};
	if ((unsigned)r >= GFS_RLIM_N)
		return -EINVAL;
	return res[r];
}

/* An environment variable name as sh takes it: [A-Za-z_][A-Za-z0-9_]*.
 * n is the length of the name (the bytes before '='). */
static bool is_env_name(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     c == '_';
		if (!alpha && (i == 0 || c < '0' || c > '9'))
			return false;
	}
	return true;
}

/* NAME=VALUE with a valid NAME; VALUE may be empty. */
static bool is_env_entry(const char *s)
{
	const char *eq = strchr(s, '=');
	return eq && is_env_name(s, (size_t)(eq - s));
}

static char **empty_strv(void)
{
	return xcalloc(1, sizeof(char *));
}

void gfs_procspec_free(struct gfs_procspec *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->path);
	gfs_strv_free(s->args);
	gfs_strv_free(s->env);
	free(s->dir);
	free(s->user);
	memset(s, 0, sizeof *s);
}

/* Copies a JSON array of strings into a NULL-terminated vector. */
static int json_strv(json_t *a, const char *field, char ***out, gfs_err *err)
{
	if (json_is_null(a)) {
		*out = empty_strv();
		return 0;
	}
	if (!json_is_array(a))
		return gfs_error(err, EINVAL,
				 "\"%s\" must be an array of strings", field);
	size_t n = json_array_size(a);
	char **v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(a, i);
		if (!json_is_string(e)) {
			gfs_strv_free(v);
			return gfs_error(err, EINVAL,
					 "\"%s\"[%zu] is not a string", field,
					 i);
		}
		v[i] = xstrdup(json_string_value(e));
	}
	*out = v;
	return 0;
}

/* A string field; null and "" mean absent, as with Go's omitempty. */
static int json_str(json_t *j, const char *field, char **out, gfs_err *err)
{
	if (json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return gfs_error(err, EINVAL, "\"%s\" must be a string", field);
	if (*json_string_value(j))
		*out = xstrdup(json_string_value(j));
	return 0;
}

/* A boolean field; null means absent (false). */
static int json_bool(json_t *j, const char *field, bool *out, gfs_err *err)
{
	if (json_is_null(j))
		return 0;
	if (!json_is_boolean(j))
		return gfs_error(err, EINVAL, "\"%s\" must be true or false",
				 field);
	*out = json_is_true(j);
	return 0;
}

static int json_rlimits(json_t *o, struct gfs_procspec *s, gfs_err *err)
{
	const char *key;
	json_t *v;

	if (json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return gfs_error(err, EINVAL, "\"rlimits\" must be an object");
	json_object_foreach(o, key, v)
	{
		char ex[GFS_EXCERPT_MAX];
		int r;
		for (r = 0; r < GFS_RLIM_N; r++)
			if (!strcmp(key, gfs_rlim_names[r]))
				break;
		if (r == GFS_RLIM_N)
			return gfs_error(err, EINVAL, "unknown rlimit `%s`",
					 gfs_excerpt(ex, key, strlen(key)));
		if (json_is_null(v))
			continue;
		/* jansson refuses integers above 2^63-1 while parsing, so
		 * RLIM_INFINITY cannot be written: leave the field out. */
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return gfs_error(
			    err, EINVAL,
			    "rlimit \"%s\" must be an integer >= 0", key);
		s->rlim_set[r] = true;
		s->rlim[r] = (uint64_t)json_integer_value(v);
	}
	return 0;
}

static int json_dim(json_t *j, const char *field, int *out, gfs_err *err)
{
	if (json_is_null(j))
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < 0 ||
	    json_integer_value(j) > INT_MAX)
		return gfs_error(err, EINVAL,
				 "\"%s\" must be an integer from 0 to %d",
				 field, INT_MAX);
	*out = (int)json_integer_value(j);
	return 0;
}

static int json_tty(json_t *o, struct gfs_procspec *s, gfs_err *err)
{
	const char *key;
	json_t *v;
	int ret;

	if (json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return gfs_error(err, EINVAL, "\"tty\" must be an object");
	s->tty = true;
	json_object_foreach(o, key, v)
	{
		char ex[GFS_EXCERPT_MAX];
		if (strcmp(key, "window_size"))
			return gfs_error(err, EINVAL, "unknown tty field `%s`",
					 gfs_excerpt(ex, key, strlen(key)));
		if (json_is_null(v))
			continue;
		if (!json_is_object(v))
			return gfs_error(err, EINVAL,
					 "\"window_size\" must be an object");
		const char *k2;
		json_t *v2;
		json_object_foreach(v, k2, v2)
		{
			if (!strcmp(k2, "columns"))
				ret = json_dim(v2, "columns", &s->tty_columns,
					       err);
			else if (!strcmp(k2, "rows"))
				ret = json_dim(v2, "rows", &s->tty_rows, err);
			else
				ret =
				    gfs_error(err, EINVAL,
					      "unknown window_size field `%s`",
					      gfs_excerpt(ex, k2, strlen(k2)));
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int procspec_json(const char *buf, size_t len, struct gfs_procspec *s,
			 gfs_err *err)
{
	json_error_t jerr;
	const char *key;
	json_t *v;
	int ret = 0;

	/* Duplicates would make "which one wins" a guess; NULs inside strings
	 * stay refused (the default) since argv and env cannot hold them. */
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		/* jansson's integers are long long: an rlimit of 2^64-1
		 * (RLIM_INFINITY) fails here, so say so. */
		return gfs_error(
		    err, EINVAL, "bad json: %s (line %d column %d)%s",
		    jerr.text, jerr.line, jerr.column,
		    strstr(jerr.text, "too big integer")
			? "; integers above 9223372036854775807 are not supported"
			: "");
	if (!json_is_object(root)) {
		ret = gfs_error(err, EINVAL,
				"json process spec is not an object");
		goto out;
	}
	json_object_foreach(root, key, v)
	{
		char ex[GFS_EXCERPT_MAX];
		if (!strcmp(key, "path"))
			ret = json_str(v, key, &s->path, err);
		else if (!strcmp(key, "args"))
			ret = json_strv(v, key, &s->args, err);
		else if (!strcmp(key, "env"))
			ret = json_strv(v, key, &s->env, err);
		else if (!strcmp(key, "dir"))
			ret = json_str(v, key, &s->dir, err);
		else if (!strcmp(key, "user"))
			ret = json_str(v, key, &s->user, err);
		else if (!strcmp(key, "rlimits"))
			ret = json_rlimits(v, s, err);
		else if (!strcmp(key, "tty"))
			ret = json_tty(v, s, err);
		else if (!strcmp(key, "id")) {
			ret = json_str(v, key, &s->id, err);
			if (ret == 0 && s->id && !gfs_proc_name_ok(s->id, err))
				ret = -EINVAL;
		} else if (!strcmp(key, "no_new_privileges"))
			ret = json_bool(v, key, &s->no_new_privs, err);
		else
			ret = gfs_error(err, EINVAL, "unknown field `%s`",
					gfs_excerpt(ex, key, strlen(key)));
		if (ret < 0)
			goto out;
	}
	if (!s->path) {
		ret = gfs_error(err, EINVAL, "no \"path\" in process spec");
		goto out;
	}
	if (!s->args)
		s->args = empty_strv();
	if (!s->env)
		s->env = empty_strv();
out:
	json_decref(root);
	return ret;
}

static int procspec_line(const char *buf, size_t len, struct gfs_procspec *s,
			 gfs_err *err)
{
	if (memchr(buf, '\0', len))
		return gfs_error(err, EINVAL, "NUL byte in command line");
	cleanup_free char *line = xstrndup(buf, len);
	cleanup_strv char **words = NULL;
	int ret = gfs_split_words(line, &words, err);
	if (ret < 0)
		return ret;

	size_t n = gfs_strv_len(words), i = 0;
	while (i < n && is_env_entry(words[i]))
		i++;
	if (i == n)
		return gfs_error(err, EINVAL, "no command");
	if (!*words[i])
		return gfs_error(err, EINVAL, "empty command path");

	/* Move the words into place rather than copying them. */
	s->env = xcalloc(i + 1, sizeof(char *));
	memcpy(s->env, words, i * sizeof(char *));
	s->path = words[i];
	s->args = xcalloc(n - i, sizeof(char *));
	memcpy(s->args, words + i + 1, (n - i - 1) * sizeof(char *));
	free(steal_ptr(words));
	return 0;
}

int gfs_procspec_parse(const char *buf, size_t len, struct gfs_procspec *out,
		       gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	size_t i = 0;
	int ret;

	memset(out, 0, sizeof *out);
	if (!buf) {
		/* an empty write may come without a buffer */
		buf = "";
		len = 0;
	}
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' ||
			   buf[i] == '\r'))
		i++;
	/* A shell's `echo` adds one; it is not part of the last word. */
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (i < len && buf[i] == '{')
		ret = procspec_json(buf, len, out, err);
	else
		ret = procspec_line(buf, len, out, err);
	if (ret < 0) {
		gfs_procspec_free(out);
		return ret;
	}
	if (!*out->path) {
		gfs_procspec_free(out);
		return gfs_error(err, EINVAL, "empty command path");
	}
	for (char **e = out->env; *e; e++) {
		if (!is_env_entry(*e)) {
			ret = gfs_error(err, EINVAL,
					"env entry `%s` is not NAME=VALUE",
					gfs_excerpt(ex, *e, strlen(*e)));
			gfs_procspec_free(out);
			return ret;
		}
	}
	return 0;
}

char *gfs_procspec_command(const struct gfs_procspec *s)
{
	sbuf b = SBUF_INIT;
	char *q = gfs_quote_word(s->path ? s->path : "");
	sbuf_adds(&b, q);
	free(q);
	for (char **a = s->args; a && *a; a++) {
		q = gfs_quote_word(*a);
		sbuf_addc(&b, ' ');
		sbuf_adds(&b, q);
		free(q);
	}
	return sbuf_steal(&b);
}

void gfs_createspec_free(struct gfs_createspec *s)
{
	if (!s)
		return;
	free(s->handle);
	free(s->rootfs);
	gfs_strv_free(s->env);
	gfs_strv_free(s->props);
	gfs_strv_free(s->binds);
	free(s->network);
	memset(s, 0, sizeof *s);
}

static void strv_append(char ***v, char *s)
{
	size_t n = gfs_strv_len(*v);
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = s;
	(*v)[n + 1] = NULL;
}

/* A property name becomes a file in properties/. */
static bool is_file_name(const char *s, size_t n)
{
	if (n == 0 || n > 255)
		return false;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '/' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

bool gfs_proc_name_ok(const char *name, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	if (!is_file_name(name, strlen(name)))
		return gfs_error(
			   err, EINVAL,
			   "process id `%s`: want 1-255 bytes, no '/', no "
			   "control characters, not . or ..",
			   gfs_excerpt(ex, name, strlen(name))) &&
		       false;
	if (strcmp(name, "new") == 0)
		return gfs_error(err, EINVAL,
				 "process id `new` is taken by procs/new") &&
		       false;
	return true;
}

/* SRC:DST[:ro|:rw] with both paths absolute; stored as SRC:DST or
 * SRC:DST:ro so that users of the spec see one spelling. */
static int parse_bind(const char *v, char **out, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	cleanup_free char *copy = xstrdup(v);
	char *parts[4] = {0};
	int n = 0;

	/* strtok_r would merge "::" and hide an empty part. */
	for (char *p = copy; n < 4; n++) {
		parts[n] = p;
		p = strchr(p, ':');
		if (!p) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n < 2 || n > 3 || parts[3])
		return gfs_error(err, EINVAL,
				 "bind `%s`: want SRC:DST[:ro|:rw]",
				 gfs_excerpt(ex, v, strlen(v)));
	if (parts[0][0] != '/' || parts[1][0] != '/')
		return gfs_error(err, EINVAL,
				 "bind `%s`: both paths must be absolute",
				 gfs_excerpt(ex, v, strlen(v)));
	bool ro = false;
	if (n == 3) {
		if (!strcmp(parts[2], "ro"))
			ro = true;
		else if (strcmp(parts[2], "rw"))
			return gfs_error(err, EINVAL,
					 "bind `%s`: mode must be ro or rw",
					 gfs_excerpt(ex, v, strlen(v)));
	}
	*out = xasprintf("%s:%s%s", parts[0], parts[1], ro ? ":ro" : "");
	return 0;
}

/* IPv4 address, optionally /PREFIX with PREFIX 0..32. */
static int check_network(const char *v, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	cleanup_free char *ip = xstrdup(v);
	struct in_addr a;

	char *slash = strchr(ip, '/');
	if (slash) {
		uint64_t prefix;
		*slash = '\0';
		if (gfs_parse_u64(slash + 1, &prefix, NULL) < 0 || prefix > 32)
			return gfs_error(err, EINVAL,
					 "network `%s`: prefix must be 0..32",
					 gfs_excerpt(ex, v, strlen(v)));
	}
	if (inet_pton(AF_INET, ip, &a) != 1)
		return gfs_error(err, EINVAL,
				 "network `%s`: want IPv4 address[/PREFIX]",
				 gfs_excerpt(ex, v, strlen(v)));
	return 0;
}

/* RATE:BURST, both byte counts. */
static int parse_bandwidth(const char *v, uint64_t *rate, uint64_t *burst,
			   gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	cleanup_free char *copy = xstrdup(v);

	char *colon = strchr(copy, ':');
	if (!colon)
		return gfs_error(err, EINVAL, "bandwidth `%s`: want RATE:BURST",
				 gfs_excerpt(ex, v, strlen(v)));
	*colon = '\0';
	if (gfs_parse_size(copy, rate, err) < 0 ||
	    gfs_parse_size(colon + 1, burst, err) < 0)
		return gfs_error_wrap(err, "bandwidth");
	return 0;
}

const char *const gfs_disk_keys[GFS_DISK_N] = {
    "block_soft", "block_hard", "inode_soft",
    "inode_hard", "byte_soft",	"byte_hard",
};

int gfs_disk_parse(const char *cmd, struct gfs_disk *d, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	cleanup_free char *s = xstrdup(cmd);
	struct gfs_disk nd = *d;
	bool any = false;
	for (char *save = NULL, *w = strtok_r(s, " \t,", &save); w;
	     w = strtok_r(NULL, " \t,", &save)) {
		char *eq = strchr(w, '=');
		if (!eq)
			return gfs_error(err, EINVAL, "`%s` is not KEY=N",
					 gfs_excerpt(ex, w, strlen(w)));
		*eq = '\0';
		int k;
		for (k = 0; k < GFS_DISK_N; k++)
			if (strcmp(w, gfs_disk_keys[k]) == 0)
				break;
		if (k == GFS_DISK_N)
			return gfs_error(err, EINVAL,
					 "unknown key `%s` (block_soft "
					 "block_hard inode_soft inode_hard "
					 "byte_soft byte_hard)",
					 gfs_excerpt(ex, w, strlen(w)));
		int r = (k == GFS_DISK_BYTE_SOFT || k == GFS_DISK_BYTE_HARD)
			    ? gfs_parse_size(eq + 1, &nd.v[k], err)
			    : gfs_parse_u64(eq + 1, &nd.v[k], err);
		if (r < 0)
			return gfs_error_wrap(err, "%s", w);
		any = true;
	}
	if (!any)
		return gfs_error(err, EINVAL, "no KEY=N given");
	*d = nd;
	return 0;
}

int gfs_disk_hard_bytes(const struct gfs_disk *d, uint64_t *out, gfs_err *err)
{
	if (d->v[GFS_DISK_BLOCK_HARD]) {
		if (d->v[GFS_DISK_BLOCK_HARD] > UINT64_MAX / 1024)
			return gfs_error(err, EINVAL,
					 "block_hard is too large");
		*out = d->v[GFS_DISK_BLOCK_HARD] * 1024;
	} else {
		*out = d->v[GFS_DISK_BYTE_HARD];
	}
	return 0;
}

enum ckey {
	K_HANDLE,
	K_ROOTFS,
	K_PRIVILEGED,
	K_GRACE,
	K_ENV,
	K_PROPERTY,
	K_BIND,
	K_NETWORK,
	K_MEMORY,
	K_CPU,
	K_PIDS,
	K_DISK,
	K_BANDWIDTH,
	K_N
};

static const struct {
	const char *name;
	bool repeatable;
} ckeys[K_N] = {
    [K_HANDLE] = {"handle", false},
    [K_ROOTFS] = {"rootfs", false},
    [K_PRIVILEGED] = {"privileged", false},
    [K_GRACE] = {"grace", false},
    [K_ENV] = {"env", true},
    [K_PROPERTY] = {"property", true},
    [K_BIND] = {"bind", true},
    [K_NETWORK] = {"network", false},
    [K_MEMORY] = {"memory", false},
    [K_CPU] = {"cpu", false},
    [K_PIDS] = {"pids", false},
    [K_DISK] = {"disk", false},
    [K_BANDWIDTH] = {"bandwidth", false},
};

static int create_word(const char *word, struct gfs_createspec *s,
		       bool seen[K_N], gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	const char *eq = strchr(word, '=');
	size_t klen = eq ? (size_t)(eq - word) : strlen(word);
	int k;

	for (k = 0; k < K_N; k++)
		if (strlen(ckeys[k].name) == klen &&
		    !strncmp(word, ckeys[k].name, klen))
			break;
	if (!eq || k == K_N)
		return gfs_error(err, EINVAL, "unknown key `%s`",
				 gfs_excerpt(ex, word, klen));
	if (seen[k] && !ckeys[k].repeatable)
		return gfs_error(err, EINVAL, "key `%s` given twice",
				 ckeys[k].name);
	seen[k] = true;

	const char *v = eq + 1;
	const char *name = ckeys[k].name;
	char *bind = NULL;
	int ret;
	switch (k) {
	case K_HANDLE:
		if (!gfs_handle_is_valid(v, err))
			return -EINVAL;
		s->handle = xstrdup(v);
		return 0;
	case K_ROOTFS:
		if (!*v)
			return gfs_error(err, EINVAL, "empty rootfs");
		s->rootfs = xstrdup(v);
		return 0;
	case K_PRIVILEGED:
		if (!strcmp(v, "true"))
			s->privileged = true;
		else if (strcmp(v, "false"))
			return gfs_error(err, EINVAL,
					 "privileged `%s`: want true or false",
					 gfs_excerpt(ex, v, strlen(v)));
		return 0;
	case K_GRACE:
		ret = gfs_parse_u64(v, &s->grace, err);
		if (ret < 0)
			return gfs_error_wrap(err, "grace");
		s->grace_set = true;
		return 0;
	case K_ENV:
		if (!is_env_entry(v))
			return gfs_error(err, EINVAL,
					 "env `%s` is not NAME=VALUE",
					 gfs_excerpt(ex, v, strlen(v)));
		strv_append(&s->env, xstrdup(v));
		return 0;
	case K_PROPERTY: {
		const char *peq = strchr(v, '=');
		if (!peq || !is_file_name(v, (size_t)(peq - v)))
			return gfs_error(
			    err, EINVAL,
			    "property `%s`: want KEY=VALUE, KEY a file name",
			    gfs_excerpt(ex, v, strlen(v)));
		strv_append(&s->props, xstrdup(v));
		return 0;
	}
	case K_BIND:
		ret = parse_bind(v, &bind, err);
		if (ret < 0)
			return ret;
		strv_append(&s->binds, bind);
		return 0;
	case K_NETWORK:
		ret = check_network(v, err);
		if (ret < 0)
			return ret;
		s->network = xstrdup(v);
		return 0;
	case K_MEMORY:
		ret = gfs_parse_size(v, &s->memory, err);
		if (ret < 0)
			return gfs_error_wrap(err, "%s", name);
		s->memory_set = true;
		return 0;
	case K_CPU:
		ret = gfs_parse_u64(v, &s->cpu, err);
		if (ret < 0)
			return gfs_error_wrap(err, "%s", name);
		s->cpu_set = true;
		return 0;
	case K_PIDS:
		ret = gfs_parse_u64(v, &s->pids, err);
		if (ret < 0)
			return gfs_error_wrap(err, "%s", name);
		s->pids_set = true;
		return 0;
	case K_DISK:
		ret = gfs_disk_parse(v, &s->disk, err);
		if (ret < 0)
			return gfs_error_wrap(err, "disk");
		s->disk_set = true;
		return 0;
	case K_BANDWIDTH:
		ret = parse_bandwidth(v, &s->rate, &s->burst, err);
		if (ret < 0)
			return ret;
		s->bandwidth_set = true;
		return 0;
	}
	return gfs_error(err, EINVAL, "unknown key `%s`", name);
}

int gfs_createspec_parse(char *const *words, struct gfs_createspec *out,
			 gfs_err *err)
{
	bool seen[K_N] = {0};

	memset(out, 0, sizeof *out);
	out->env = empty_strv();
	out->props = empty_strv();
	out->binds = empty_strv();
	for (size_t i = 0; words && words[i]; i++) {
		int ret = create_word(words[i], out, seen, err);
		if (ret < 0) {
			gfs_createspec_free(out);
			return ret;
		}
	}
	return 0;
}
