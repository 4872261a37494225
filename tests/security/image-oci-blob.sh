#!/bin/bash
# Attack: an OCI layout whose files are not files: a layer blob that is a
# FIFO (the daemon would block on it for ever) or a symlink to /dev/zero
# (an endless stream, and a way to make the daemon open any host path),
# an index.json that is a FIFO, a config blob that is a symlink to a host
# file, and a blobs/ directory that is a symlink out of the layout.
# Safe outcome: every such create fails at once with EINVAL and a reason
# (a FIFO is never opened for reading, a symlink inside the layout is
# never followed); nothing is left in the image cache; the daemon answers;
# the intact layout still works.
. "$(dirname "$0")/../lib.sh"
OCI=$GFS_REPO/build/oci
[ -f "$OCI/index.json" ] || skip "no $OCI (run make)"
gfs_start
# the manifest names the config and two layers; the big one is layer 0
manifest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"][7:])' "$OCI/index.json")
blobs() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["config"]["digest"][7:], " ".join(l["digest"][7:] for l in m["layers"]))' "$OCI/blobs/sha256/$manifest"; }
read -r config layer0 layer1 <<<"$(blobs)"
[ -n "$layer1" ] || fatal "the test layout has two layers"

layout() { # NAME: a fresh copy of the layout
	rm -rf "$TDIR/$1"
	cp -a "$OCI" "$TDIR/$1"
	printf '%s\n' "$TDIR/$1/blobs/sha256"
}
b=$(layout fifo-layer) && rm "$b/$layer1" && mkfifo "$b/$layer1"
b=$(layout zero-layer) && rm "$b/$layer0" && ln -s /dev/zero "$b/$layer0"
b=$(layout fifo-index) && rm "$b/../../index.json" && mkfifo "$b/../../index.json"
b=$(layout link-config) && rm "$b/$config" && ln -s /etc/passwd "$b/$config"
b=$(layout link-blobs) && mv "$TDIR/link-blobs/blobs" "$TDIR/elsewhere" && ln -s "$TDIR/elsewhere" "$TDIR/link-blobs/blobs"

for c in fifo-layer:FIFO zero-layer:symlink fifo-index:FIFO link-config:symlink link-blobs:symlink; do
	name=${c%%:*} what=${c#*:}
	e0=$(lines "$MNT/errors")
	t0=$(now_ms)
	got=$(GFS_TMO=10 gfs_write "$MNT/ctl" "create handle=$name rootfs=oci:$TDIR/$name")
	t1=$(now_ms)
	assert_eq EINVAL "$got" "layout $name"
	[ $((t1 - t0)) -lt 8000 ] || fail "layout $name took $((t1 - t0)) ms (blocked?)"
	assert_eq "$((e0 + 1))" "$(lines "$MNT/errors")" "a reason for layout $name"
	assert_contains "$(tail -n 1 "$MNT/errors")" "$what" "the reason names a $what ($name)"
	[ -e "$MNT/$name" ] && fail "a container from layout $name"
done
assert_eq "" "$(ls -A "$DEPOT/images" | grep -v '^\.key-')" "nothing left in the image cache"
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon answers"
echo "create handle=good rootfs=oci:$OCI:latest" >"$MNT/ctl" || fail "the intact layout"
assert_eq hi "$(ctr_sh good 'echo hi')" "its container runs"
gfs_done
