#!/bin/bash
# Bad input on every writable file: junk, a 1 MiB write, unknown verbs,
# bad values.  Each write fails with the right errno, adds exactly one line
# to the nearest errors file, changes nothing, and the daemon lives.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
echo keep >"$MNT/web/properties/k" || fatal "set property"
sleeper=$(run_proc web "/bin/sleep 1000") || fatal "run sleeper"
W=$MNT/web
MIB=1048576

# What must not change: containers, their state, grace, properties, process
# list and states, limits.
snapshot() {
	ls "$MNT"
	for c in $(ls "$MNT" | grep -vxE 'ctl|ping|capacity|errors'); do
		echo "== $c"
		tmo cat "$MNT/$c/info"
		tmo cat "$MNT/$c/grace"
		for p in "$MNT/$c"/properties/*; do [ -e "$p" ] && echo "$p=$(tmo cat "$p" | md5sum)"; done
		for p in $(ls "$MNT/$c/procs" | grep -E '^[0-9]+$'); do
			echo "proc $p $(kv "$MNT/$c/procs/$p/status" state)"
		done
		for l in "$MNT/$c"/limits/*; do [ -e "$l" ] && { echo "$l"; tmo cat "$l"; }; done
	done
}

# bad FILE ERRORS-FILE EXPECTED KIND DATA [WHAT]
# EXPECTED may list alternatives: EINVAL|ENOSPC
bad() {
	local file=$1 errf=$2 want=$3 kind=$4 data=$5 what=${6:-}
	local before n0 got n1 after
	[ -n "$what" ] || what="${file#$MNT/} <- $(show "${data:0:40}")"
	[ "$kind" = size ] && what="${file#$MNT/} <- $data bytes of junk"
	[ "$kind" = hex ] && what="${file#$MNT/} <- hex $data"
	before=$(snapshot)
	n0=$(lines "$errf")
	got=$(gfs_io w "$file" "$kind" "$data" | head -n1)
	case "|$want|" in
	*"|$got|"*) ;;
	*) fail "$what: expected $want, got ${got:-nothing}" ;;
	esac
	n1=$(lines "$errf")
	[ "$n1" -eq $((n0 + 1)) ] || fail "$what: ${errf#$MNT/} went from $n0 to $n1 lines, expected one more"
	after=$(snapshot)
	if [ "$before" != "$after" ]; then
		fail "$what: state changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -5 | tr '\n' ' ')"
	fi
	kill -0 "$GFS_PID" 2>/dev/null || fatal "$what: the daemon died"
	[ "$(tmo cat "$MNT/ping")" = ok ] || fail "$what: ping not ok afterwards"
}

E=$MNT/errors
# ---- ctl
bad "$MNT/ctl" $E EINVAL str "junk"
bad "$MNT/ctl" $E EINVAL str "frobnicate handle=x"
bad "$MNT/ctl" $E EINVAL str "create handle=a bogus=1"
bad "$MNT/ctl" $E EINVAL str "create handle=a grace=abc"
bad "$MNT/ctl" $E EINVAL str "create handle=a grace=-1"
bad "$MNT/ctl" $E EINVAL str "create handle=a privileged=maybe"
bad "$MNT/ctl" $E EINVAL str "create handle=a memory=lots"
bad "$MNT/ctl" $E EINVAL str "create handle=a env=NOEQUALS"
bad "$MNT/ctl" $E EINVAL str "create handle=a property=noequals"
bad "$MNT/ctl" $E EINVAL str "create handle='unterminated"
bad "$MNT/ctl" $E EINVAL str "create handle=a handle=b"
bad "$MNT/ctl" $E ENOENT str "create handle=a rootfs=/no/such/image/dir"
bad "$MNT/ctl" $E EINVAL str "destroy"
bad "$MNT/ctl" $E EINVAL str "destroy web extra"
bad "$MNT/ctl" $E ENOENT str "destroy nosuch"
bad "$MNT/ctl" $E EINVAL str $'\n'
bad "$MNT/ctl" $E EINVAL hex "00ff01fe"
bad "$MNT/ctl" $E EINVAL hex "$(printf 'create handle=a\0' | hexof)"
bad "$MNT/ctl" $E EINVAL size $MIB
bad "$MNT/ctl" $E EINVAL str "create handle=$(head -c 70000 /dev/zero | tr '\0' a)"
# create then destroy in one write is not a thing
bad "$MNT/ctl" $E EINVAL str $'create handle=a\ndestroy web'

# ---- procs/new
EW=$W/errors
bad "$W/procs/new" $EW EINVAL str $'\n'
bad "$W/procs/new" $EW EINVAL str "/bin/sh -c 'unterminated"
bad "$W/procs/new" $EW EINVAL str '/bin/echo trailing\'
bad "$W/procs/new" $EW EINVAL str '{'
bad "$W/procs/new" $EW EINVAL str '{"path": 5}'
bad "$W/procs/new" $EW EINVAL str '{"args": ["x"]}'
bad "$W/procs/new" $EW EINVAL str '{"path": "/bin/true", "args": "notalist"}'
bad "$W/procs/new" $EW EINVAL str '{"path": "/bin/true", "env": "A=1"}'
bad "$W/procs/new" $EW EINVAL str '{"path": "/bin/true", "rlimits": {"nofile": -1}}'
bad "$W/procs/new" $EW EINVAL str '{"path": "/bin/true", "rlimits": {"nofile": "many"}}'
bad "$W/procs/new" $EW EINVAL str '{"path": "/bin/true", "rlimits": {"bogus": 1}}'
bad "$W/procs/new" $EW EINVAL str '{"path": "/bin/true"} trailing'
bad "$W/procs/new" $EW EINVAL str '{"path": "/bin/true", "dir": 7}'
bad "$W/procs/new" $EW EINVAL hex "00ff01fe"
bad "$W/procs/new" $EW EINVAL size $MIB
bad "$W/procs/new" $EW ENOENT str "/no/such/program"

# ---- stop
bad "$W/stop" $EW EINVAL str "pause"
bad "$W/stop" $EW EINVAL str "term kill"
bad "$W/stop" $EW EINVAL str $'\n'
bad "$W/stop" $EW EINVAL hex "00ff"
bad "$W/stop" $EW EINVAL size $MIB
bad "$W/stop" $EW EINVAL str $'term\nkill'

# ---- signal
S=$W/procs/$sleeper/signal
bad "$S" $EW EINVAL str "nosig"
bad "$S" $EW EINVAL str "term kill"
bad "$S" $EW EINVAL str $'\n'
bad "$S" $EW EINVAL str "sigsegvx"
bad "$S" $EW EINVAL hex "00"
bad "$S" $EW EINVAL size $MIB

# ---- grace
bad "$W/grace" $EW EINVAL str "soon"
bad "$W/grace" $EW EINVAL str "-1"
bad "$W/grace" $EW EINVAL str "1x"
bad "$W/grace" $EW EINVAL str "1 2"
bad "$W/grace" $EW EINVAL str "99999999999999999999999999"
bad "$W/grace" $EW EINVAL str $'5\n6'
bad "$W/grace" $EW EINVAL hex "00"
bad "$W/grace" $EW EINVAL size $MIB

# ---- properties: SPEC sets no size limit (15-properties stores 1 MiB), but
# a value far past anything sensible must be refused whole, never stored cut
# short: one write is one command, nothing half-applied
bad "$W/properties/k" $EW "EINVAL|ENOSPC|EFBIG|E2BIG" size $((16 * MIB)) "a 16 MiB property value"

# ---- limits, where present
L=$W/limits
if [ -e "$L/memory" ]; then
	for v in lots -1 +5 12Q 1MB $'1M\nfoo' 99999999999999999999999 "1 2" 0x10 1.5G; do
		bad "$L/memory" $EW EINVAL str "$v"
	done
	bad "$L/memory" $EW EINVAL size $MIB
	bad "$L/memory" $EW EINVAL hex 00
fi
if [ -e "$L/cpu" ]; then
	for v in abc -5 +5 $'10\n20' 99999999999999999999999; do
		bad "$L/cpu" $EW EINVAL str "$v"
	done
	bad "$L/cpu" $EW EINVAL size $MIB
fi
if [ -e "$L/pids" ]; then
	for v in x -1 +1 $'1\n2' 99999999999999999999999; do
		bad "$L/pids" $EW EINVAL str "$v"
	done
	bad "$L/pids" $EW EINVAL size $MIB
fi
if [ -e "$L/disk" ]; then
	for v in bogus=1 byte_hard=abc byte_hard=-1 byte_hard inode_hard=10 "byte_hard=1M bogus=2"; do
		bad "$L/disk" $EW EINVAL str "$v"
	done
	bad "$L/disk" $EW EINVAL size $MIB
fi
if [ -e "$L/bandwidth" ]; then
	for v in fast rate=abc burst=-1 "rate=1 bogus=2"; do
		bad "$L/bandwidth" $EW EINVAL str "$v"
	done
	bad "$L/bandwidth" $EW EINVAL size $MIB
fi
if [ -e "$W/procs/$sleeper/tty" ]; then
	bad "$W/procs/$sleeper/tty" $EW EINVAL str "wide"
	bad "$W/procs/$sleeper/tty" $EW EINVAL size $MIB
fi

# read-only files refuse writes without harm
for f in "$MNT/ping" "$MNT/capacity" "$MNT/errors" "$W/info" "$W/events" "$W/errors" "$W/procs/$sleeper/status" "$W/procs/$sleeper/wait"; do
	got=$(gfs_write "$f" "x")
	case $got in open:EACCES | open:EPERM | EACCES | EPERM | EBADF | open:EROFS | EINVAL) ;;
	*) fail "write to read-only ${f#$MNT/}: got $got" ;;
	esac
done
assert_eq running "$(kv "$W/procs/$sleeper/status" state)" "the sleeper survived everything"
assert_eq keep "$(tmo cat "$W/properties/k")" "the property survived everything"
kill -0 "$GFS_PID" || fail "daemon dead at the end"
gfs_done
