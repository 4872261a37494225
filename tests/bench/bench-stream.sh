#!/bin/bash
# tests/bench/bench-stream.sh: streamin and streamout THROUGH THE MOUNT of
# two trees of BENCH_STREAM_MB (default 1024) MiB each, one of many small
# files (64 KiB, 64 a directory) and one of a single large file, against
# plain GNU tar run on the host into and out of the same directory of the
# same (privileged) container (its root is /proc/INIT/root on the host).  The stream
# path is the whole of it: FUSE, the daemon's loop, its pipes, the
# confined helper, libarchive.  Medians of BENCH_RUNS (default 3) runs
# each; prints the times and the ratios (target: at most 1.3).  Never
# fails on time; fails only when something does not work.
TEST_NAME=bench-stream
. "$(dirname "$0")/../stream-lib.sh"
MB=${BENCH_STREAM_MB:-1024}
RUNS=${BENCH_RUNS:-3}
stream_need
# the store holds the tree once, and once more while a run replaces it
gfs_start --store-size "$((MB * 4 / 1024 + 2))G"
# privileged: host root's tar may write into its tree (in an unprivileged
# one host uid 0 is unmapped: EOVERFLOW)
echo "create handle=b privileged=true" >"$MNT/ctl" || fatal "create b"
PB=$(init_of b)
R=/proc/$PB/root
B=$MNT/b

# ---- the archives, made once (kept in the page cache for both sides)
mk_small() { # DIR: MB MiB in 64 KiB files, 64 a directory
	python3 - "$1" "$MB" <<'PY'
import os, sys
root, mb = sys.argv[1], int(sys.argv[2])
chunk = os.urandom(65536)
for i in range(mb * 16):
    d = os.path.join(root, "d%d" % (i // 64))
    if i % 64 == 0:
        os.makedirs(d)
    with open(os.path.join(d, "f%d" % i), "wb") as f:
        # not all the same bytes: a file system that dedups would cheat
        f.write(i.to_bytes(8, "little") + chunk[8:])
PY
}
mkdir -p "$TDIR/small" "$TDIR/large"
mk_small "$TDIR/small" || fatal "making the small files"
head -c "$((MB * 1048576))" /dev/urandom >"$TDIR/large/big" || fatal "making the large file"
for k in small large; do
	tar -C "$TDIR/$k" -cf "$TDIR/$k.tar" . || fatal "making $k.tar"
	rm -rf "${TDIR:?}/$k"
done

secs() { # CMD...: wall time in ms of one run
	local t0 t1
	t0=$(date +%s%N)
	"$@" || fatal "failed: $*"
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000))"
}
median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
fresh() { rm -rf "$R/tmp/dst"; mkdir "$R/tmp/dst"; sync; }

# host tar straight into and out of the container's tree
tar_in() { tar -C "$R/tmp/dst" -xf "$TDIR/$K.tar"; }
tar_out() { tar -C "$R/tmp" -cf - dst | cat >/dev/null; }
# the mount, as a user would: the header and the archive to streamin, a
# path to streamout and the archive read back from it
mnt_in() { { echo /tmp/dst; cat "$TDIR/$K.tar"; } >"$B/streamin"; }
mnt_out() {
	exec 3<>"$B/streamout"
	echo /tmp/dst >&3 || return 1
	cat <&3 >/dev/null
	local rc=$?
	exec 3>&-
	return $rc
}

out=
for K in small large; do
	cat "$TDIR/$K.tar" >/dev/null
	ti= si= to= so=
	for r in $(seq "$RUNS"); do
		fresh
		ti="$ti $(secs tar_in)"
		to="$to $(secs tar_out)"
		fresh
		si="$si $(secs mnt_in)"
		so="$so $(secs mnt_out)"
	done
	# what came in through the mount is what went in
	assert_eq "$(tar -tf "$TDIR/$K.tar" | sed 's|^\./||; /^$/d' | sort | md5sum)" \
		"$(cd "$R/tmp/dst" && find . -mindepth 1 | sed 's|^\./||' | while read -r f; do
			[ -d "$f" ] && echo "$f/" || echo "$f"
		done | sort | md5sum)" "$K: the streamed-in tree has every entry"
	want=$(tar -xOf "$TDIR/$K.tar" | md5sum)
	got=$(exec 3<>"$B/streamout"; echo /tmp/dst/ >&3; tar -xO <&3 | md5sum)
	assert_eq "$want" "$got" "$K: what streams out is what streamed in"
	fresh
	ti=$(echo $ti | median) si=$(echo $si | median)
	to=$(echo $to | median) so=$(echo $so | median)
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
	out="$out$(printf '  %-5s streamin   tar -x %6d ms   mount %6d ms   ratio %s' "$K" "$ti" "$si" "$(ratio "$si" "$ti")")
"
	out="$out$(printf '  %-5s streamout  tar -c %6d ms   mount %6d ms   ratio %s' "$K" "$to" "$so" "$(ratio "$so" "$to")")
"
	rm -f "$TDIR/$K.tar"
done
printf 'bench-stream: %d MiB trees through the mount, median of %d runs\n' "$MB" "$RUNS"
printf '%s' "$out"
printf '  (target: ratios at most 1.3)\n'
gfs_done
