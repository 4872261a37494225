#!/bin/bash
# Images: a tarball (gzip) and an OCI layout boot and run `id`; the OCI
# whiteout hides a file of the lower layer and the config's Env and
# WorkingDir are defaults; a cached tarball is reused; a hostile tarball is
# refused with a reason and leaves nothing behind.
. "$(dirname "$0")/../lib.sh"
OCI=$GFS_REPO/build/oci
[ -f "$OCI/index.json" ] || skip "no $OCI (run make)"
gfs_start

tar -C "$GFS_BASE_IMAGE" -czf "$TDIR/busybox.tgz" . || fatal "making the tarball"
echo "create handle=tgz rootfs=$TDIR/busybox.tgz" >"$MNT/ctl" || fail "create from a tarball"
assert_eq "uid=0(root) gid=0(root) groups=0(root)" "$(ctr_run tgz id)" "id in the tarball image"
assert_match "$(ctr_run tgz 'ls -ln /bin/busybox')" '^-rwx.* 0 +0 ' "root-owned files appear as root (unprivileged)"
n0=$(ls "$DEPOT/images" | wc -l)
echo "create handle=tgz2 rootfs=$TDIR/busybox.tgz privileged=true" >"$MNT/ctl" || fail "second create from the tarball"
assert_eq "uid=0(root) gid=0(root) groups=0(root)" "$(ctr_run tgz2 id)" "id in a privileged tarball container"
echo "create handle=tgz3 rootfs=$TDIR/busybox.tgz" >"$MNT/ctl" || fail "third create from the tarball"
assert_eq "$((n0 + 0))" "$(ls "$DEPOT/images" | wc -l)" "an unprivileged create from a cached tarball unpacks nothing new"

echo "create handle=oci rootfs=oci:$OCI:latest" >"$MNT/ctl" || fail "create from the OCI layout"
assert_eq "uid=0(root) gid=0(root) groups=0(root)" "$(ctr_run oci id)" "id in the OCI image"
assert_eq "gone" "$(ctr_sh oci '[ -e /etc/gardenfs-hidden ] && echo there || echo gone')" "the whiteout hides the lower layer's file"
assert_eq "here" "$(ctr_sh oci '[ -e /etc/layer2 ] && echo here')" "the upper layer's file"
assert_contains "$(ctr_run oci env)" "OCI_IMAGE=1" "the config's Env"
assert_eq "/tmp" "$(ctr_run oci pwd)" "the config's WorkingDir"
echo "create handle=oci2 rootfs=oci:$OCI" >"$MNT/ctl" || fail "create from the OCI layout without a tag"
assert_errno ENOENT "$MNT/ctl" "create handle=oci3 rootfs=oci:$OCI:nosuchtag" "an unknown tag"

# hostile tarballs: refused, a reason, no container, nothing in the cache
python3 - "$TDIR" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def mk(name, add):
    with tarfile.open(f"{d}/{name}", "w") as t:
        add(t)
def f(t, n, data=b"x"):
    i = tarfile.TarInfo(n); i.size = len(data); t.addfile(i, io.BytesIO(data))
mk("dotdot.tar", lambda t: f(t, "../escape"))
mk("abs.tar", lambda t: f(t, "/etc/escape"))
def link(t):
    i = tarfile.TarInfo("out"); i.type = tarfile.SYMTYPE; i.linkname = "/"; t.addfile(i)
    f(t, "out/etc/escape")
mk("symlink.tar", link)
def dev(t):
    i = tarfile.TarInfo("dev/sda"); i.type = tarfile.BLKTYPE; i.devmajor = 8; i.devminor = 0; t.addfile(i)
mk("dev.tar", dev)
PY
before=$(ls -A "$DEPOT/images" | sort)
for h in dotdot abs symlink dev; do
	e0=$(lines "$MNT/errors")
	got=$(gfs_write "$MNT/ctl" "create handle=$h rootfs=$TDIR/$h.tar")
	assert_eq EINVAL "$got" "hostile tarball $h"
	[ -e "$MNT/$h" ] && fail "hostile tarball $h made a container"
	assert_eq "$((e0 + 1))" "$(lines "$MNT/errors")" "a line in errors for $h"
done
assert_eq "$before" "$(ls -A "$DEPOT/images" | sort)" "hostile tarballs leave nothing in the image cache"
[ -e /etc/escape ] && fail "a hostile tarball wrote /etc/escape on the host"
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon lives"
for c in tgz tgz2 tgz3 oci oci2; do rmdir "$MNT/$c" || fail "rmdir $c"; done
gfs_done
