/* The records of gardenfs-unpack's status pipe (runtime/image_proto.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/image_proto.h"

size_t rt_unpack_record_ok(char *buf, const struct rt_unpack_verdict *v)
{
	int n = snprintf(buf, RT_UNPACK_RECORD_MAX,
			 "ok %.64s %" PRIu64 " %" PRIu64 " %d\n", v->hex,
			 v->entries, v->bytes, v->devices ? 1 : 0);
	return n < 0 ? 0 : (size_t)n;
}

size_t rt_unpack_record_error(char *buf, int code, const char *msg)
{
	int n = snprintf(buf, RT_UNPACK_RECORD_MAX - 1, "error %d ",
			 code > 0 && code < 4096 ? code : EIO);
	size_t len = n < 0 ? 0 : (size_t)n;
	/* room for the newline and the NUL */
	for (const char *p = msg ? msg : "";
	     *p && len < RT_UNPACK_RECORD_MAX - 2; p++)
		buf[len++] = (unsigned char)*p < ' ' || *p == 0x7f ? ' ' : *p;
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}

/* A decimal number, all of [s, end). */
static bool num(const char *s, const char *end, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (s == end)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool is_hex64(const char *s, const char *end)
{
	if (end - s != 64)
		return false;
	for (; s < end; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int rt_unpack_record_parse(const char *buf, size_t len,
			   struct rt_unpack_verdict *v, gfs_err *err)
{
	memset(v, 0, sizeof *v);
	const char *nl = len ? memchr(buf, '\n', len) : NULL;
	if (!nl || (size_t)(nl - buf) + 1 != len || memchr(buf, '\0', len))
		return gfs_error(err, EPROTO,
				 "the image unpacker gave no verdict%s",
				 len ? " it could be read from" : "");
	const char *f[6];
	size_t nf = 0;
	if (len > 6 && !memcmp(buf, "error ", 6)) {
		const char *sp = memchr(buf + 6, ' ', (size_t)(nl - buf - 6));
		uint64_t code = 0;
		if (!sp || !num(buf + 6, sp, 4095, &code) || code == 0)
			return gfs_error(err, EPROTO,
					 "the image unpacker gave a bad error "
					 "record");
		gfs_error(err, (int)code, "%.*s", (int)(nl - sp - 1), sp + 1);
		return -(int)code;
	}
	/* ok HEX ENTRIES BYTES DEVICES: five fields, single spaces */
	for (const char *p = buf; p <= nl && nf < 6;) {
		f[nf++] = p;
		const char *sp = memchr(p, ' ', (size_t)(nl - p));
		p = sp ? sp + 1 : nl + 1;
	}
	uint64_t dev = 0;
	if (nf != 5 || f[1] - f[0] != 3 || memcmp(f[0], "ok ", 3) ||
	    !is_hex64(f[1], f[2] - 1) ||
	    !num(f[2], f[3] - 1, UINT64_MAX, &v->entries) ||
	    !num(f[3], f[4] - 1, UINT64_MAX, &v->bytes) ||
	    !num(f[4], nl, 1, &dev))
		return gfs_error(err, EPROTO,
				 "the image unpacker gave a bad verdict");
	memcpy(v->hex, f[1], 64);
	v->hex[64] = '\0';
	v->devices = dev == 1;
	return 0;
}
