#!/bin/bash
# TTY processes through the mount: a spec's "tty" runs the process on a pty
# (a new session, the pty its controlling terminal and its stdin, stdout
# and stderr); what it writes is in procs/N/stdout with \r\n, stderr stays
# empty; stdin feeds the pty, and the close of stdin is the terminal's EOF
# (^D) as Garden sends it; procs/N/tty reads the size and a write resizes
# it (SIGWINCH, `stty size`); bad sizes, non-TTY and exited processes are
# refused with one line in errors; the size and the process survive a
# kill -9 of the daemon with all their output; 100 fast TTY runs in a row;
# a Concourse-style flow (a task on a 500x500 TTY, a resource script that
# reads JSON on stdin and writes JSON on stdout).
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/t" || fatal "mkdir t"
T=$MNT/t

# spec COLS ROWS SCRIPT [ID]: a JSON spec of /bin/sh -c SCRIPT on a TTY
# (COLS empty: no tty field at all; 0 0: a tty with no window size)
spec() {
	python3 -c '
import json, sys
cols, rows, script = sys.argv[1], sys.argv[2], sys.argv[3]
s = {"path": "/bin/sh", "args": ["-c", script]}
if cols != "":
    ws = {}
    if cols != "0": ws["columns"] = int(cols)
    if rows != "0": ws["rows"] = int(rows)
    s["tty"] = {"window_size": ws} if ws else {}
if len(sys.argv) > 4: s["id"] = sys.argv[4]
print(json.dumps(s))' "$@"
}
# out ID: its stdout with the terminal's \r taken off
out() { tmo cat "$T/procs/$1/stdout" | tr -d '\r'; }
# has_line ID LINE: its stdout has LINE (for wait_until)
has_line() { out "$1" | grep -qxF -- "$2"; }
has_match() { out "$1" | grep -qE -- "$2"; }

