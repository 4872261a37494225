/* Capability sets of a spawned process, with libcap.  The child sets all
 * five itself before exec: the bounding set cut to what the container may
 * ever hold, effective and permitted to what this process gets,
 * inheritable and ambient empty, so that nothing it did not get from us
 * survives an exec (file capabilities aside, which the bounding set
 * limits too). */
#include <errno.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "runtime/init/harden.h"

#define BIT(c) (1ULL << (c))

uint64_t gfs_caps_default(void)
{
	/* Docker's default set */
	return BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FOWNER) |
	       BIT(CAP_FSETID) | BIT(CAP_KILL) | BIT(CAP_SETGID) |
	       BIT(CAP_SETUID) | BIT(CAP_SETPCAP) | BIT(CAP_NET_BIND_SERVICE) |
	       BIT(CAP_NET_RAW) | BIT(CAP_SYS_CHROOT) | BIT(CAP_MKNOD) |
	       BIT(CAP_AUDIT_WRITE) | BIT(CAP_SETFCAP);
}

/* The capabilities this kernel knows (libcap asks it). */
static int last_cap(void)
{
	int n = (int)cap_max_bits();
	return n > 64 ? 64 : n;
}

uint64_t init_caps_bounding(void)
{
	uint64_t m = 0;
	for (int c = 0; c < last_cap(); c++)
		if (cap_get_bound((cap_value_t)c) == 1)
			m |= BIT(c);
	return m;
}

uint64_t init_caps_permitted(void)
{
	uint64_t m = 0;
	cap_t caps = cap_get_proc();
	if (!caps)
		return 0;
	for (int c = 0; c < last_cap(); c++) {
		cap_flag_value_t v = CAP_CLEAR;
		if (cap_get_flag(caps, (cap_value_t)c, CAP_PERMITTED, &v) ==
			0 &&
		    v == CAP_SET)
			m |= BIT(c);
	}
	cap_free(caps);
	return m;
}

int init_caps_bound(uint64_t keep, gfs_err *err)
{
	for (int c = 0; c < last_cap(); c++) {
		if ((keep & BIT(c)) || cap_get_bound((cap_value_t)c) != 1)
			continue;
		if (cap_drop_bound((cap_value_t)c) < 0)
			return gfs_error_sys(err, errno,
					     "dropping capability %d from the "
					     "bounding set",
					     c);
	}
	return 0;
}

int init_caps_set(uint64_t want, gfs_err *err)
{
	cap_value_t v[64];
	int n = 0;

	for (int c = 0; c < last_cap(); c++)
		if (want & BIT(c))
			v[n++] = (cap_value_t)c;
	cap_t caps = cap_init(); /* all three sets empty */
	if (!caps)
		return gfs_error_sys(err, errno, "cap_init");
	int r = 0;
	if (n && (cap_set_flag(caps, CAP_EFFECTIVE, n, v, CAP_SET) < 0 ||
		  cap_set_flag(caps, CAP_PERMITTED, n, v, CAP_SET) < 0))
		r = gfs_error_sys(err, errno, "cap_set_flag");
	if (r == 0 && cap_set_proc(caps) < 0)
		r = gfs_error_sys(err, errno, "setting capabilities %#llx",
				  (unsigned long long)want);
	cap_free(caps);
	/* ambient capabilities would survive exec for a non-root user */
	if (r == 0 && CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
		r = gfs_error_sys(err, errno, "clearing ambient capabilities");
	return r;
}
