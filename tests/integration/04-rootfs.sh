#!/bin/bash
# The root file system: a fresh /proc, a minimal /dev, /dev/shm tmpfs,
# /sys read-only, / writable with writes that persist across processes of
# the container and never reach the image or another container.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
mkdir "$MNT/other" || fatal "mkdir other"

# /proc is the container's own
assert_eq gardenfs-init "$(ctr_run web 'cat /proc/1/comm')" "/proc/1 is the container's init"
assert_match "$(ctr_sh web 'grep " /proc " /proc/mounts')" '^proc /proc proc ' "/proc is a proc mount"
small=$(ctr_sh web 'echo $$')
[ "${small:-999}" -lt 100 ] || fail "pid of a process inside is $small: /proc or the pid namespace is not fresh"

# /dev: the minimal set
for d in null zero full random urandom tty ptmx pts shm fd stdin stdout stderr; do
	out=$(ctr_sh web "[ -e /dev/$d ] || [ -L /dev/$d ] && echo yes")
	assert_eq yes "$out" "/dev/$d exists"
done
assert_eq 4 "$(ctr_sh web 'head -c 4 /dev/zero | wc -c')" "/dev/zero reads"
assert_eq 16 "$(ctr_sh web 'head -c 16 /dev/urandom | wc -c')" "/dev/urandom reads"
assert_eq "" "$(ctr_sh web 'echo gone > /dev/null; cat /dev/null')" "/dev/null"
out=$(ctr_sh web 'echo x > /dev/full 2>/dev/null && echo wrote || echo refused')
assert_eq refused "$out" "/dev/full refuses writes"
n=$(ctr_sh web 'ls /dev | grep -c -x -e sda -e vda -e mem -e kmsg -e port -e fuse')
assert_eq 0 "$n" "no host devices (sda vda mem kmsg port fuse) in /dev"
assert_match "$(ctr_sh web 'grep " /dev/shm " /proc/mounts')" ' /dev/shm tmpfs ' "/dev/shm is tmpfs"
assert_eq shm-ok "$(ctr_sh web 'echo shm-ok > /dev/shm/x && cat /dev/shm/x')" "/dev/shm writable"
assert_match "$(ctr_sh web 'grep " /dev/pts " /proc/mounts')" ' /dev/pts devpts ' "/dev/pts is devpts"
# programs that log to /dev/stdout or /dev/stderr (nginx does) must work, in
# unprivileged containers too: the reopened output file must be writable by
# the container's root
assert_eq via-fd "$(ctr_sh web 'echo via-fd > /dev/stdout')" "echo > /dev/stdout in an unprivileged container"
assert_eq via-fd2 "$(ctr_sh web 'echo via-fd2 > /dev/fd/1')" "echo > /dev/fd/1 in an unprivileged container"
ctr_sh web 'echo to-err > /dev/stderr' >/dev/null
assert_eq to-err "$(tmo cat "$MNT/web/procs/$LAST_ID/stderr")" "echo > /dev/stderr in an unprivileged container"

# /sys is read-only
opts=$(ctr_sh web 'awk '\''$2 == "/sys" { print $4 }'\'' /proc/mounts')
assert_match "$opts" '(^|,)ro(,|$)' "/sys mounted read-only"
out=$(ctr_sh web 'mkdir /sys/x 2>&1 || echo refused; echo 1 > /sys/kernel/mm/ksm/run 2>&1 || echo refused2')
assert_contains "$out" refused "mkdir in /sys refused"
assert_contains "$out" refused2 "write to a /sys file refused"
assert_eq yes "$(ctr_sh web '[ -d /sys/class ] && echo yes')" "/sys is populated"

# / is writable and persists across processes
ctr_sh web 'echo persisted > /hello; mkdir -p /opt/app; echo 1 > /opt/app/f; rm -f /bin/true' >/dev/null
assert_eq 0 "$LAST_STATUS" "writing to / in the container"
assert_eq persisted "$(ctr_run web 'cat /hello')" "a file written in / is there for the next process"
assert_eq 1 "$(ctr_run web 'cat /opt/app/f')" "a new directory persists"
assert_eq gone "$(ctr_sh web '[ -e /bin/true ] && echo still || echo gone')" "a deletion persists"
# ... but not in the image nor in another container
[ -e "$IMAGE/hello" ] && fail "a container's write reached the image"
[ -e "$IMAGE/bin/true" ] || [ -L "$IMAGE/bin/true" ] || fail "a container's delete reached the image"
assert_eq absent "$(ctr_sh other '[ -e /hello ] && echo present || echo absent')" "another container does not see it"
assert_eq there "$(ctr_sh other '[ -e /bin/true ] && echo there')" "another container still has /bin/true"

# the root is an overlay and the container's cwd/home
assert_match "$(ctr_sh web 'awk '\''$2 == "/" { print $3 }'\'' /proc/mounts')" 'overlay' "/ is an overlay"
assert_eq /root "$(ctr_run web pwd)" "default dir is root's home"
assert_eq 1777 "$(ctr_sh web 'stat -c %a /tmp')" "/tmp mode"
gfs_done
