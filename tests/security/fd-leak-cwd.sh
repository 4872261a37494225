#!/bin/bash
# Attack (CVE-2024-21626, runc's leaked fd): a process spec's dir is
# /proc/self/fd/N, where N is a descriptor the runtime still holds when it
# chdirs (a directory of the host, the depot, a socket), so that the
# process starts with its cwd on the host and walks out with "../..".
# Safe outcome: before the chdir the child has closed every descriptor but
# 0-2 and its private error pipe, so no /proc/self/fd/N leads to anything
# of the init or the host: such a dir fails (ENOENT, ENOTDIR or ELOOP, with
# a reason) or stays inside the container; a process sees only fds 0, 1
# and 2; the same for other users and in privileged containers.
. "$(dirname "$0")/../lib.sh"
gfs_start
has_helper || skip "no ctr-helper in the image"
mkdir "$MNT/web" || fatal "mkdir web"
echo "create handle=priv privileged=true" >"$MNT/ctl" || fatal "create privileged"
# a second process keeps the init busy with its own descriptors (pipes,
# output files in the depot, the stdin FIFO)
run_proc web "/bin/sleep 60" >/dev/null
run_proc priv "/bin/sleep 60" >/dev/null

for c in web priv; do
	for u in root vcap; do
		fds=$(ctr_run $c "{\"path\": \"/bin/ctr-helper\", \"args\": [\"fds\"], \"user\": \"$u\"}" | cut -d' ' -f1 | tr '\n' ' ')
		assert_eq "0 1 2 " "$fds" "only stdin, stdout, stderr are open ($c, $u)"
	done
	for n in $(seq 0 20); do
		got=$(gfs_io rw "$MNT/$c/procs/new" str "{\"path\": \"/bin/sh\", \"args\": [\"-c\", \"pwd -P; ls -a ../../..\"], \"dir\": \"/proc/self/fd/$n\"}")
		case ${got%%$'\n'*} in
		OK)
			id=$(printf '%s\n' "$got" | sed -n 2p)
			wait_proc $c "$id" >/dev/null
			out=$(tmo cat "$MNT/$c/procs/$id/stdout")
			case $out in
			*init.sock* | *next-id* | *containers* | *"$TDIR"* | *depot*) fail "dir /proc/self/fd/$n reached the host ($c): $out" ;;
			esac
			;;
		ENOENT | ENOTDIR | ELOOP | EACCES) ;;
		*) fail "dir /proc/self/fd/$n ($c): unexpected ${got%%$'\n'*}" ;;
		esac
	done
	# the init's cwd and root are its own business
	for d in /proc/1/cwd /proc/1/root /proc/1/fd/3; do
		got=$(gfs_io rw "$MNT/$c/procs/new" str "{\"path\": \"/bin/pwd\", \"args\": [\"-P\"], \"dir\": \"$d\", \"user\": \"vcap\"}")
		case ${got%%$'\n'*} in
		OK)
			id=$(printf '%s\n' "$got" | sed -n 2p)
			wait_proc $c "$id" >/dev/null
			out=$(tmo cat "$MNT/$c/procs/$id/stdout")
			case $out in "$TDIR"* | *depot*) fail "dir $d reached the host ($c): $out" ;; esac
			;;
		ENOENT | ENOTDIR | ELOOP | EACCES) ;;
		*) fail "dir $d ($c): unexpected ${got%%$'\n'*}" ;;
		esac
	done
done
gfs_done
