#!/bin/bash
# Attack: an image that is no file: a FIFO nobody ever writes (the daemon
# would block on its open or read for ever, a worker and the image's lock
# held), a unix socket, /dev/zero (an endless stream) or /dev/null.
# Safe outcome: each create fails at once with EINVAL and a reason naming
# what the path is ("is a FIFO; refused"); nothing is opened for reading
# but a regular file, so no FIFO blocks and no device is read; the daemon
# answers and a good image still works, also from the same FIFO's path
# once it is a file.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkfifo "$TDIR/img.fifo" || fatal "mkfifo"
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$TDIR/img.sock" || fatal "a socket"
ln -s /dev/zero "$TDIR/zero-link"
for c in fifo:"$TDIR/img.fifo":FIFO sock:"$TDIR/img.sock":socket zero:/dev/zero:device \
	null:/dev/null:device zlink:"$TDIR/zero-link":device; do
	h=${c%%:*} rest=${c#*:}
	path=${rest%:*} what=${rest##*:}
	e0=$(lines "$MNT/errors")
	t0=$(now_ms)
	got=$(GFS_TMO=10 gfs_write "$MNT/ctl" "create handle=$h rootfs=$path")
	t1=$(now_ms)
	assert_eq EINVAL "$got" "a $what as the image ($path)"
	[ $((t1 - t0)) -lt 8000 ] || fail "a $what as the image took $((t1 - t0)) ms (blocked?)"
	assert_eq "$((e0 + 1))" "$(lines "$MNT/errors")" "a reason for $path"
	assert_contains "$(tail -n 1 "$MNT/errors")" "is a $what; refused" "the reason names it ($path)"
	[ -e "$MNT/$h" ] && fail "a container from $path"
done
# privileged creates take the same path
assert_errno EINVAL "$MNT/ctl" "create handle=pf privileged=true rootfs=$TDIR/img.fifo" "a FIFO as a privileged container's image"
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon answers"
rm "$TDIR/img.fifo"
tar -C "$GFS_BASE_IMAGE" -czf "$TDIR/img.fifo" . || fatal "a tarball where the FIFO was"
echo "create handle=ok rootfs=$TDIR/img.fifo" >"$MNT/ctl" || fail "a good image at the same path"
assert_eq hi "$(ctr_sh ok 'echo hi')" "its container runs"
gfs_done
