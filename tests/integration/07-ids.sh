#!/bin/bash
# Process ids count up per container and never repeat, not after processes
# exit and not after a daemon restart (clean or kill -9).
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"

seen=
last=0
take() { # WHAT
	local id
	id=$(run_proc web "/bin/true") || { fail "$1: run failed"; return; }
	assert_match "$id" '^[0-9]+$' "$1: id is a number"
	[ "$id" -gt "$last" ] 2>/dev/null || fail "$1: id $id not above the previous $last"
	case " $seen " in *" $id "*) fail "$1: id $id repeated" ;; esac
	seen="$seen $id"
	last=$id
	wait_proc web "$id" >/dev/null
}
take first
take second
take third
listed=$(ls "$MNT/web/procs" | grep -E '^[0-9]+$' | sort -n | tr '\n' ' ')
assert_eq "$(echo $seen | tr ' ' '\n' | sort -n | tr '\n' ' ')" "$listed" "ls procs lists every process, exited ones too"

gfs_restart
take "after a clean restart"
take "again"
gfs_kill9
gfs_start
take "after kill -9"

# ids are per container: another container's ids do not disturb these
mkdir "$MNT/db" || fail "mkdir db"
run_proc db /bin/true >/dev/null || fail "run in db"
take "after a process in another container"
gfs_done
