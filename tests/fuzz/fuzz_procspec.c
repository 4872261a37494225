/* libFuzzer target: a write to procs/new, as gfs_procspec_parse takes it
 * (JSON or a command line).  Besides "no crash, no leak, no UB" it checks
 * that the command a parsed spec shows in `status` splits back into its
 * path and args (gfs_procspec_command quotes with gfs_quote_word). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "lib/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gfs_procspec s;
	gfs_err err = {0};

	if (gfs_procspec_parse((const char *)data, size, &s, &err) < 0) {
		/* a reason, one line, and a fitting errno */
		if (err.code != EINVAL || !err.msg[0] || strchr(err.msg, '\n'))
			abort();
		return 0;
	}
	if (!s.path || !*s.path || !s.args || !s.env)
		abort();
	char *cmd = gfs_procspec_command(&s);
	char **w = NULL;
	gfs_err e2 = {0};
	if (gfs_split_words(cmd, &w, &e2) < 0)
		abort();
	if (!w[0] || strcmp(w[0], s.path) != 0)
		abort();
	size_t i = 0;
	for (; s.args[i]; i++)
		if (!w[i + 1] || strcmp(w[i + 1], s.args[i]) != 0)
			abort();
	if (w[i + 1])
		abort();
	gfs_strv_free(w);
	free(cmd);
	gfs_procspec_free(&s);
	return 0;
}
