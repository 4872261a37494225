# tests/lib.sh: what every integration test sources.  It mounts a private
# gardenfs instance (own temporary mount point, own depot, own image copy),
# drives it the way a user would with shell tools, and tears everything down
# in an EXIT trap, even when the test fails half way or the daemon hangs.
#
#   . "$(dirname "$0")/../lib.sh"
#   gfs_start                       # sets MNT DEPOT GFS_PID IMAGE TDIR
#   mkdir "$MNT/web"
#   id=$(run_proc web "/bin/sh -c 'echo hi'")
#   assert_eq hi "$(tmo cat "$MNT/web/procs/$id/stdout")" "stdout of echo"
#   gfs_done                        # exit 0, or 1 when an assertion failed
#
# Safety: we only ever signal processes we started (the daemon by its pid,
# container inits by the pids in our own depot after checking their name and
# start time, and processes in cgroups of our own daemon instance), and we
# only unmount and delete things under our own temporary directory.

GFS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GFS_BIN=${GFS_BIN:-$GFS_REPO/build/gardenfs}
GFS_HELPER=${GFS_HELPER:-$GFS_REPO/build/ctr-helper}
GFS_BASE_IMAGE=${GFS_BASE_IMAGE:-$GFS_REPO/build/image}
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
GFS_FAILED=0
GFS_PID=
TDIR=
MNT=
DEPOT=
IMAGE=

say() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

# fail MSG: record a failure and go on, so that one run reports them all.
fail() {
	printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
	GFS_FAILED=$((GFS_FAILED + 1))
	return 1
}

# skip REASON: the test cannot run here (exit 77).
skip() {
	printf 'SKIP: %s: %s\n' "$TEST_NAME" "$*" >&2
	exit 77
}

# fatal MSG: a failure after which the rest of the test makes no sense.
fatal() {
	fail "$@"
	exit 1
}

gfs_done() {
	if [ "$GFS_FAILED" -ne 0 ]; then
		say "$GFS_FAILED assertion(s) failed"
		exit 1
	fi
	exit 0
}

# hexof: stdin as one line of lowercase hex (xxd -p without xxd).
hexof() { od -An -v -tx1 | tr -d ' \n'; }

# Quote a value for messages: show newlines and control bytes.
show() { printf '%s' "$1" | od -An -c | tr -s ' ' | tr -d '\n' | cut -c1-300; }

assert_eq() { # EXPECTED ACTUAL WHAT
	[ "$1" = "$2" ] && return 0
	fail "$3: expected [$(show "$1")], got [$(show "$2")]"
}

assert_ne() { # UNEXPECTED ACTUAL WHAT
	[ "$1" != "$2" ] && return 0
	fail "$3: did not expect [$(show "$1")]"
}

assert_contains() { # HAYSTACK NEEDLE WHAT
	case $1 in *"$2"*) return 0 ;; esac
	fail "$3: [$(show "$1")] does not contain [$2]"
}

assert_not_contains() { # HAYSTACK NEEDLE WHAT
	case $1 in *"$2"*) fail "$3: [$(show "$1")] contains [$2]" ;; esac
	return 0
}

assert_match() { # STRING ERE WHAT
	printf '%s' "$1" | grep -Eq -- "$2" && return 0
	fail "$3: [$(show "$1")] does not match /$2/"
}

assert_true() { # WHAT COMMAND...: the command must succeed
	local what=$1
	shift
	"$@" && return 0
	fail "$what (command failed: $*)"
}

assert_false() { # WHAT COMMAND...: the command must fail
	local what=$1
	shift
	"$@" || return 0
	fail "$what (command succeeded: $*)"
}

# tmo CMD...: run with a deadline (GFS_TMO seconds, default 20), so that a
# hung daemon fails the test instead of hanging the suite.  A FUSE request
# may ignore SIGTERM, hence -k.
tmo() { timeout -k 2 "${GFS_TMO:-20}" "$@"; }

