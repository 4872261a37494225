#!/bin/bash
# Attack: someone other than the daemon talks to a container's init (its
# socket DEPOT/containers/H/init.sock spawns processes as the container's
# root, which in a privileged container is host root) or to the depot's
# reaper (DEPOT/reaper.sock clones inits): another host user; a process
# inside the container's pid namespace (a root shell there, here made with
# nsenter); a host process of another uid that holds CAP_DAC_OVERRIDE and
# so gets past the socket's mode; each also trying to push the daemon's
# own connection out.
# Safe outcome: both sockets are 0600 in 0700 root directories (the daemon
# ran with umask 000): other users get EACCES on connect.  The init closes
# at once every connection from inside its pid namespace, every one whose
# uid is not the daemon's where it can tell (privileged containers), and
# any new one while the daemon's connection lives; no answer is given and
# the daemon keeps its container: processes run after each attempt, and a
# restarted daemon (whose old connection is gone) is served again.  The
# reaper drops a peer of another uid.  What an unprivileged container's
# init cannot tell: a host process of an unmapped uid reads as the
# overflow uid, like the daemon (docs/security.md).
. "$(dirname "$0")/../lib.sh"
command -v setpriv >/dev/null && command -v nsenter >/dev/null || skip "needs setpriv and nsenter"
[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3"
umask 000
gfs_start
umask 022
mkdir "$MNT/web" || fatal "mkdir web"
echo "create handle=priv privileged=true" >"$MNT/ctl" || fatal "create a privileged container"

# connect, say hello as the daemon would, print what comes back
cat >"$TDIR/conn.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect: " + ("EACCES" if e.errno == 13 else str(e.errno))); sys.exit(0)
s.settimeout(5)
try:
    s.send(b"hello\0")
    d = s.recv(8192)
    print("answer" if d else "closed")
except socket.timeout:
    print("no answer")
except OSError as e:
    print("closed")
PY
as_uid() { # UID CMD...: as that uid, with or without CAP_DAC_OVERRIDE
	local u=$1 caps=$2
	shift 2
	if [ "$caps" = dac ]; then
		setpriv --reuid="$u" --regid="$u" --clear-groups --inh-caps=+dac_override --ambient-caps=+dac_override "$@"
	else
		setpriv --reuid="$u" --regid="$u" --clear-groups /bin/sh -c '"$@"' sh "$@"
	fi
}

for h in web priv; do
	sock=$DEPOT/containers/$h/init.sock
	assert_eq "600 root socket" "$(stat -c '%a %U %F' "$sock")" "$h: init.sock's mode under umask 000"
	assert_eq "700 root" "$(stat -c '%a %U' "$DEPOT/containers/$h")" "$h: its directory"
	assert_eq "connect: EACCES" "$(as_uid 65534 no /usr/bin/python3 "$TDIR/conn.py" "$sock")" "$h: nobody connects to init.sock"
	assert_eq "connect: EACCES" "$(as_uid 1000 no /usr/bin/python3 "$TDIR/conn.py" "$sock")" "$h: uid 1000 connects to init.sock"
	read -r ipid _ <"$DEPOT/containers/$h/init.pid"
	assert_eq closed "$(nsenter -t "$ipid" -p -- /usr/bin/python3 "$TDIR/conn.py" "$sock")" "$h: root in the container's pid namespace is refused"
	assert_eq alive "$(ctr_sh $h 'echo alive')" "$h: the daemon keeps its init"
	assert_eq closed "$(as_uid 1000 dac /usr/bin/python3 "$TDIR/conn.py" "$sock")" "$h: uid 1000 with CAP_DAC_OVERRIDE is refused"
	assert_eq alive "$(ctr_sh $h 'echo alive')" "$h: the daemon keeps its init"
	assert_eq closed "$(/usr/bin/python3 "$TDIR/conn.py" "$sock")" "$h: host root is refused while the daemon is connected"
	assert_eq alive "$(ctr_sh $h 'echo alive')" "$h: the daemon keeps its init"
done

sock=$DEPOT/reaper.sock
assert_eq "600 root socket" "$(stat -c '%a %U %F' "$sock")" "reaper.sock's mode under umask 000"
assert_eq "connect: EACCES" "$(as_uid 65534 no /usr/bin/python3 "$TDIR/conn.py" "$sock")" "nobody connects to reaper.sock"
assert_eq closed "$(as_uid 1000 dac /usr/bin/python3 "$TDIR/conn.py" "$sock")" "uid 1000 with CAP_DAC_OVERRIDE is dropped by the reaper"

# the daemon's way back in: a restart, whose old connection is gone
gfs_kill9
gfs_start
for h in web priv; do
	assert_eq again "$(ctr_sh $h 'echo again')" "$h: served by a restarted daemon"
done
gfs_done
