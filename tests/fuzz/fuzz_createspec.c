/* libFuzzer target: a write to /garden/ctl as the front takes it: one
 * command (gfs_command), split into words (gfs_split_words), and for
 * "create" the keys (gfs_createspec_parse).  Also checks that every word
 * survives gfs_quote_word and a second split unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/parse.h"
#include "lib/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cmd = NULL;
	char **words = NULL;
	gfs_err err = {0};

	if (gfs_command((const char *)data, size, &cmd, &err) < 0)
		return 0;
	if (gfs_split_words(cmd, &words, &err) < 0) {
		free(cmd);
		return 0;
	}
	for (char **w = words; *w; w++) {
		char *q = gfs_quote_word(*w);
		char **back = NULL;
		gfs_err e2 = {0};
		if (gfs_split_words(q, &back, &e2) < 0 || !back[0] || back[1] ||
		    strcmp(back[0], *w) != 0)
			abort();
		gfs_strv_free(back);
		free(q);
	}
	char *const *args = words;
	if (words[0] && strcmp(words[0], "create") == 0)
		args = words + 1;
	struct gfs_createspec cs;
	if (gfs_createspec_parse(args, &cs, &err) == 0) {
		if (!cs.env || !cs.props || !cs.binds)
			abort();
		gfs_createspec_free(&cs);
	} else if (!err.msg[0] || strchr(err.msg, '\n')) {
		abort();
	}
	gfs_strv_free(words);
	free(cmd);
	return 0;
}