# wait_until SECONDS COMMAND...: poll until the command succeeds.
wait_until() {
	local limit=$1
	shift
	local end=$(($(date +%s%N) + limit * 1000000000))
	while :; do
		"$@" && return 0
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# kv FILE KEY: the value of `KEY value` in a record file (empty if absent;
# status 1 if the key is absent).
kv() {
	tmo cat "$1" | awk -v k="$2" '
		{ key = $0; sub(/ .*/, "", key) }
		key == k { v = $0; if (index(v, " ")) sub(/^[^ ]* /, "", v); else v = ""; print v; found = 1; exit }
		END { exit !found }'
}

has_key() { tmo cat "$1" | awk -v k="$2" '{ key=$0; sub(/ .*/,"",key) } key==k { f=1 } END { exit !f }'; }

# The python helper for writes whose errno we check: exactly one open and
# one write(2), then optionally a read of the same descriptor.
#   gfs_io MODE FILE KIND DATA
#   MODE  w: write only; wc: create (O_CREAT|O_TRUNC, as the shell's >);
#         rw: write, then read the descriptor and print it
#   KIND  str: DATA as given; size: DATA bytes of junk; hex: DATA is hex
# Prints `OK` or the errno name (e.g. `EINVAL`) on the first line.
gfs_io() {
	tmo ${GFS_PY:-python3} - "$@" <<'EOF'
import errno, os, sys
mode, path, kind, data = sys.argv[1:5]
if kind == "str":
    buf = data.encode("utf-8", "surrogateescape")
elif kind == "hex":
    buf = bytes.fromhex(data)
elif kind == "size":
    n = int(data)
    pat = b"junk \x01\xff garbage =;'\" \n"
    buf = (pat * (n // len(pat) + 1))[:n]
else:
    sys.exit("bad kind " + kind)
def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))
try:
    flags = {"w": os.O_WRONLY, "rw": os.O_RDWR,
             "wc": os.O_WRONLY | os.O_CREAT | os.O_TRUNC}[mode]
    fd = os.open(path, flags, 0o644)
except OSError as e:
    print("open:" + name(e)); sys.exit(0)
try:
    n = os.write(fd, buf)
    if n != len(buf):
        print("SHORT:%d/%d" % (n, len(buf))); sys.exit(0)
except OSError as e:
    print(name(e)); sys.exit(0)
print("OK")
if mode == "rw":
    out = b""
    while True:
        b = os.read(fd, 65536)
        if not b: break
        out += b
    sys.stdout.flush()
    os.write(1, out)
EOF
}

gfs_write() { gfs_io w "$1" str "$2" | head -n1; }

# assert_errno EXPECTED FILE DATA [WHAT]: one write of DATA to FILE must fail
# with EXPECTED (an errno name) or succeed (OK).
assert_errno() {
	local got
	got=$(gfs_write "$2" "$3")
	[ "$got" = "$1" ] && return 0
	fail "${4:-write [$(show "$3")] to ${2#$MNT/}}: expected $1, got ${got:-nothing (helper hung?)}"
}

# lines FILE: the number of lines in it (0 for a missing file).
lines() { tmo cat "$1" 2>/dev/null | wc -l; }

# run_proc CTR CMD: start a process with the documented idiom and print its
# id.  CMD is a command line or a JSON spec.
run_proc() {
	local fd id
	exec {fd}<>"$MNT/$1/procs/new" || return 1
	if ! printf '%s' "$2" >&"$fd"; then
		exec {fd}>&-
		return 1
	fi
	if ! read -r -t 20 id <&"$fd"; then
		exec {fd}>&-
		echo "run_proc: no id read back from $1/procs/new" >&2
		return 1
	fi
	exec {fd}>&-
	[ -n "$id" ] || return 1
	printf '%s\n' "$id"
}

# wait_proc CTR ID: the exit status from procs/ID/wait.
wait_proc() { tmo cat "$MNT/$1/procs/$2/wait"; }

# ctr_run CTR CMD: run, wait, print stdout; returns 0 when the process
# started (its exit status is in $LAST_STATUS, its id in $LAST_ID).
ctr_run() {
	LAST_ID=$(run_proc "$1" "$2") || { LAST_STATUS=; return 1; }
	LAST_STATUS=$(wait_proc "$1" "$LAST_ID")
	tmo cat "$MNT/$1/procs/$LAST_ID/stdout"
}

# ctr_sh CTR SCRIPT: run a shell script in the container, print its stdout.
# Single quotes in SCRIPT are escaped for the command-line splitter.
ctr_sh() {
	local q=${2//\'/\'\\\'\'}
	ctr_run "$1" "/bin/sh -c '$q'"
}

# The host pid of a running process, from procs/N/status.
host_pid() { kv "$MNT/$1/procs/$2/status" pid; }

# mounted DIR: DIR is a live gardenfs mount.
mounted() { awk -v m="$1" '$2 == m && $3 == "fuse.gardenfs" { f = 1 } END { exit !f }' /proc/mounts; }

# ---------------------------------------------------------------- setup

gfs_need() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	[ -c /dev/fuse ] || skip "no /dev/fuse"
	[ -x "$GFS_BIN" ] || skip "no $GFS_BIN (run make)"
	[ -d "$GFS_BASE_IMAGE" ] || skip "no $GFS_BASE_IMAGE (run make)"
	command -v python3 >/dev/null || skip "needs python3"
}

gfs_ledger() { # record what we made, for run.sh's leftover check
	[ -n "${GFS_LEDGER:-}" ] && printf '%s\n' "$*" >>"$GFS_LEDGER"
	return 0
}

# gfs_setup: the temporary directory and the trap; gfs_start calls it.
gfs_setup() {
	[ -n "$TDIR" ] && return 0
	gfs_need
	TDIR=$(mktemp -d "${GFS_TMPDIR:-/tmp}/gfs-test.XXXXXX") || fatal "mktemp"
	chmod 755 "$TDIR"
	gfs_ledger "tdir $TDIR"
	trap gfs_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	MNT=$TDIR/mnt
	DEPOT=$TDIR/depot
	mkdir -p "$MNT" "$DEPOT"
}

# test_image: a copy of the default image with ctr-helper as /bin/ctr-helper.
test_image() {
	gfs_setup
	if [ -z "$IMAGE" ]; then
		IMAGE=$TDIR/image
		cp -a "$GFS_BASE_IMAGE" "$IMAGE" || fatal "copying the image"
		if [ -x "$GFS_HELPER" ]; then
			cp "$GFS_HELPER" "$IMAGE/bin/ctr-helper"
		fi
	fi
	printf '%s\n' "$IMAGE"
}

has_helper() { [ -x "$IMAGE/bin/ctr-helper" ]; }

# The test's own network: a /22 of 10.100.0.0-10.199.255.255 that no host
# address is in, and 100 host ports of 20000-59999 (chosen once per test,
# kept across restarts).  Tests that pass their own --network-pool keep it.
gfs_net_pick() {
	[ -n "${GFS_POOL:-}" ] && return 0
	local a b i used
	used=$(ip -o -4 addr show 2>/dev/null | awk '{ print $4 }')
	for i in $(seq 50); do
		a=$((100 + RANDOM % 100))
		b=$((RANDOM % 64 * 4))
		printf '%s\n' "$used" | grep -Eq "^10\.$a\.($b|$((b + 1))|$((b + 2))|$((b + 3)))\." && continue
		GFS_POOL=10.$a.$b.0/22
		break
	done
	local p=$((20000 + RANDOM % 400 * 100))
	GFS_PORTS=$p-$((p + 99))
}

# gfs_start [DAEMON OPTIONS...]: start a daemon on $MNT with $DEPOT (reused
# when it exists: that is a restart) and wait for the mount.
gfs_start() {
	gfs_setup
	[ -n "$IMAGE" ] || test_image >/dev/null
	mkdir -p "$MNT"
	local netopts=()
	case " $* " in
	*" --network-pool"*) ;;
	*)
		gfs_net_pick
		netopts=(--network-pool "$GFS_POOL" --port-pool "$GFS_PORTS")
		;;
	esac
	"$GFS_BIN" -f --depot "$DEPOT" --rootfs "$IMAGE" "${netopts[@]}" "$@" "$MNT" \
		2>>"$TDIR/daemon.log" &
	GFS_PID=$!
	gfs_ledger "daemon $GFS_PID"
	local i
	for i in $(seq 200); do
		mounted "$MNT" && break
		if ! kill -0 "$GFS_PID" 2>/dev/null; then
			wait "$GFS_PID"
			fail "daemon exited ($?) before mounting; log:"
			tail -n 20 "$TDIR/daemon.log" >&2
			GFS_PID=
			exit 1
		fi
		sleep 0.05
	done
	mounted "$MNT" || fatal "no fuse.gardenfs mount on $MNT after 10 s"
	[ -f "$DEPOT/instance" ] && gfs_ledger "instance $(cat "$DEPOT/instance")"
	[ -f "$DEPOT/instance" ] && gfs_ledger "nettag $(net_tag)"
	return 0
}

