#!/bin/bash
# Streaming cannot reach outside its destination, nor the host: the escapes
# of Docker cp's and runc's CVEs, each tried and shown to fail, in an
# unprivileged and a privileged container: "../" names, absolute names,
# writing through a symlink the archive (or the container) made, hard links
# to /etc/shadow, a destination that is a symlink to /, a directory the
# container swaps for a symlink in the middle of a slow stream
# (CVE-2018-15664), device nodes.  The stream helper loads no code from
# the container: a planted gconv module and NSS module are never run
# (CVE-2019-14271), and strace shows it opens no library, gconv, NSS or
# locale file once inside.  A crash of the helper fails the stream only.
. "$(dirname "$0")/../stream-lib.sh"
stream_start
M=gfs-esc-$$
bgpids=
cleanup_bg() {
	local p
	for p in $bgpids; do kill "$p" 2>/dev/null; done
}
trap 'rc=$?; cleanup_bg; (exit $rc); gfs_cleanup' EXIT

# none NAME...: none of these exists, in the container (by its own ls)
# nor on the host
none() {
	local p
	for p in "$@"; do
		[ -e "$p" ] || [ -L "$p" ] && fail "$p exists on the host"
		assert_eq no "$(ctr_sh c "[ -e '$p' ] || [ -L '$p' ] && echo yes || echo no")" "$p must not exist in the container"
	done
	return 0
}

ctr_sh c 'echo ctr-secret > /etc/shadow; chmod 600 /etc/shadow' >/dev/null
host_shadow_links=$(stat -c %h /etc/shadow)

# ---- ".." names: refused
tar_gen "$TDIR/a.tar" "f:../../../../tmp/$M-a:x"
sd_in /tmp/ea/sub <"$TDIR/a.tar"
assert_stream EINVAL "../ leading out"
tar_gen "$TDIR/a2.tar" "f:ok:x" "f:a/../../$M-a2:x"
sd_in /tmp/ea2 <"$TDIR/a2.tar"
assert_stream EINVAL "a/../../ leading out"
assert_contains "$(sd_reason)" '".."' "the reason names the .. component"
none "/tmp/$M-a" "/tmp/ea/$M-a" "/tmp/$M-a2"

# ---- absolute names: made relative to the destination, as tar does
tar_gen "$TDIR/b.tar" "f:/tmp/$M-b:x" "f:/etc/$M-b2:y"
sd_in /tmp/eb <"$TDIR/b.tar"
assert_stream done "absolute names"
assert_eq x "$(ctr_sh c "cat /tmp/eb/tmp/$M-b")" "an absolute name lands in the destination"
none "/tmp/$M-b" "/etc/$M-b2"

# ---- symlink, then write through it
tar_gen "$TDIR/c.tar" "l:lnk:/etc" "f:lnk/$M-c:x"
sd_in /tmp/ec <"$TDIR/c.tar"
assert_stream EINVAL "writing through an absolute symlink the archive made"
tar_gen "$TDIR/c2.tar" "l:up:../../.." "f:up/tmp/$M-c2:x"
sd_in /tmp/ec2 <"$TDIR/c2.tar"
assert_stream EINVAL "writing through a symlink that climbs out"
none "/etc/$M-c" "/tmp/$M-c2"
assert_eq /etc "$(ctr_sh c 'readlink /tmp/ec/lnk')" "the symlink itself was made (entries before a failure stay)"
# a symlink that stays inside may be gone through
tar_gen "$TDIR/c3.tar" "d:sub" "l:in:sub" "f:in/ok:inside"
sd_in /tmp/ec3 <"$TDIR/c3.tar"
assert_stream done "a symlink that stays in the destination"
assert_eq inside "$(ctr_sh c 'cat /tmp/ec3/sub/ok')" "written through it, inside"
# a file entry replaces a symlink, never writes through it
tar_gen "$TDIR/c4.tar" "l:pw:/etc/passwd" "f:pw:overwritten"
sd_in /tmp/ec4 <"$TDIR/c4.tar"
assert_stream done "a file over a symlink of the same name"
assert_eq "root:x:0:0:root:/root:/bin/sh" "$(ctr_sh c 'head -n1 /etc/passwd')" "/etc/passwd untouched"
assert_eq overwritten "$(ctr_sh c '[ -L /tmp/ec4/pw ] || cat /tmp/ec4/pw')" "the symlink was replaced by the file"
# a symlink the container made in the destination
ctr_sh c 'mkdir /tmp/ec5 && ln -s /etc /tmp/ec5/cfg' >/dev/null
tar_gen "$TDIR/c5.tar" "f:cfg/$M-c5:x"
sd_in /tmp/ec5 <"$TDIR/c5.tar"
assert_stream EINVAL "through the container's own symlink out of the destination"
none "/etc/$M-c5"

