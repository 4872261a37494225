/* Names in image archives: what an entry name means once cleaned, and
 * which names are OCI whiteouts.  Pure functions, header-only so that unit
 * tests can reach them; runtime/image_unpack.c is their user. */
#ifndef GFS_IMAGE_NAMES_H
#define GFS_IMAGE_NAMES_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Cleans an archive entry name into out: drops "." components, repeated
 * and trailing slashes, so "./a//b/." becomes "a/b" and "./" becomes ""
 * (the root).  Returns 0, -EINVAL for an absolute name or a ".." component
 * (never resolved: such an image is refused), -ENAMETOOLONG when out is
 * too small. */
static inline int rt_name_clean(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	if (!in || in[0] == '/')
		return -EINVAL;
	while (*in) {
		const char *end = strchrnul(in, '/');
		size_t len = (size_t)(end - in);
		if (len == 2 && in[0] == '.' && in[1] == '.')
			return -EINVAL;
		if (len > 0 && !(len == 1 && in[0] == '.')) {
			if (n + (n > 0) + len + 1 > outlen)
				return -ENAMETOOLONG;
			if (n > 0)
				out[n++] = '/';
			memcpy(out + n, in, len);
			n += len;
		}
		in = *end ? end + 1 : end;
	}
	if (outlen == 0)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}

enum rt_whiteout {
	RT_WH_NONE,   /* an ordinary name */
	RT_WH_FILE,   /* .wh.NAME: NAME from lower layers is deleted */
	RT_WH_OPAQUE, /* .wh..wh..opq: the directory hides its lower contents */
	RT_WH_BAD,    /* .wh. with nothing usable after it */
};

#define RT_WH_PREFIX ".wh."
#define RT_WH_OPQ    ".wh..wh..opq"

/* What the last component base of a layer entry means; for RT_WH_FILE,
 * *target is the name it deletes (inside base). */
static inline enum rt_whiteout rt_whiteout_kind(const char *base,
						const char **target)
{
	if (strncmp(base, RT_WH_PREFIX, 4) != 0)
		return RT_WH_NONE;
	if (strcmp(base, RT_WH_OPQ) == 0)
		return RT_WH_OPAQUE;
	const char *t = base + 4;
	if (!*t || !strcmp(t, ".") || !strcmp(t, "..") || strchr(t, '/'))
		return RT_WH_BAD;
	/* other .wh..wh. names are reserved by the spec and mean nothing */
	if (strncmp(t, RT_WH_PREFIX, 4) == 0)
		return RT_WH_BAD;
	if (target)
		*target = t;
	return RT_WH_FILE;
}

/* Whether digest is "sha256:" and 64 lower-case hex digits, the only form
 * we accept, so that it is safe as a file name under blobs/sha256/. */
static inline bool rt_digest_valid(const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7) != 0)
		return false;
	const char *h = digest + 7;
	if (strlen(h) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') ||
		      (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return true;
}

#endif
