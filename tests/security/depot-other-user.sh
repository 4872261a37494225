#!/bin/bash
# Attack: another host user (nobody) looks into the depot: lists the
# containers, reads a process's output, walks the image cache, and runs a
# setuid-root file of a uid-shifted image (owned there by host uid
# 2000000000, the root of every unprivileged container) to become that
# uid; the daemon runs with umask 000, hoping for files others can reach.
# Safe outcome: the depot and every directory the daemon makes in it are
# root's and 0700 whatever the umask: nobody gets EACCES on ls, cat, stat
# and exec, by any path, also of the setuid file whose full name it knows;
# the store is mounted nosuid,nodev and no overlay of a container is
# mounted where the host sees it; unprivileged and privileged containers
# still start and run, also in a depot below a 0700 directory (an init
# opens its layers before it becomes the container's root).
. "$(dirname "$0")/../lib.sh"
command -v setpriv >/dev/null || skip "needs setpriv"
test_image >/dev/null
has_helper || skip "no ctr-helper in the image"
cp "$IMAGE/bin/ctr-helper" "$IMAGE/bin/suid-helper" && chmod 4755 "$IMAGE/bin/suid-helper" ||
	fatal "a setuid-root helper in the image"
# the command runs as nobody from a shell that is nobody's already (setpriv
# itself finds its program with root's rights)
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c '"$@"' sh "$@" 2>&1; }

check_depot() {
	mkdir "$MNT/web" || fatal "mkdir web"
	echo "create handle=priv privileged=true" >"$MNT/ctl" || fatal "create a privileged container"
	assert_eq "uid=0 euid=0" "$(ctr_run web '/bin/suid-helper ids')" "an unprivileged container runs (the image's setuid helper as root)"
	assert_eq "uid=0 euid=0" "$(ctr_run priv '/bin/suid-helper ids')" "a privileged container runs"
	id=$(run_proc web "/bin/sh -c 'echo secret-output'") || fail "run"
	wait_proc web "$id" >/dev/null

	# every directory the daemon made: root's, 0700
	for d in "$DEPOT" "$DEPOT/containers/" "$DEPOT/images/" "$DEPOT/trash/" \
		"$DEPOT/containers/web" "$DEPOT/containers/web/data" "$DEPOT/containers/priv" \
		"$DEPOT/containers/web/procs" "$DEPOT/containers/web/meta"; do
		assert_eq "700 root" "$(stat -L -c '%a %U' "$d")" "mode and owner of ${d#$TDIR/}"
	done
	if [ -d "$DEPOT/store" ]; then
		assert_eq "700 root" "$(stat -c '%a %U' "$DEPOT/store")" "mode of the store"
		opts=$(awk -v m="$DEPOT/store" '$2 == m { print $4 }' /proc/mounts)
		assert_match "$opts" '(^|,)nosuid(,|$)' "the store is mounted nosuid"
		assert_match "$opts" '(^|,)nodev(,|$)' "the store is mounted nodev"
	fi
	assert_eq "" "$(awk -v t="$TDIR/" '$3 == "overlay" && index($2, t) == 1' /proc/mounts)" "no container overlay in the host's mount table"

	# nobody gets in, by any path
	out=$(nobody ls "$DEPOT")
	assert_contains "$out" "Permission denied" "nobody lists the depot"
	for p in "$DEPOT/containers" "$DEPOT/images" "$DEPOT/store" "$DEPOT/containers/web"; do
		[ -e "$p" ] || continue
		out=$(nobody ls "$p")
		assert_contains "$out" "Permission denied" "nobody lists ${p#$TDIR/}"
	done
	out_file=$(ls "$DEPOT"/containers/web/data/out/"$id"/stdout)
	assert_eq "secret-output" "$(cat "$out_file")" "root reads the output file"
	out=$(nobody cat "$out_file")
	assert_contains "$out" "Permission denied" "nobody reads a process's output"
	assert_not_contains "$out" "secret-output" "nobody reads a process's output"
	out=$(nobody cat "$DEPOT/containers/web/config")
	assert_contains "$out" "Permission denied" "nobody reads a container's config"

	# the shifted image's setuid file: there for root to see, out of reach
	shifted=
	for f in "$DEPOT"/images/shift-*/bin/suid-helper; do [ -e "$f" ] && shifted=$f; done
	[ -n "$shifted" ] || fatal "no shifted copy of the image with its setuid helper"
	assert_eq "4755 2000000000" "$(stat -c '%a %u' "$shifted")" "the shifted helper is setuid to the containers' root"
	out=$(nobody stat "$shifted")
	assert_contains "$out" "Permission denied" "nobody stats the shifted setuid file"
	out=$(nobody "$shifted" ids)
	assert_contains "$out" "Permission denied" "nobody runs the shifted setuid file"
	assert_not_contains "$out" "euid=2000000000" "nobody becomes the containers' root"
	for f in "$DEPOT"/images/*/bin/suid-helper; do
		[ -e "$f" ] || continue
		out=$(nobody "$f" ids)
		assert_contains "$out" "Permission denied" "nobody runs ${f#$DEPOT/}"
	done

	# the daemon's own files are root's too
	for f in init.sock; do
		assert_eq "600 root" "$(stat -c '%a %U' "$DEPOT/containers/web/$f")" "mode of $f under umask 000"
	done
	assert_eq "600 root" "$(stat -c '%a %U' "$DEPOT/reaper.sock")" "mode of reaper.sock under umask 000"
}

# with the store (a loop-mounted btrfs), and without one: then the image
# cache is on the host's own file system, setuid bits and all
umask 000
gfs_start
umask 022
check_depot
for h in web priv; do rmdir "$MNT/$h" || fail "rmdir $h"; done
gfs_stop
# ... and below a directory only root may walk: nothing of the depot is
# reached by path from a container's ids
mkdir -m 700 "$TDIR/private"
DEPOT=$TDIR/private/depot-nostore
mkdir -p "$DEPOT"
umask 000
gfs_start --store-size 0
umask 022
[ -e "$DEPOT/store" ] && fail "a store with --store-size 0"
check_depot
gfs_done