# ---- hard links out of the tree
tar_gen "$TDIR/d1.tar" "h:h1:../../etc/shadow"
sd_in /tmp/ed <"$TDIR/d1.tar"
assert_stream EINVAL "hard link to ../../etc/shadow"
tar_gen "$TDIR/d2.tar" "h:h2:/etc/shadow"
sd_in /tmp/ed <"$TDIR/d2.tar"
assert_stream EINVAL "hard link to /etc/shadow"
tar_gen "$TDIR/d3.tar" "l:l:/etc" "h:h3:l/shadow"
sd_in /tmp/ed <"$TDIR/d3.tar"
assert_stream EINVAL "hard link through a symlink to /etc"
assert_eq 1 "$(ctr_sh c 'stat -c %h /etc/shadow')" "the container's /etc/shadow has no new link"
assert_eq "" "$(ctr_sh c 'ls /tmp/ed | grep ^h')" "no hard link was made"

# ---- the destination itself a symlink to /: the container's /
ctr_sh c 'ln -s / /tmp/rootlink' >/dev/null
tar_gen "$TDIR/e.tar" "f:$M-e:x"
sd_in /tmp/rootlink <"$TDIR/e.tar"
assert_stream done "a destination that is a symlink to /"
assert_eq x "$(ctr_sh c "cat /$M-e")" "it is the container's root"
[ -e "/$M-e" ] && fail "/$M-e was made on the host"
sd_in /tmp/rootlink/../../../../../tmp/e2 <"$TDIR/e.tar"
assert_stream done "a destination climbing above /"
assert_eq x "$(ctr_sh c "cat /tmp/e2/$M-e")" "climbing stops at the container's root"
sd_out /tmp/rootlink/etc/passwd | tar -xOf - >"$TDIR/pw" 2>/dev/null
assert_eq "$(ctr_sh c 'cat /etc/passwd')" "$(cat "$TDIR/pw")" "streamout through a symlink to /: the container's passwd"
sd_out /../../../etc/shadow | tar -xOf - >"$TDIR/sh" 2>/dev/null
assert_eq ctr-secret "$(cat "$TDIR/sh")" "/../../../etc/shadow is the container's"

# ---- a directory swapped for a symlink during a slow stream
swap_test() { # WHAT LINK-TARGET
	local d=/tmp/ef-$RANDOM flag=$TDIR/flag-$RANDOM
	tar_slow "$flag" "d:d" "f:d/a:first" WAIT "f:d/$M-f:late" | sd_in "$d" &
	local drv=$!
	bgpids="$bgpids $drv"
	wait_until 10 test -f "$(in_ctr "$d/d/a")" || fail "$1: the first entry never arrived"
	ctr_sh c "mv $d/d $d/d.old && ln -s $2 $d/d" >/dev/null
	touch "$flag"
	wait "$drv"
	assert_stream EINVAL "$1"
	none "/etc/$M-f" "$d/d.old/$M-f"
}
swap_test "swapped for a symlink to /etc mid-stream" /etc
swap_test "swapped for a symlink climbing out mid-stream" ../../../etc

# ---- device nodes: refused unprivileged
tar_gen "$TDIR/g.tar" "c:null2:1,3"
sd_in /tmp/eg <"$TDIR/g.tar"
assert_stream EPERM "a character device in an unprivileged container"
tar_gen "$TDIR/g2.tar" "b:blk:7,0"
sd_in /tmp/eg <"$TDIR/g2.tar"
assert_stream EPERM "a block device in an unprivileged container"
assert_eq "" "$(ctr_sh c 'ls -A /tmp/eg')" "no node made"

# ---- a privileged container: root is host root there, so the same
# escapes must fail against the host itself
echo "create handle=p privileged=true" >"$MNT/ctl" || fatal "create privileged"
PP=$(init_of p)
sd_in -p "$PP" -P /tmp/dev <"$TDIR/g.tar"
assert_stream done "a device node in a privileged container"
assert_eq "1,3" "$(ctr_sh p 'stat -c %t,%T /tmp/dev/null2')" "the node is 1,3"
for t in a c c2 d1 d2 d3; do
	sd_in -p "$PP" -P /tmp/pe <"$TDIR/$t.tar"
	assert_stream EINVAL "privileged: $t.tar"