# The daemon's network tag: its links' prefix, its nft table's suffix.
net_tag() { sed -n 's/^gardenfs-\(......\).*/\1/p' "$DEPOT/instance" 2>/dev/null; }

# Remove the links and the nft table of our tag (a daemon killed and not
# restarted leaves them for the next start; nothing restarts it now).
gfs_net_clean() {
	local tag l
	tag=$(net_tag)
	[ -n "$tag" ] || return 0
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | sed 's/@.*//' | grep "^$tag"); do
		ip link del "$l" 2>/dev/null
	done
	nft delete table ip "gardenfs_$tag" 2>/dev/null
	return 0
}

# gfs_stop: SIGTERM, wait for the exit and the unmount.
gfs_stop() {
	[ -n "$GFS_PID" ] || return 0
	kill -TERM "$GFS_PID" 2>/dev/null
	local i rc=0
	for i in $(seq 200); do
		kill -0 "$GFS_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$GFS_PID" 2>/dev/null; then
		fail "daemon $GFS_PID still running 10 s after SIGTERM"
		kill -KILL "$GFS_PID" 2>/dev/null
		rc=1
	fi
	wait "$GFS_PID" 2>/dev/null
	GFS_PID=
	if mounted "$MNT"; then
		fail "mount $MNT still there after the daemon stopped"
		umount -l "$MNT" 2>/dev/null
		rc=1
	fi
	return $rc
}

