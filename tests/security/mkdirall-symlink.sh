#!/bin/bash
# Attack (the class of CVE-2024-45310, runc's MkdirAll racing symlinks): a
# user who owns a directory plants a symlink in it and then asks for a
# process whose missing working directory lies through that symlink, so
# that root creates (and chowns to the user) a directory somewhere else,
# /etc/cron.d say; or an image plants a symlink to a host path where a
# bind mount's target will be created.
# Safe outcome: missing components of a process's dir are created one by
# one on descriptors (O_NOFOLLOW|O_DIRECTORY, mkdirat, fchown on the new
# directory's fd): a symlink on the way fails the spawn with ELOOP and a
# reason, nothing is created through it; an existing dir reached through
# a symlink is used as it is (nothing created); ".." is refused; a bind
# target is created inside the container's root whatever symlinks the
# image holds, never on the host.
. "$(dirname "$0")/../lib.sh"
test_image >/dev/null
mkdir -p "$TDIR/hostside" "$TDIR/hostside2" "$TDIR/src"
echo from-host >"$TDIR/src/file"
ln -s "$TDIR/hostside" "$IMAGE/escape"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"

ctr_run web '{"path": "/bin/ln", "args": ["-s", "/etc", "/home/vcap/evil"], "user": "vcap"}' >/dev/null
assert_eq 0 "$LAST_STATUS" "vcap plants /home/vcap/evil -> /etc"
e0=$(lines "$MNT/web/errors")
assert_errno ELOOP "$MNT/web/procs/new" '{"path": "/bin/true", "user": "vcap", "dir": "/home/vcap/evil/cron.d"}' "a dir through the user's symlink"
assert_eq "$((e0 + 1))" "$(lines "$MNT/web/errors")" "a reason in errors"
assert_contains "$(tmo tail -n 1 "$MNT/web/errors")" "symlink" "the reason says symlink"
assert_eq absent "$(ctr_sh web '[ -e /etc/cron.d ] && echo present || echo absent')" "nothing created in /etc"
# deeper, and as root
ctr_sh web 'ln -s /etc /tmp/l' >/dev/null
assert_errno ELOOP "$MNT/web/procs/new" '{"path": "/bin/true", "dir": "/tmp/l/x/y"}' "a symlink in the middle, as root"
assert_eq absent "$(ctr_sh web '[ -e /etc/x ] && echo present || echo absent')" "nothing created in /etc (root)"
# an existing dir through a symlink is fine: nothing to create
out=$(ctr_run web '{"path": "/bin/sh", "args": ["-c", "pwd -P; ls -d passwd"], "user": "vcap", "dir": "/home/vcap/evil"}')
assert_eq "/etc
passwd" "$out" "an existing dir through a symlink is used"
assert_errno EINVAL "$MNT/web/procs/new" '{"path": "/bin/true", "dir": "/tmp/../etc/newdir"}' "a missing dir with .. in it"
assert_eq absent "$(ctr_sh web '[ -e /etc/newdir ] && echo present || echo absent')" "no /etc/newdir"
# ordinary creation still works, owned by the user
out=$(ctr_run web '{"path": "/bin/sh", "args": ["-c", "pwd; stat -c %u:%g . ..; stat -c %u:%g /var"], "user": "vcap", "dir": "/var/a/b"}')
assert_eq "/var/a/b
1000:1000
1000:1000
0:0" "$out" "made directories belong to the user, the existing parent stays root's"

# a bind target through the image's symlink to a host path: refused (the
# symlink leads nowhere inside the root), nothing made on the host
e0=$(lines "$MNT/errors")
assert_errno ENOENT "$MNT/ctl" "create handle=bound1 bind=$TDIR/src:/escape/made" "a bind target through a symlink to a host path"
assert_contains "$(tmo tail -n 1 "$MNT/errors")" "symlink" "the reason says symlink"
# a target with .. is taken inside the root
echo "create handle=bound2 bind=$TDIR/src:/../../../../../$TDIR/hostside2/made" >"$MNT/ctl" ||
	fail "create with a .. bind target"
assert_eq "" "$(ls -A "$TDIR/hostside" "$TDIR/hostside2" | grep -v ':$' | grep -v '^$')" "nothing made on the host"
assert_eq from-host "$(ctr_sh bound2 "cat $TDIR/hostside2/made/file")" "the .. target landed inside the root"
gfs_done
