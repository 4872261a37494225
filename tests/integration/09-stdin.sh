#!/bin/bash
# stdin: a FIFO; bytes written reach the process; the close of the first
# writer is EOF.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
P=$MNT/web/procs

# echo data > stdin; the close is EOF for wc
id=$(run_proc web "/usr/bin/wc -c") || fatal "run wc"
echo hello >"$P/$id/stdin" || fail "write to stdin"
assert_eq 0 "$(wait_proc web "$id")" "wc exits after the writer's close"
assert_eq 6 "$(tmo cat "$P/$id/stdout" | tr -d ' ')" "wc -c counted what was written"

# cat echoes; several writes in one open arrive in order; EOF at close
id=$(run_proc web "/bin/cat")
{
	printf 'one '
	sleep 0.3
	printf 'two '
	sleep 0.3
	printf 'three'
} >"$P/$id/stdin"
assert_eq 0 "$(wait_proc web "$id")" "cat exits at EOF"
assert_eq "one two three" "$(tmo cat "$P/$id/stdout")" "cat echoed the writes in order"

# stdin opened before the process reads; output streams while stdin is open
id=$(run_proc web "/bin/cat")
exec 7>"$P/$id/stdin"
echo first >&7
out=$(timeout 5 head -n1 "$P/$id/stdout")
assert_eq first "$out" "output appears while stdin is still open"
assert_eq running "$(kv "$P/$id/status" state)" "the process waits for more input"
echo second >&7
exec 7>&-
assert_eq 0 "$(wait_proc web "$id")" "cat exits at the close"
assert_eq "first
second" "$(tmo cat "$P/$id/stdout")" "both lines"

# 4 MiB of random bytes through stdin arrive intact
head -c 4194304 /dev/urandom >"$TDIR/in"
id=$(run_proc web "/usr/bin/md5sum")
tmo cat "$TDIR/in" >"$P/$id/stdin" || fail "writing 4 MiB to stdin"
wait_proc web "$id" >/dev/null
assert_eq "$(md5sum <"$TDIR/in" | cut -d' ' -f1)" "$(tmo cat "$P/$id/stdout" | cut -d' ' -f1)" "md5 of 4 MiB through stdin"

# a process that never reads stdin still exits, and an empty write closes
id=$(run_proc web "/bin/cat")
: >"$P/$id/stdin"
assert_eq 0 "$(wait_proc web "$id")" "open and close without data is EOF"
assert_eq "" "$(tmo cat "$P/$id/stdout")" "no data"

# JSON spec and stdin
id=$(run_proc web '{"path": "/usr/bin/tr", "args": ["a-z", "A-Z"]}')
printf 'shout' >"$P/$id/stdin"
wait_proc web "$id" >/dev/null
assert_eq SHOUT "$(tmo cat "$P/$id/stdout")" "stdin of a JSON-spec process"
gfs_done
