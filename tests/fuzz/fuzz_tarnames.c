/* libFuzzer target: the checks on names in image archives
 * (runtime/image_names.h): rt_name_clean, rt_whiteout_kind,
 * rt_digest_valid.  Checks the promises they make: a clean name is never
 * absolute, has no "." or ".." component and no empty one, and cleaning
 * it again changes nothing; a whiteout's target is a plain name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/image_names.h"

static void check_clean(const char *c)
{
	if (c[0] == '/')
		abort();
	for (const char *p = c; *p;) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			abort();
		p = *e ? e + 1 : e;
		if (*e && !*p)
			abort(); /* trailing slash */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';

	char out[4096], again[4096];
	if (rt_name_clean(in, out, sizeof out) == 0) {
		check_clean(out);
		if (rt_name_clean(out, again, sizeof again) != 0 ||
		    strcmp(out, again) != 0)
			abort();
		if (strlen(out) > strlen(in))
			abort();
	}
	char tiny[4];
	if (rt_name_clean(in, tiny, sizeof tiny) == 0 && strlen(tiny) >= 4)
		abort();
	const char *target = NULL;
	const char *base = strrchr(in, '/') ? strrchr(in, '/') + 1 : in;
	if (rt_whiteout_kind(base, &target) == RT_WH_FILE) {
		if (!target || !*target || strchr(target, '/') ||
		    !strcmp(target, ".") || !strcmp(target, ".."))
			abort();
	}
	if (rt_digest_valid(in) && strlen(in) != 71)
		abort();
	free(in);
	return 0;
}