done
[ -e "/etc/$M-c" ] || [ -e "/tmp/$M-a" ] || [ -e "/tmp/$M-c2" ] && fail "privileged escape reached the host"
assert_eq "$host_shadow_links" "$(stat -c %h /etc/shadow)" "the host's /etc/shadow has no new link"
sd_in -p "$PP" -P -u vcap /root/x <"$TDIR/e.tar"
assert_stream EACCES "privileged: vcap has no host powers"

# ---- no code from the container: a planted gconv module and NSS module
if command -v cc >/dev/null; then
	cat >"$TDIR/evil.c" <<'C'
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((constructor)) static void pwn(void)
{
	const char *m = getenv("EVIL_MARK");
	int fd = open(m ? m : "/tmp/gfs-evil-mark", O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
}
int gconv_init(void *s) { (void)s; return 0; }
int gconv(void *a, void *b, void *c, void *d, void *e, int f) { (void)a; (void)b; (void)c; (void)d; (void)e; (void)f; return 0; }
void gconv_end(void *s) { (void)s; }
C
	cc -shared -fPIC -o "$TDIR/EVIL.so" "$TDIR/evil.c" || fatal "building the planted module"
	plant=$TDIR/plant
	mkdir -p "$plant"
	cp "$TDIR/EVIL.so" "$plant/EVIL.so"
	cat >"$plant/gconv-modules" <<'G'
module EVIL// INTERNAL EVIL 1
module INTERNAL EVIL// EVIL 1
module UTF-8// INTERNAL EVIL 1
module INTERNAL UTF-8// EVIL 1
module ANSI_X3.4-1968// INTERNAL EVIL 1
module INTERNAL ANSI_X3.4-1968// EVIL 1
G
	# the plant is live: glibc on the host runs it when pointed at it
	echo x | EVIL_MARK=$TDIR/host-mark GCONV_PATH=$plant iconv -f EVIL -t UTF-8 >/dev/null 2>&1
	[ -e "$TDIR/host-mark" ] || fail "control: the planted gconv module did not run on the host"
	# planted as the container's root would (host root cannot write
	# into the container's id-mapped tree)
	pt=$TDIR/plant-tree
	for d in usr/lib/x86_64-linux-gnu/gconv usr/lib/gconv usr/lib64/gconv; do
		mkdir -p "$pt/$d/gconv-modules.d"
		cp "$plant/EVIL.so" "$pt/$d/EVIL.so"
		cp "$plant/gconv-modules" "$pt/$d/gconv-modules"
		cp "$plant/gconv-modules" "$pt/$d/gconv-modules.d/evil.conf"
		head -c 4096 /dev/urandom >"$pt/$d/gconv-modules.cache"
	done
	for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu; do
		mkdir -p "$pt/$d"
		cp "$TDIR/EVIL.so" "$pt/$d/libnss_evil.so.2"
	done
	mkdir -p "$pt/etc"
	printf 'passwd: evil\ngroup: evil\nhosts: evil\n' >"$pt/etc/nsswitch.conf"
	tar -C "$pt" -cf "$TDIR/plant.tar" usr lib etc/nsswitch.conf
	sd_in / <"$TDIR/plant.tar"
	assert_stream done "planting hostile modules into the container"
	assert_eq "passwd: evil" "$(ctr_sh c 'head -n1 /etc/nsswitch.conf')" "the plant is in place"
	# names that need conversions, owner names that would need NSS
	mkdir -p "$TDIR/u/ünïcödé"
	echo z >"$TDIR/u/ünïcödé/ファイル"
	tar --format=pax --owner=evil:4242 --group=evilg:4343 -C "$TDIR/u" -cf "$TDIR/u.tar" .
	sd_in /tmp/eu <"$TDIR/u.tar"
	assert_stream done "a pax stream with UTF-8 names and owner names"
	assert_eq z "$(ctr_sh c 'cat "/tmp/eu/ünïcödé/ファイル"')" "UTF-8 names kept"
	assert_eq 4242 "$(ctr_sh c 'stat -c %u "/tmp/eu/ünïcödé/ファイル"')" "owners by number, not by name"
	sd_out /tmp/eu/ >"$TDIR/eu.tar"
	assert_stream done "its streamout"
	assert_contains "$(tar -tf "$TDIR/eu.tar")" "./ünïcödé/ファイル" "UTF-8 names out"
	assert_eq no "$(ctr_sh c '[ -e /tmp/gfs-evil-mark ] && echo yes || echo no')" "the planted gconv/NSS module never ran in the helper"
	[ -e /tmp/gfs-evil-mark ] && fail "a planted module ran on the host"

	# what the helper opens once inside: no library, gconv, NSS, locale
	if command -v strace >/dev/null; then
		for dir in in out; do
			log=$TDIR/strace-$dir.log
			if [ $dir = in ]; then
				tmo strace -f -qq -o "$log" -e trace=open,openat,openat2,setns,mmap,mprotect \
					"$SD" in -p "$P" /tmp/eu2 <"$TDIR/u.tar" 2>"$TDIR/sd.err"
			else
				tmo strace -f -qq -o "$log" -e trace=open,openat,openat2,setns,mmap,mprotect \
					"$SD" out -p "$P" /tmp/eu2/ >/dev/null 2>"$TDIR/sd.err"
			fi
			assert_stream done "stream$dir under strace"
			child=$(awk '/setns\(/ { print $1; exit }' "$log")
			[ -n "$child" ] || { fail "stream$dir: no setns seen in strace"; continue; }
			after=$(awk -v p="$child" '$1 == p' "$log" | sed -n '/setns(/,$p')
			assert_match "$after" 'setns\(3, CLONE_NEWNS\|CLONE_NEWUSER\) = 0' "stream$dir: entered the user and mount namespaces"
			opened=$(printf '%s\n' "$after" | grep -E 'open(at2?)?\(' | grep -Ei '\.so|gconv|nss|locale|ld\.so|/etc/(passwd|group|localtime)|zoneinfo' || true)
			assert_eq "" "$opened" "stream$dir: nothing loadable opened after setns"
			exec_maps=$(printf '%s\n' "$after" | grep -E '^[0-9]+ +(mmap|mprotect)\(' | grep PROT_EXEC || true)
			assert_eq "" "$exec_maps" "stream$dir: no executable mapping after setns"
			# and before: the locale and gconv tables came from the host
			before=$(awk -v p="$child" '$1 == p' "$log" | sed -n '1,/setns(/p')
			assert_match "$before" 'locale' "stream$dir: the locale was loaded before entering"
		done
	fi

	# The second line of defence alone: a helper built without the
	# warm-up (tests only) is in the C locale, where libarchive converts
	# pax names with iconv, so glibc reads the container's gconv-modules
	# once inside and tries to map the planted module.  seccomp refuses.
	NOWARM=$GFS_REPO/build/gardenfs-stream-nowarm
	if [ -x "$NOWARM" ] && command -v strace >/dev/null; then
		log=$TDIR/strace-nowarm.log
		tmo strace -f -qq -o "$log" -e trace=open,openat,openat2,setns,mmap,mprotect \
			"$SD" in -p "$P" -x "$NOWARM" /tmp/eu3 <"$TDIR/u.tar" 2>"$TDIR/sd.err"
		child=$(awk '/setns\(/ { print $1; exit }' "$log")
		after=$(awk -v p="$child" '$1 == p' "$log" | sed -n '/setns(/,$p')
		assert_match "$after" 'gconv-modules' "without the warm-up glibc reads the container's gconv-modules"
		assert_match "$after" 'EVIL\.so' "and opens the planted module"
		exec_maps=$(printf '%s\n' "$after" | grep -E '^[0-9]+ +(mmap|mprotect)\(' | grep PROT_EXEC || true)
		assert_match "$exec_maps" 'EPERM' "the planted module's executable mapping is refused"
		assert_not_contains "$exec_maps" ") = 0x" "no executable mapping succeeded"
		assert_eq no "$(ctr_sh c '[ -e /tmp/gfs-evil-mark ] && echo yes || echo no')" "the planted module never ran"
	fi
fi

# ---- a crash of the helper fails the stream, nothing else
descendants() { # PID: every process below it (all ours)
	local c
	for c in $(pgrep -P "$1"); do
		echo "$c"
		descendants "$c"
	done
}
crash_test() { # SIGNAL
	local flag=$TDIR/crash-$1
	tar_slow "$flag" "f:a:x" WAIT "f:b:y" | sd_in /tmp/crash &
	local drv=$!
	bgpids="$bgpids $drv"
	wait_until 10 test -f "$(in_ctr /tmp/crash/a)" || fail "crash $1: the first entry never arrived"
	local child c
	for c in $(descendants "$drv"); do
		[ "$(cat /proc/$c/comm 2>/dev/null)" = gardenfs-stream ] && child=$c
	done
	if [ -n "$child" ]; then
		kill -"$1" "$child"
	else
		fail "crash $1: no gardenfs-stream below the driver"
	fi
	touch "$flag"
	wait "$drv"
	assert_stream EIO "the helper killed by SIG$1"
	assert_contains "$(sd_reason)" "without a verdict" "the reason says it died"
}
crash_test SEGV
crash_test KILL
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon is fine"
gfs_done