# gfs_kill9: kill -9 the daemon, then lazily unmount the dead mount.
gfs_kill9() {
	[ -n "$GFS_PID" ] || return 0
	kill -KILL "$GFS_PID" 2>/dev/null
	wait "$GFS_PID" 2>/dev/null
	GFS_PID=
	grep -q " $MNT fuse" /proc/mounts && umount -l "$MNT" 2>/dev/null
	return 0
}

gfs_restart() {
	gfs_stop
	gfs_start "$@"
}

# ---------------------------------------------------------------- other users

# gfs_users: makes, for this test only, a group $GFS_GROUP with one member
# $GFS_MEMBER and a user $GFS_OTHER who is not in it (unique names, no home,
# primary group nogroup); gfs_cleanup removes them.  Never touches an
# existing account.
GFS_GROUP=
GFS_MADE_USERS=
gfs_users() {
	gfs_setup
	command -v useradd >/dev/null && command -v runuser >/dev/null ||
		skip "needs useradd and runuser"
	[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3"
	local base=gfst$$
	GFS_MEMBER=${base}m GFS_OTHER=${base}o
	getent group "$base" >/dev/null || getent passwd "$GFS_MEMBER" >/dev/null ||
		getent passwd "$GFS_OTHER" >/dev/null && fatal "test accounts $base* exist already"
	groupadd "$base" || fatal "groupadd $base"
	GFS_GROUP=$base
	useradd -M -N -g nogroup -G "$base" -s /bin/sh "$GFS_MEMBER" || fatal "useradd $GFS_MEMBER"
	GFS_MADE_USERS=$GFS_MEMBER
	useradd -M -N -g nogroup -s /bin/sh "$GFS_OTHER" || fatal "useradd $GFS_OTHER"
	GFS_MADE_USERS="$GFS_MEMBER $GFS_OTHER"
}

gfs_users_remove() {
	local u
	for u in $GFS_MADE_USERS; do userdel "$u" 2>/dev/null; done
	[ -n "$GFS_GROUP" ] && groupdel "$GFS_GROUP" 2>/dev/null
	GFS_MADE_USERS= GFS_GROUP=
}

# as_user USER CMD...: runs CMD as USER (its own groups), from /, with a
# deadline.
as_user() {
	local u=$1
	shift
	(cd / && tmo runuser -u "$u" -- "$@")
}

# user_io USER MODE FILE KIND DATA: gfs_io's one open and one write(2), as
# USER; prints OK or the errno name.
user_io() {
	local u=$1
	shift
	(cd / && GFS_PY="runuser -u $u -- /usr/bin/python3" gfs_io "$@")
}

# ---------------------------------------------------------------- cleanup

# The start time (field 22 of /proc/PID/stat) of a pid, or nothing.
starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	printf '%s\n' "${20}"
}

