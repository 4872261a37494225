#!/bin/bash
# tests/bench/bench-stream.sh: streamin and streamout of a tree of
# BENCH_STREAM_MB (default 1024) MiB, big files and many small ones,
# through runtime/stream.h (build/stream-driver: the daemon's pipes, the
# sandboxed helper, libarchive) against plain GNU tar into and out of the
# same directory of the same container (a privileged one, so that host tar
# can write its tree through /proc/PID/root).  Medians of BENCH_RUNS
# (default 3) runs each; prints the times and the ratios (target: at most
# 1.3).  Never fails on time; fails only when something does not work.
TEST_NAME=bench-stream
. "$(dirname "$0")/../stream-lib.sh"
MB=${BENCH_STREAM_MB:-1024}
RUNS=${BENCH_RUNS:-3}
stream_need
gfs_start
echo "create handle=b privileged=true" >"$MNT/ctl" || fatal "create b"
PB=$(init_of b)
R=/proc/$PB/root

# ---- the tree: 3/4 in files of 64 MiB, 1/4 in 64 KiB files, 64 a directory
SRC=$TDIR/tree
mkdir -p "$SRC"
big=$((MB * 3 / 4 / 64))
small=$((MB / 4 * 16))
for i in $(seq "$big"); do
	head -c 67108864 /dev/urandom >"$SRC/big$i"
done
head -c 65536 /dev/urandom >"$TDIR/chunk"
for i in $(seq 0 $((small - 1))); do
	d=$SRC/d$((i / 64))
	[ -d "$d" ] || mkdir "$d"
	cp "$TDIR/chunk" "$d/f$i"
done
T=$TDIR/tree.tar
tar -C "$SRC" -cf "$T" . || fatal "making the tarball"
size=$(stat -c %s "$T")
say "tree: $((size / 1048576)) MiB, $big files of 64 MiB, $small of 64 KiB"
cat "$T" >/dev/null # in the page cache for everyone

secs() { # CMD...: wall time in seconds of one run
	local t0 t1
	t0=$(date +%s%N)
	"$@" || fatal "failed: $*"
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000))"
}
median() { tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
fresh() { rm -rf "$R/tmp/dst"; mkdir "$R/tmp/dst"; sync; }

tar_in() { tar -C "$R/tmp/dst" -xf "$T"; }
sd_in_run() { "$SD" in -p "$PB" -P /tmp/dst <"$T" 2>"$TDIR/sd.err"; }
tar_out() { tar -C "$R/tmp" -cf - dst | cat >/dev/null; }
sd_out_run() { "$SD" out -p "$PB" -P /tmp/dst 2>"$TDIR/sd.err" | cat >/dev/null; }

ti= si= to= so=
for r in $(seq "$RUNS"); do
	fresh
	ti="$ti $(secs tar_in)"
	fresh
	si="$si $(secs sd_in_run)"
	assert_stream done "streamin run $r"
	# the driver's tree is the one both read back
	to="$to $(secs tar_out)"
	so="$so $(secs sd_out_run)"
	assert_stream done "streamout run $r"
done
# what came in is what went in
assert_eq "$(cd "$SRC" && find . -type f | sort | xargs sha256sum | sha256sum)" \
	"$(cd "$R/tmp/dst" && find . -type f | sort | xargs sha256sum | sha256sum)" "the streamed-in tree has the source's content"
fresh

ti=$(echo $ti | median) si=$(echo $si | median)
to=$(echo $to | median) so=$(echo $so | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf 'bench-stream: %d MiB, median of %d runs\n' "$((size / 1048576))" "$RUNS"
printf '  streamin   tar -x %6d ms   stream %6d ms   ratio %s\n' "$ti" "$si" "$(ratio "$si" "$ti")"
printf '  streamout  tar -c %6d ms   stream %6d ms   ratio %s\n' "$to" "$so" "$(ratio "$so" "$to")"
printf '  (target: ratios at most 1.3)\n'
gfs_done
