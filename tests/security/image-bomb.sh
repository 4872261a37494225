#!/bin/bash
# Attack: a decompression bomb as an image: a gzip tarball of 8 MiB that
# inflates to 8 GiB of zeros, once as one file (its tar header says 8 GiB)
# and once as 128 files of 64 MiB (each header harmless, together far
# beyond the store), to fill the host's disk or hold the daemon up while
# it inflates.
# Safe outcome: the create fails with ENOSPC and a reason in errors,
# quickly (the unpacker, a child with an output bound of the cache's free
# space, stops at the first header that would not fit); the daemon answers
# `cat ping` within a second all the while; no container, no half-made tree
# is left and the store's space is back; an honest image still works
# afterwards.
. "$(dirname "$0")/../lib.sh"
gfs_start --store-size 512M
python3 - "$TDIR" <<'PY'
import sys, tarfile, zlib
d = sys.argv[1]
MiB = 1 << 20
def member(data):  # one gzip member; gzip streams may be concatenated
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()
zero = member(b"\0" * MiB)
def bomb(name, entries):
    with open(f"{d}/{name}", "wb") as f:
        for n, size in entries:
            ti = tarfile.TarInfo(n); ti.size = size; ti.mode = 0o644
            f.write(member(ti.tobuf(format=tarfile.GNU_FORMAT)))
            f.write(zero * (size // MiB))
        f.write(member(b"\0" * 1024))
bomb("one.tgz", [("zeros", 8 << 30)])
bomb("many.tgz", [("z%03d" % i, 64 * MiB) for i in range(128)])
PY
[ "$(stat -c %s "$TDIR/one.tgz")" -lt $((16 << 20)) ] || fatal "the bomb is not small"

free_before=$(df --output=avail -B1 "$DEPOT/store" | tail -1)
for b in one many; do
	# ping, every 0.1 s, while the bomb goes off
	: >"$TDIR/ping.$b"
	(
		while [ ! -e "$TDIR/done.$b" ]; do
			r=$(timeout 1 cat "$MNT/ping" 2>&1) || r="no answer within 1 s"
			[ "$r" = ok ] || echo "$r" >>"$TDIR/ping.$b"
			# the unpacker at work: the daemon's child, locked down
			for u in $(pgrep -P "$GFS_PID" -x gardenfs-unpack); do
				[ -s "$TDIR/unpacker.$b" ] ||
					grep -E '^(Seccomp|NoNewPrivs|CapEff):' "/proc/$u/status" >"$TDIR/unpacker.$b" 2>/dev/null
			done
			sleep 0.1
		done
	) &
	pinger=$!
	e0=$(lines "$MNT/errors")
	t0=$(now_ms)
	got=$(GFS_TMO=120 gfs_write "$MNT/ctl" "create handle=$b rootfs=$TDIR/$b.tgz")
	t1=$(now_ms)
	touch "$TDIR/done.$b"
	wait $pinger
	assert_eq ENOSPC "$got" "the $b-entry bomb"
	say "the $b-entry bomb failed after $((t1 - t0)) ms"
	assert_eq "$((e0 + 1))" "$(lines "$MNT/errors")" "a reason in errors ($b)"
	assert_contains "$(tail -n 1 "$MNT/errors")" "space" "the reason says why ($b)"
	assert_eq "" "$(cat "$TDIR/ping.$b")" "ping answered ok throughout ($b)"
	if [ $b = many ]; then
		# inflating half a GiB takes long enough to be seen
		st=$(cat "$TDIR/unpacker.$b" 2>/dev/null)
		assert_contains "$st" "Seccomp:	2" "the bomb went off in gardenfs-unpack, under seccomp"
		assert_contains "$st" "NoNewPrivs:	1" "with no_new_privs"
		# chown dac_override fowner fsetid setfcap, no more
		assert_contains "$st" "CapEff:	000000008000001b" "with only the capabilities unpacking needs"
	fi
	[ -e "$MNT/$b" ] && fail "the $b bomb made a container"
	assert_eq "" "$(ls -A "$DEPOT/images" | grep -v '^\.key-')" "nothing left in the image cache ($b)"
done
sync
free_after=$(df --output=avail -B1 "$DEPOT/store" | tail -1)
# btrfs gives the space back when its transaction commits
wait_until 30 sh -c "[ \$(df --output=avail -B1 '$DEPOT/store' | tail -1) -gt $((free_before - (32 << 20))) ]" ||
	fail "the store's space is not back: $free_before bytes free before, $free_after after"
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon lives"
tar -C "$GFS_BASE_IMAGE" -czf "$TDIR/busybox.tgz" . || fatal "making a tarball"
echo "create handle=honest rootfs=$TDIR/busybox.tgz" >"$MNT/ctl" || fail "an honest tarball after the bombs"
assert_eq hi "$(ctr_sh honest 'echo hi')" "its container runs"
gfs_done