# ---- the terminal: session, controlling tty, stdio, size, \r\n
id=$(run_proc t "$(spec 100 30 'stty size; tty; s=$(cut -d" " -f6 /proc/$$/stat); [ "$s" = $$ ] && echo leader; ls -l /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2 | sed "s/.*-> //" | sort -u; echo to-stderr >&2')") || fatal "a TTY process"
assert_eq 0 "$(wait_proc t "$id")" "the TTY process exits 0"
raw=$(tmo cat "$T/procs/$id/stdout")
assert_contains "$raw" $'30 100\r\n' "stty size is the spec's window, lines end in \\r\\n"
o=$(out "$id")
assert_match "$o" '^30 100
/dev/pts/[0-9]+
leader
/dev/pts/[0-9]+
to-stderr$' "a session leader with the pty as its terminal and all of its stdio"
assert_eq "$(printf '%s\n' "$o" | sed -n 2p)" "$(printf '%s\n' "$o" | sed -n 4p)" "stdin, stdout and stderr are the tty itself"
assert_eq "" "$(tmo cat "$T/procs/$id/stderr")" "stderr stays empty: it went to the terminal"
assert_eq "columns 100
rows 30" "$(tmo cat "$T/procs/$id/tty")" "procs/N/tty reads the size"
# a tty without a window size: 80x24
id=$(run_proc t "$(spec 0 0 'stty size')")
wait_proc t "$id" >/dev/null
assert_eq "24 80" "$(out "$id")" "no window size: 80x24"
# no tty: pipes, and procs/N/tty is empty
id=$(run_proc t "$(spec '' '' 'tty; echo err >&2')")
wait_proc t "$id" >/dev/null
assert_eq "not a tty" "$(out "$id")" "without tty the process has no terminal"
assert_eq err "$(tmo cat "$T/procs/$id/stderr")" "and its own stderr"
assert_eq "" "$(tmo cat "$T/procs/$id/tty")" "procs/N/tty of a non-TTY process is empty"
plain=$id

# as another user: the terminal is that user's
id=$(run_proc t '{"path": "/bin/sh", "args": ["-c", "id -u; stat -c %U $(tty); stty size"], "user": "vcap", "tty": {"window_size": {"columns": 81, "rows": 25}}}') || fatal "a TTY process as vcap"
assert_eq 0 "$(wait_proc t "$id")" "vcap's TTY process"
assert_eq "1000
vcap
25 81" "$(out "$id")" "vcap's process on a terminal it owns"
# bad tty fields: EINVAL, one line each, no process
n=$(lines "$T/errors")
before=$(ls "$T/procs" | wc -l)
for bad in '{"path": "/bin/true", "tty": true}' \
	'{"path": "/bin/true", "tty": {"window_size": {"columns": -1, "rows": 5}}}' \
	'{"path": "/bin/true", "tty": {"window_size": {"columns": "80", "rows": 24}}}' \
	'{"path": "/bin/true", "tty": {"window_size": {"columns": 70000, "rows": 24}}}' \
	'{"path": "/bin/true", "tty": {"window_size": {"cols": 80}}}' \
	'{"path": "/bin/true", "tty": {"size": 1}}' \
	'{"path": "/bin/true", "tty": {"window_size": 80}}'; do
	assert_errno EINVAL "$T/procs/new" "$bad" "spec $bad"
done
assert_eq 7 "$(($(lines "$T/errors") - n))" "one line for each bad tty field"
assert_eq "$before" "$(ls "$T/procs" | wc -l)" "no process from a bad spec"

# ---- ^C on stdin is SIGINT to the foreground group: it is the
# process's controlling terminal
id=$(run_proc t "$(spec 80 24 'echo ready; exec sleep 100')")
wait_until 10 has_line "$id" ready || fail "the sleeper did not start"
printf '\003' >"$T/procs/$id/stdin" || fail "^C to stdin"
assert_eq 130 "$(wait_proc t "$id")" "^C on the terminal killed it with SIGINT"

# ---- stdin feeds the terminal; its close is ^D
id=$(run_proc t "$(spec 80 24 'read x; echo "got:$x"; cat; echo "cat-done:$?"')")
printf 'first line\n' >"$T/procs/$id/stdin" || fail "writing a TTY's stdin"
assert_eq 0 "$(wait_proc t "$id")" "EOF (^D) at the close of stdin ends cat"
o=$(out "$id")
assert_contains "$o" "got:first line" "stdin reached the process through the pty"
assert_contains "$o" "cat-done:0" "cat saw the end of file"
# a lot of input, none lost, no echo (stty -echo)
python3 -c '
import sys
for i in range(2000): sys.stdout.write("%06d %s\n" % (i, "x" * 90))' >"$TDIR/big.in"
want=$(wc -c <"$TDIR/big.in")
id=$(run_proc t "$(spec 80 24 'stty -echo; echo ready; cat > /tmp/in; wc -c < /tmp/in; md5sum < /tmp/in')")
wait_until 10 has_line "$id" ready || fail "stty -echo never ran"
tmo cat "$TDIR/big.in" >"$T/procs/$id/stdin" || fail "200 KB to a TTY's stdin"
assert_eq 0 "$(GFS_TMO=60 wait_proc t "$id")" "cat of 200 KB through the pty exits"
o=$(out "$id")
assert_contains "$o" "$want" "every byte went through the pty ($want)"
assert_contains "$o" "$(md5sum <"$TDIR/big.in" | cut -d' ' -f1)" "and in order"

# ---- resize: SIGWINCH and the new size
id=$(run_proc t "$(spec 80 24 'trap "echo winch; stty size" WINCH; echo ready; i=0; while [ $i -lt 300 ] && [ ! -e /tmp/stop ]; do sleep 0.1; i=$((i+1)); done; stty size')") || fatal "resize process"
wait_until 10 has_line "$id" ready || fail "the resize process did not start"
echo "120 40" >"$T/procs/$id/tty" || fail "resizing"
assert_eq "columns 120
rows 40" "$(tmo cat "$T/procs/$id/tty")" "procs/N/tty after the resize"
wait_until 10 has_line "$id" "40 120" || fail "the process saw no SIGWINCH with the new size"
assert_contains "$(out "$id")" winch "SIGWINCH reached the process"
# bad sizes: EINVAL, one line each, nothing changed
n=$(lines "$T/errors")
for bad in 80x24 "0 0" "-1 5" "5 -1" "65536 10" "80 24 1" "80" $'\n' " 80 24" "80  24" "+80 24" "0x50 24" "99999999999999999999 1"; do
	assert_errno EINVAL "$T/procs/$id/tty" "$bad" "tty write [$bad]"
done
assert_eq 13 "$(($(lines "$T/errors") - n))" "one line in errors for each bad size"
assert_eq "columns 120
rows 40" "$(tmo cat "$T/procs/$id/tty")" "bad writes changed nothing"
n=$(lines "$T/errors")
assert_errno EINVAL "$T/procs/$plain/tty" "80 24" "resize of a process without a tty"
assert_eq 1 "$(($(lines "$T/errors") - n))" "one line for it"
assert_contains "$(tmo cat "$T/errors" | tail -1)" "no tty" "the reason"

# ---- kill -9 of the daemon: the process, its size and its output stay
ctr_sh t 'touch /tmp/stop' >/dev/null
wait_proc t "$id" >/dev/null
id=$(run_proc t "$(spec 90 20 'i=0; while [ ! -e /tmp/tick-stop ] && [ $i -lt 900 ]; do echo "tick $i $(stty size)"; i=$((i+1)); sleep 0.1; done; read x; echo "after:$x"' ticker)") || fatal "ticker"
assert_eq ticker "$id" "a TTY process with a name"
echo "132 43" >"$T/procs/ticker/tty" || fail "resize before the kill"
pid=$(host_pid t ticker)
sleep 0.5
gfs_kill9
sleep 1.5
[ -n "$pid" ] && [ -d "/proc/$pid" ] || fail "the TTY process died with the daemon"
gfs_start
assert_eq running "$(kv "$T/procs/ticker/status" state)" "the TTY process runs after the restart"
assert_eq "columns 132
rows 43" "$(tmo cat "$T/procs/ticker/tty")" "the size survived the kill -9"
echo "100 50" >"$T/procs/ticker/tty" || fail "resize after the restart"
wait_until 15 has_match ticker ' 50 100$' || fail "the ticker never saw the size set after the restart"
ctr_sh t 'touch /tmp/tick-stop' >/dev/null
echo bye >"$T/procs/ticker/stdin" || fail "stdin after the restart"
assert_eq 0 "$(GFS_TMO=30 wait_proc t ticker)" "the ticker's exit after the restart"
o=$(out ticker)
ticks=$(printf '%s\n' "$o" | grep '^tick ' | cut -d' ' -f2)
last=$(printf '%s\n' "$ticks" | tail -1)
[ "${last:-0}" -ge 30 ] || fail "the ticker ran only to tick $last"
assert_eq "$(seq 0 "${last:-0}")" "$ticks" "every line of output, also from the downtime"
assert_match "$o" "tick [0-9]+ 43 132" "the size from before the kill"
assert_match "$o" "tick [0-9]+ 50 100" "the size set after the restart"
assert_contains "$o" "after:bye" "stdin after the restart"
n=$(lines "$T/errors")
assert_errno ESRCH "$T/procs/ticker/tty" "80 24" "resize of an exited process"
assert_eq 1 "$(($(lines "$T/errors") - n))" "one line for it"

# ---- 100 fast TTY runs in a row
bad=0
t0=$(now_ms)
for i in $(seq 100); do
	id=$(run_proc t "{\"path\": \"/bin/echo\", \"args\": [\"run$i\"], \"tty\": {\"window_size\": {\"columns\": 80, \"rows\": 24}}}") || {
		bad=$((bad + 1))
		continue
	}
	st=$(wait_proc t "$id")
	o=$(tmo cat "$T/procs/$id/stdout")
	[ "$st" = 0 ] && [ "$o" = "run$i"$'\r' ] || {
		bad=$((bad + 1))
		say "run $i: status [$st] output [$(show "$o")]"
	}
done
assert_eq 0 "$bad" "100 TTY runs in a row, each with its output and status 0"
say "100 TTY runs: $(($(now_ms) - t0)) ms"

# ---- a Concourse-style flow: a task on a 500x500 terminal, a resource
# that speaks JSON on stdin and stdout
id=$(run_proc t "$(spec 500 500 'stty size; echo building; exit 0' task)") || fatal "task"
assert_eq task "$id" "the task has its id"
assert_eq 0 "$(wait_proc t task)" "the task's exit status"
assert_eq "500 500
building" "$(out task)" "the task ran on a 500x500 terminal"
script='read -r req; ref=$(echo "$req" | sed -n "s/.*\"ref\": *\"\([^\"]*\)\".*/\1/p"); printf "{\"version\": {\"ref\": \"%s\"}, \"metadata\": [{\"name\": \"tty\", \"value\": \"%s\"}]}\n" "$ref" "$(tty)"'
id=$(run_proc t "$(spec '' '' "$script" check)") || fatal "resource check"
echo '{"source": {"uri": "git://x"}, "version": {"ref": "abc123"}}' >"$T/procs/check/stdin"
assert_eq 0 "$(wait_proc t check)" "the resource script exits 0"
got=$(tmo cat "$T/procs/check/stdout" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
print(d["version"]["ref"], d["metadata"][0]["value"])')
assert_eq "abc123 not a tty" "$got" "JSON in, JSON out, on pipes"
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon is fine"
gfs_done
