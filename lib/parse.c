/* Pure parsers for what users write into the tree: commands, numbers,
 * handles, sh-like words and signal names.  See parse.h for the rules; the
 * tables of good and bad inputs live in tests/unit/test_parse.c. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/parse.h"

/* Enough of the input to recognise it, not so much that a 64K write floods
 * the errors file. */
#define EXCERPT_BYTES 60

const char *gfs_excerpt(char dst[GFS_EXCERPT_MAX], const char *s, size_t len)
{
	size_t o = 0;
	size_t i;

	/* Each input byte takes at most 4 output bytes: 60 * 4 + "..." fits
	 * in GFS_EXCERPT_MAX with room to spare. */
	for (i = 0; i < len && i < EXCERPT_BYTES; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '\n':
			o += snprintf(dst + o, GFS_EXCERPT_MAX - o, "\\n");
			break;
		case '\t':
			o += snprintf(dst + o, GFS_EXCERPT_MAX - o, "\\t");
			break;
		case '\r':
			o += snprintf(dst + o, GFS_EXCERPT_MAX - o, "\\r");
			break;
		case '\\':
			o += snprintf(dst + o, GFS_EXCERPT_MAX - o, "\\\\");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				o += snprintf(dst + o, GFS_EXCERPT_MAX - o,
					      "\\x%02x", c);
			else
				dst[o++] = (char)c;
		}
	}
	if (i < len)
		o += snprintf(dst + o, GFS_EXCERPT_MAX - o, "...");
	dst[o] = '\0';
	return dst;
}

/* A NUL-terminated string, for the common case. */
static const char *excerpt(char dst[GFS_EXCERPT_MAX], const char *s)
{
	return gfs_excerpt(dst, s, strlen(s));
}

int gfs_command(const char *buf, size_t len, char **out, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];

	*out = NULL;
	if (len > GFS_CMD_MAX)
		return gfs_error(err, EINVAL,
				 "command too long: %zu bytes, at most %d", len,
				 GFS_CMD_MAX);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len == 0)
		return gfs_error(err, EINVAL, "empty command");
	if (memchr(buf, '\0', len))
		return gfs_error(err, EINVAL, "NUL byte in command `%s`",
				 gfs_excerpt(ex, buf, len));
	if (memchr(buf, '\n', len))
		/* Two commands in one write would be half-applied when the
		 * second fails: one write is one command. */
		return gfs_error(
		    err, EINVAL,
		    "newline inside command `%s`: one write is one "
		    "command",
		    gfs_excerpt(ex, buf, len));
	*out = xstrndup(buf, len);
	return 0;
}

int gfs_parse_u64(const char *s, uint64_t *out, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	uint64_t v = 0;

	if (!s || !*s)
		return gfs_error(err, EINVAL, "empty number");
	/* By hand rather than strtoull: that one takes blanks, signs, "0x"
	 * with base 0, and wraps "-1" to UINT64_MAX. */
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return gfs_error(err, EINVAL, "not a number: `%s`",
					 excerpt(ex, s));
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return gfs_error(err, EINVAL, "number too large: `%s`",
					 excerpt(ex, s));
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int gfs_parse_size(const char *s, uint64_t *out, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	unsigned shift = 0;

	if (!s || !*s)
		return gfs_error(err, EINVAL, "empty size");
	size_t n = strlen(s);
	switch (s[n - 1]) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case 'T':
	case 't':
		shift = 40;
		break;
	}
	if (shift)
		n--;
	if (n == 0)
		return gfs_error(err, EINVAL, "size without a number: `%s`",
				 excerpt(ex, s));

	cleanup_free char *digits = xstrndup(s, n);
	uint64_t v;
	if (gfs_parse_u64(digits, &v, NULL) < 0)
		return gfs_error(err, EINVAL,
				 "bad size `%s`: want N, NK, NM, NG or NT",
				 excerpt(ex, s));
	if (shift && v > (UINT64_MAX >> shift))
		return gfs_error(err, EINVAL, "size too large: `%s`",
				 excerpt(ex, s));
	*out = v << shift;
	return 0;
}

bool gfs_handle_is_valid(const char *h, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];

	if (!h || !*h) {
		gfs_error(err, EINVAL, "empty handle");
		return false;
	}
	size_t n = strlen(h);
	if (n > 255) {
		gfs_error(err, EINVAL,
			  "handle too long: %zu bytes, at most 255", n);
		return false;
	}
	/* It becomes a directory name under /garden. */
	if (!strcmp(h, ".") || !strcmp(h, "..")) {
		gfs_error(err, EINVAL, "handle `%s` is reserved", h);
		return false;
	}
	if (strchr(h, '/')) {
		gfs_error(err, EINVAL, "handle `%s` contains '/'",
			  excerpt(ex, h));
		return false;
	}
	for (const char *p = h; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f) {
			gfs_error(err, EINVAL,
				  "handle `%s` contains a control character",
				  excerpt(ex, h));
			return false;
		}
	}
	return true;
}

/* A growing vector of strings for gfs_split_words. */
struct strv {
	char **v;
	size_t n, cap;
};