# our_init PID START: PID is still the gardenfs-init our depot recorded.
our_init() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = gardenfs-init ] || return 1
	[ -z "$2" ] || [ "$(starttime "$1")" = "$2" ]
}

# Kill the inits our depot knows about and the processes of our instance's
# cgroups, then remove those cgroup directories, children first.
gfs_reap_depot() {
	local f pid st inst d p
	for f in "$DEPOT"/containers/*/init.pid; do
		[ -f "$f" ] || continue
		read -r pid st <"$f" || true
		case $pid in '' | *[!0-9]*) continue ;; esac
		gfs_ledger "init $pid $st"
		our_init "$pid" "$st" && kill -KILL "$pid" 2>/dev/null
	done
	[ -f "$DEPOT/instance" ] || return 0
	inst=$(cat "$DEPOT/instance")
	case $inst in gardenfs-*) ;; *) return 0 ;; esac
	gfs_ledger "instance $inst"
	for d in /sys/fs/cgroup/*/"$inst"; do
		[ -d "$d" ] || continue
		for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	for d in /sys/fs/cgroup/*/"$inst"; do
		[ -d "$d" ] || continue
		local i
		for i in $(seq 50); do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] || break
			sleep 0.1
		done
		[ -d "$d" ] && echo "cleanup: cannot remove $d" >&2
	done
	return 0
}

gfs_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$TDIR" ] || exit $rc
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -s "$TDIR/daemon.log" ]; then
		echo "--- daemon log (last 25 lines) ---" >&2
		tail -n 25 "$TDIR/daemon.log" >&2
		echo "---" >&2
	fi
	# destroy through the mount while the daemon answers
	if [ -n "$GFS_PID" ] && mounted "$MNT" && kill -0 "$GFS_PID" 2>/dev/null; then
		local h
		for h in $(timeout -k 1 5 ls "$MNT" 2>/dev/null); do
			[ -d "$MNT/$h" ] && timeout -k 1 10 rmdir "$MNT/$h" 2>/dev/null
		done
	fi
	if [ -n "$GFS_PID" ]; then
		kill -TERM "$GFS_PID" 2>/dev/null
		local i
		for i in $(seq 100); do
			kill -0 "$GFS_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$GFS_PID" 2>/dev/null
		wait "$GFS_PID" 2>/dev/null
	fi
	grep -q " $MNT fuse" /proc/mounts && umount -l "$MNT" 2>/dev/null
	gfs_reap_depot
	gfs_net_clean
	# any mount left under our directory (overlays, a store), deepest first
	local m
	for m in $(awk -v t="$TDIR/" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	# loop devices backed by files of ours
	if command -v losetup >/dev/null; then
		losetup -l -n -O NAME,BACK-FILE 2>/dev/null | while read -r dev back; do
			case $back in "$TDIR"/*) losetup -d "$dev" 2>/dev/null ;; esac
		done
	fi
	if awk -v t="$TDIR/" 'index($2, t) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
		echo "cleanup: mounts left under $TDIR; not deleting it" >&2
	else
		rm -rf --one-file-system "$TDIR"
	fi
	gfs_users_remove
	exit $rc
}
