/* libFuzzer target: what limits/ files take: one command (gfs_command),
 * then a size (gfs_parse_size) and a plain number (gfs_parse_u64); also a
 * handle (gfs_handle_is_valid) and a signal name (gfs_signal_parse).
 * Checks that a number that parses prints back the same (no sign, no
 * spaces, no overflow), that it parses as the same size, and that a size
 * is digits with at most one suffix letter. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cmd = NULL;
	gfs_err err = {0};
	uint64_t v = 0, sz = 0;

	if (gfs_command((const char *)data, size, &cmd, &err) < 0) {
		if (!err.msg[0] || strchr(err.msg, '\n'))
			abort();
		return 0;
	}
	if (gfs_parse_u64(cmd, &v, &err) == 0) {
		char back[32];
		snprintf(back, sizeof back, "%" PRIu64, v);
		/* leading zeros are the only other spelling */
		const char *c = cmd;
		while (c[0] == '0' && c[1])
			c++;
		if (strcmp(back, c) != 0)
			abort();
		if (gfs_parse_size(cmd, &sz, &err) != 0 || sz != v)
			abort();
	}
	if (gfs_parse_size(cmd, &sz, &err) == 0) {
		/* digits, then at most one suffix letter */
		size_t d = strspn(cmd, "0123456789");
		if (d == 0 ||
		    (cmd[d] && (cmd[d + 1] || !strchr("KMGTkmgt", cmd[d]))))
			abort();
	}
	gfs_handle_is_valid(cmd, &err);
	int sig = gfs_signal_parse(cmd, &err);
	if (sig >= 0 && (sig == 0 || sig >= 65))
		abort();
	if (sig > 0 && gfs_signal_name(sig) == NULL)
		abort();
	free(cmd);
	return 0;
}