static void strv_push(struct strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

int gfs_split_words(const char *line, char ***out, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];
	struct strv sv = {0};
	sbuf w = SBUF_INIT;
	/* A word exists once anything that belongs to it was seen, so ''
	 * yields an empty word while plain blanks yield none. */
	bool in_word = false;
	const char *p = line;
	int ret = 0;

	*out = NULL;
	sv.cap = 8; /* allocated up front: the vector is never NULL */
	sv.v = xcalloc(sv.cap, sizeof *sv.v);
	while (*p) {
		char c = *p;
		if (c == ' ' || c == '\t') {
			if (in_word) {
				strv_push(&sv, sbuf_steal(&w));
				in_word = false;
			}
			p++;
		} else if (c == '\n') {
			ret = gfs_error(err, EINVAL,
					"newline outside quotes in `%s`",
					excerpt(ex, line));
			goto fail;
		} else if (c == '\\') {
			if (!p[1]) {
				ret = gfs_error(err, EINVAL,
						"trailing backslash in `%s`",
						excerpt(ex, line));
				goto fail;
			}
			if (p[1] != '\n') {
				sbuf_addc(&w, p[1]);
				in_word = true;
			}
			p += 2;
		} else if (c == '\'') {
			const char *end = strchr(p + 1, '\'');
			if (!end) {
				ret = gfs_error(err, EINVAL,
						"unterminated ' in `%s`",
						excerpt(ex, line));
				goto fail;
			}
			sbuf_add(&w, p + 1, (size_t)(end - p - 1));
			in_word = true;
			p = end + 1;
		} else if (c == '"') {
			p++;
			in_word = true;
			for (;;) {
				if (!*p) {
					ret =
					    gfs_error(err, EINVAL,
						      "unterminated \" in `%s`",
						      excerpt(ex, line));
					goto fail;
				}
				if (*p == '"') {
					p++;
					break;
				}
				if (*p == '\\' && p[1] &&
				    strchr("\"\\$`\n", p[1])) {
					if (p[1] != '\n')
						sbuf_addc(&w, p[1]);
					p += 2;
					continue;
				}
				/* Other backslashes stay, as in sh. */
				sbuf_addc(&w, *p++);
			}
		} else {
			sbuf_addc(&w, c);
			in_word = true;
			p++;
		}
	}
	if (in_word)
		strv_push(&sv, sbuf_steal(&w));
	sbuf_free(&w);
	*out = sv.v;
	return 0;

fail:
	sbuf_free(&w);
	gfs_strv_free(sv.v);
	return ret;
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
    {"hup", SIGHUP},	   {"int", SIGINT},	  {"quit", SIGQUIT},
    {"ill", SIGILL},	   {"trap", SIGTRAP},	  {"abrt", SIGABRT},
    {"bus", SIGBUS},	   {"fpe", SIGFPE},	  {"kill", SIGKILL},
    {"usr1", SIGUSR1},	   {"segv", SIGSEGV},	  {"usr2", SIGUSR2},
    {"pipe", SIGPIPE},	   {"alrm", SIGALRM},	  {"term", SIGTERM},
    {"stkflt", SIGSTKFLT}, {"chld", SIGCHLD},	  {"cont", SIGCONT},
    {"stop", SIGSTOP},	   {"tstp", SIGTSTP},	  {"ttin", SIGTTIN},
    {"ttou", SIGTTOU},	   {"urg", SIGURG},	  {"xcpu", SIGXCPU},
    {"xfsz", SIGXFSZ},	   {"vtalrm", SIGVTALRM}, {"prof", SIGPROF},
    {"winch", SIGWINCH},   {"io", SIGIO},	  {"pwr", SIGPWR},
    {"sys", SIGSYS},
};

int gfs_signal_parse(const char *name, gfs_err *err)
{
	char ex[GFS_EXCERPT_MAX];

	if (!name || !*name)
		return gfs_error(err, EINVAL, "empty signal name");
	const char *n = name;
	if (!strncasecmp(n, "sig", 3))
		n += 3;
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (!strcasecmp(n, signals[i].name))
			return signals[i].sig;
	if (*n >= '0' && *n <= '9')
		/* Numbers differ between architectures; names do not. */
		return gfs_error(
		    err, EINVAL,
		    "signal `%s`: give a name (term, kill, hup, ...), "
		    "not a number",
		    excerpt(ex, name));
	return gfs_error(err, EINVAL, "unknown signal `%s`", excerpt(ex, name));
}

const char *gfs_signal_name(int sig)
{
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	return NULL;
}

/* Bytes that never need quoting, as in Python's shlex.quote. */
static bool is_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("_./:=@%+,-", c));
}

char *gfs_quote_word(const char *w)
{
	bool plain = *w != '\0';
	for (const char *p = w; *p && plain; p++)
		if (!is_safe((unsigned char)*p))
			plain = false;
	if (plain)
		return xstrdup(w);

	/* Nothing is special inside '...' except the closing quote, which
	 * is written as '\'' (close, escaped quote, reopen). */
	sbuf b = SBUF_INIT;
	sbuf_addc(&b, '\'');
	for (const char *p = w; *p; p++) {
		if (*p == '\'')
			sbuf_adds(&b, "'\\''");
		else
			sbuf_addc(&b, *p);
	}
	sbuf_addc(&b, '\'');
	return sbuf_steal(&b);
}
