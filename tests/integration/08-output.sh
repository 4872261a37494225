#!/bin/bash
# stdout and stderr: everything from byte 0, separate streams, blocking until
# the process exits then EOF, any number of readers, attach after exit,
# binary bytes, and a 64 MiB output that arrives whole.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
P=$MNT/web/procs

# separate streams
id=$(run_proc web "/bin/sh -c 'echo out1; echo err1 >&2; echo out2; echo err2 >&2'")
assert_eq 0 "$(wait_proc web "$id")" "wait"
assert_eq "out1
out2" "$(tmo cat "$P/$id/stdout")" "stdout"
assert_eq "err1
err2" "$(tmo cat "$P/$id/stderr")" "stderr"

# from byte 0, although the reader comes late; the read blocks until exit
id=$(run_proc web "/bin/sh -c 'echo early; sleep 1.5; echo late'")
sleep 0.5
t0=$(now_ms)
out=$(tmo cat "$P/$id/stdout")
dt=$(($(now_ms) - t0))
assert_eq "early
late" "$out" "a late reader gets everything from the first byte"
[ $dt -ge 600 ] || fail "cat stdout returned after $dt ms, before the process ended"
[ $dt -le 8000 ] || fail "cat stdout took $dt ms after the process ended"

# several readers at once, started before any output, get the same bytes
id=$(run_proc web "/bin/sh -c 'sleep 0.5; for i in 1 2 3 4 5; do echo line\$i; echo e\$i >&2; sleep 0.1; done'")
readers=
for r in 1 2 3 4; do
	tmo cat "$P/$id/stdout" >"$TDIR/r$r" &
	readers="$readers $!"
done
tmo cat "$P/$id/stderr" >"$TDIR/e1" &
readers="$readers $!"
tmo cat "$P/$id/stderr" >"$TDIR/e2" &
readers="$readers $!"
wait $readers
want=$(printf 'line%s\n' 1 2 3 4 5)
for r in 1 2 3 4; do
	assert_eq "$want" "$(cat "$TDIR/r$r")" "concurrent reader $r of stdout"
done
assert_eq "$(printf 'e%s\n' 1 2 3 4 5)" "$(cat "$TDIR/e1")" "concurrent reader 1 of stderr"
assert_eq "$(cat "$TDIR/e1")" "$(cat "$TDIR/e2")" "concurrent reader 2 of stderr"

# attach after exit, as often as one likes
for n in 1 2 3; do
	assert_eq "$want" "$(tmo cat "$P/$id/stdout")" "attach after exit, read $n"
done
# reading with an offset (dd skip) works on the exited stream
assert_eq "line2" "$(tmo dd if="$P/$id/stdout" bs=1 skip=6 count=5 2>/dev/null)" "read at an offset"

# binary bytes and no trailing newline
id=$(run_proc web "/usr/bin/printf 'a\\000b\\377c'")
wait_proc web "$id" >/dev/null
assert_eq "61 00 62 ff 63" "$(tmo cat "$P/$id/stdout" | od -An -tx1 | tr -s ' ' | sed 's/^ //;s/ $//')" "binary output bytes"

# a process without output: EOF at once after exit
id=$(run_proc web /bin/true)
wait_proc web "$id" >/dev/null
assert_eq "" "$(tmo cat "$P/$id/stdout")" "empty stdout"
assert_eq "" "$(tmo cat "$P/$id/stderr")" "empty stderr"

# output of a background child that outlives the process's shell: the
# stream ends when the process has exited (the child keeps its copy)
id=$(run_proc web "/bin/sh -c 'echo parent'")
assert_eq parent "$(tmo cat "$P/$id/stdout")" "simple stdout"

# 64 MiB arrives whole: read while it is written, and again after the exit
N=67108864
if has_helper; then
	want_md5=$(python3 -c '
import hashlib, sys
n = int(sys.argv[1]); h = hashlib.md5(); i = 0
while i < n:
    k = min(1 << 20, n - i)
    h.update(bytes(((j * 7 + j // 251) & 0xff) for j in range(i, i + k)))
    i += k
print(h.hexdigest())' $N)
	cmd="/bin/ctr-helper write-bytes $N"
else
	want_md5=$(head -c $N /dev/zero | md5sum | cut -d' ' -f1)
	cmd="/bin/sh -c 'head -c $N /dev/zero'"
fi
id=$(run_proc web "$cmd") || fail "start the 64 MiB writer"
GFS_TMO=120 tmo cat "$P/$id/stdout" >"$TDIR/big1"
assert_eq "$N" "$(stat -c %s "$TDIR/big1")" "bytes read while 64 MiB were written"
assert_eq "$want_md5" "$(md5sum <"$TDIR/big1" | cut -d' ' -f1)" "md5 of 64 MiB read live"
assert_eq 0 "$(wait_proc web "$id")" "64 MiB writer exit"
GFS_TMO=120 tmo cat "$P/$id/stdout" >"$TDIR/big2"
assert_eq "$want_md5" "$(md5sum <"$TDIR/big2" | cut -d' ' -f1)" "md5 of 64 MiB read after exit"
# and with a large read size
GFS_TMO=120 tmo dd if="$P/$id/stdout" of="$TDIR/big3" bs=1M 2>/dev/null
assert_eq "$want_md5" "$(md5sum <"$TDIR/big3" | cut -d' ' -f1)" "md5 of 64 MiB read with dd bs=1M"
rm -f "$TDIR"/big*
gfs_done
