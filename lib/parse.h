/* Pure parsers for what users write into the tree.  No I/O here: all of it
 * is covered by the cmocka tests in tests/unit. */
#ifndef GFS_PARSE_H
#define GFS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

/* The maximum length of one command written to a control file. */
#define GFS_CMD_MAX 65536

/* Turns the bytes of one write(2) into one command string: refuses NUL
 * bytes, more than GFS_CMD_MAX bytes, and a newline anywhere but at the very
 * end; strips that one trailing "\n".  An empty command is refused. */
int gfs_command(const char *buf, size_t len, char **out, gfs_err *err);

/* Strict unsigned decimal: digits only, no sign, no spaces, no overflow. */
int gfs_parse_u64(const char *s, uint64_t *out, gfs_err *err);
/* Byte count: a decimal number with an optional suffix K, M, G or T
 * (powers of 1024), in either case ("128k" is 128K: nobody means
 * kilobits).  Overflow, signs, spaces, fractions, "KB": -EINVAL. */
int gfs_parse_size(const char *s, uint64_t *out, gfs_err *err);

/* A container handle: 1..255 bytes, not "." or "..", no '/', no control
 * characters (bytes < 0x20 and 0x7f). */
bool gfs_handle_is_valid(const char *h, gfs_err *err);

/* Splits a line into words as sh would: blanks separate words, '...'
 * quotes literally, "..." quotes with \" \\ \$ \` escapes, a backslash
 * outside quotes escapes the next byte.  No expansion of any kind.
 * Blanks are spaces and tabs; backslash-newline vanishes as in sh, and any
 * other newline outside quotes is refused, since one write is one command.
 * Unterminated quotes or a trailing backslash: -EINVAL.  *out is a
 * NULL-terminated vector (free with gfs_strv_free). */
int gfs_split_words(const char *line, char ***out, gfs_err *err);

/* Signal names as `signal` takes them: "term", "kill", "hup", "int", "usr1",
 * ... in either case, with or without a "SIG" prefix.  Numbers are refused.
 * Returns the signal number or -EINVAL. */
int gfs_signal_parse(const char *name, gfs_err *err);
/* Lower-case name without "sig" ("term"), or NULL. */
const char *gfs_signal_name(int sig);

/* Quotes a word so that gfs_split_words gives it back (for `status`). */
char *gfs_quote_word(const char *w);

/* For reasons that quote user input: len bytes of s as one printable line,
 * control bytes and '\\' escaped as \n, \xNN..., cut after about 60 bytes
 * with "...".  Writes into dst and returns it. */
#define GFS_EXCERPT_MAX 256
const char *gfs_excerpt(char dst[GFS_EXCERPT_MAX], const char *s, size_t len);

#endif
