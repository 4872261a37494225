#!/bin/bash
# streamin and streamout through the mount, with shell tools as a user
# would drive them: SPEC's idiom (also with the forks a shell makes while
# the file is open, and a header written byte by byte); round trips of a
# tree with symlinks, hard links, setuid modes, xattrs and a file
# capability, checked by real tar; owners as root (kept, shifted by the
# user namespace on the host) and as vcap (all vcap's); relative paths,
# `.` and `/`; compression; each refusal an errno on the write or the
# close(2) with one line in errors (no path line, a 10 KiB path, an
# unknown user, no permission, truncated, garbage, mtree, cpio); the
# escapes; streamout of a FIFO, /proc/1/status, a symlink to /etc/shadow,
# an unknown path, a second path (EBUSY), a helper killed mid-stream (a cut
# archive never reads as whole); a stopped container.
. "$(dirname "$0")/../streams-fs.sh"
for t in tar setfattr getfattr python3; do
	command -v $t >/dev/null || skip "needs $t"
done
stream_start
C=$MNT/c
M=gfs56-$$

# ---- a tree made on the host
S=$TDIR/src
mkdir -p "$S/dir/deep" "$S/owned" "$S/ro"
echo hello >"$S/dir/file"
head -c 2097152 /dev/urandom >"$S/big"
echo suid >"$S/suid" && chmod 4755 "$S/suid"
echo sgid >"$S/sgid" && chmod 2750 "$S/sgid"
echo inside >"$S/ro/f" && chmod 555 "$S/ro"
ln -s dir/file "$S/rel-link"
ln -s /etc/passwd "$S/abs-link"
ln "$S/dir/file" "$S/hard"
mkfifo "$S/fifo"
echo owned >"$S/owned/f" && chown -R 1234:5678 "$S/owned"
setfattr -n user.note -v kept "$S/dir/file"
has_cap=
if command -v setcap >/dev/null && echo cap >"$S/cap" && setcap cap_net_raw+ep "$S/cap" 2>/dev/null; then
	has_cap=1
fi
touch -d '2021-02-03 04:05:06' "$S/dir/file"
TAR=$TDIR/src.tar
tar --xattrs --xattrs-include='*' -C "$S" -cf "$TAR" .

# ---- SPEC's idiom, as root
{ echo /tmp/rt; tar --xattrs --xattrs-include='*' -C "$S" -c .; } >"$C/streamin"
assert_eq 0 "$?" "SPEC's idiom: { echo /tmp/rt; tar -c .; } > streamin"
assert_eq hello "$(ctr_sh c 'cat /tmp/rt/dir/file')" "a file of the tree"
assert_eq "1234:5678" "$(ctr_sh c 'stat -c %u:%g /tmp/rt/owned/f')" "as root the archive's owners are kept"
host_uid=$(stat -c %u "$(in_ctr /tmp/rt/owned/f)")
[ "$host_uid" -gt 1234 ] || fail "owner 1234 must be shifted on the host (user namespace), got $host_uid"
assert_eq "0:0" "$(ctr_sh c 'stat -c %u:%g /tmp/rt/dir/file')" "root's files are root's"
assert_eq "4755 2750 555" "$(ctr_sh c 'cd /tmp/rt && stat -c %a suid sgid ro | tr "\n" " " | sed "s/ $//"')" "setuid, setgid and read-only modes kept"
assert_eq "$(ctr_sh c 'stat -c %i /tmp/rt/dir/file')" "$(ctr_sh c 'stat -c %i /tmp/rt/hard')" "a hard link is a hard link"
assert_eq /etc/passwd "$(ctr_sh c 'readlink /tmp/rt/abs-link')" "a symlink is kept as it is"
assert_eq fifo "$(ctr_sh c '[ -p /tmp/rt/fifo ] && echo fifo')" "a FIFO is a FIFO"
assert_eq kept "$(getfattr --only-values -n user.note "$(in_ctr /tmp/rt/dir/file)" 2>/dev/null)" "a user xattr is kept"
if [ -n "$has_cap" ]; then
	assert_contains "$(getcap "$(in_ctr /tmp/rt/cap)")" cap_net_raw "security.capability kept for the container's root"
fi
assert_eq "$(sha256sum <"$S/big" | cut -c1-64)" "$(sha256sum <"$(in_ctr /tmp/rt/big)" | cut -c1-64)" "2 MiB of content"

# the shell forks while the file is open: `$(...)` and a command whose
# stdout goes elsewhere close their copies at once; the stream goes on
{ echo /tmp/forks; x=$(date); ls / >/dev/null; tar -C "$(echo "$S")" -c dir; } >"$C/streamin"
assert_eq 0 "$?" "streamin with forks closing the file in between"
assert_eq hello "$(ctr_sh c 'cat /tmp/forks/dir/file')" "everything arrived despite the forks"
# a header written a byte at a time, its user line cut anywhere
hdr_file "$TDIR/h1" /tmp/bytewise vcap <"$TAR"
assert_eq "OK OK" "$(sin "$C/streamin" "$TDIR/h1" 65536 40)" "a header in one-byte writes"
assert_eq "1000:1000" "$(ctr_sh c 'stat -c %u:%g /tmp/bytewise/dir/file')" "the user line of a one-byte header"
tar -C "$S" -cf - dir | hdr_file "$TDIR/h2" /tmp/small
assert_eq "OK OK" "$(sin "$C/streamin" "$TDIR/h2" 7)" "a stream in writes of 7 bytes"
assert_eq hello "$(ctr_sh c 'cat /tmp/small/dir/file')" "unpacked from 7-byte writes"

# ---- the round trip, checked by tar on the host
exec 3<>"$C/streamout"
echo /tmp/rt/ >&3
mkdir "$TDIR/back"
tar --xattrs --xattrs-include='*' --numeric-owner -p -C "$TDIR/back" -x <&3 2>"$TDIR/tar.err" ||
	fail "tar -x of a streamout: $(head -3 "$TDIR/tar.err")"
exec 3>&-
manifest "$S" >"$TDIR/m.src"
manifest "$TDIR/back" >"$TDIR/m.back"
diff "$TDIR/m.src" "$TDIR/m.back" >"$TDIR/m.diff" || {
	fail "the round trip differs:"
	head -20 "$TDIR/m.diff" >&2
}
# SPEC's read idiom; a directory's entries carry its name, a trailing
# slash gives ./
exec 3<>"$C/streamout"
echo /tmp/rt/dir >&3
list=$(tar -t <&3)
exec 3>&-
assert_eq "dir/" "$(printf '%s\n' "$list" | head -1)" "a directory's entries are under its name"
assert_contains "$list" "dir/file" "and hold its files"
assert_eq "OK OK" "$(sout "$C/streamout" /tmp/rt/ "$TDIR/back.tar")" "streamout of /tmp/rt/"
assert_eq "./" "$(tar -tf "$TDIR/back.tar" | head -1)" "a trailing slash gives ./ entries"

# ---- as vcap: everything is vcap's, paths below its home
{ printf 'rel/a/b\nuser vcap\n'; cat "$TAR"; } >"$C/streamin"
assert_eq 0 "$?" "streamin as vcap to a relative path"
assert_eq "1000:1000 1000:1000 1000:1000" "$(ctr_sh c 'stat -c %u:%g /home/vcap/rel /home/vcap/rel/a/b /home/vcap/rel/a/b/owned/f | tr "\n" " " | sed "s/ $//"')" "the destination made as vcap, the archive's owners not kept"
assert_eq 4755 "$(ctr_sh c 'stat -c %a /home/vcap/rel/a/b/suid')" "vcap's setuid file"
assert_eq inside "$(ctr_sh c 'cat /home/vcap/rel/a/b/ro/f')" "a read-only directory still filled"
if [ -n "$has_cap" ]; then
	assert_eq "" "$(getcap "$(in_ctr /home/vcap/rel/a/b/cap)")" "no file capability from vcap"
fi
tar -C "$S" -cf - dir | { printf '.\nuser vcap\n'; cat; } >"$C/streamin"
assert_eq hello "$(ctr_sh c 'cat /home/vcap/dir/file')" ". is the user's home"
tar -C "$S" -cf - dir | { printf '.\n'; cat; } >"$C/streamin"
assert_eq hello "$(ctr_sh c 'cat /root/dir/file')" ". is root's home"
tar_gen "$TDIR/top.tar" "f:$M-top:at-root"
{ echo /; cat "$TDIR/top.tar"; } >"$C/streamin"
assert_eq at-root "$(ctr_sh c "cat /$M-top")" "/ as the destination"
printf 'rel/a/b/dir/file\nuser vcap\n' >"$TDIR/hdr"
got=$(tmo python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.write(fd, open(sys.argv[2], "rb").read())
out = b""
while True:
    b = os.read(fd, 65536)
    if not b: break
    out += b
os.write(1, out)' "$C/streamout" "$TDIR/hdr" | tar -xO)
assert_eq hello "$got" "streamout as vcap, relative to its home, in one write"
# a shell writes the two lines with two writes: the user line streams the
# path again as that user
exec 3<>"$C/streamout"
printf '/home/vcap/rel/a/b/dir\nuser vcap\n' >&3
assert_eq "1000/1000" "$(tar --numeric-owner -tv <&3 | awk '{ print $2 }' | sort -u)" "printf of a path and a user line: the user's view"
exec 3>&-
exec 3<>"$C/streamout"
printf '/root\nuser vcap\n' >&3
cat <&3 >/dev/null 2>"$TDIR/cat.err" && fail "streamout of /root as vcap was allowed"
assert_contains "$(cat "$TDIR/cat.err")" "Permission denied" "streamout of /root as vcap: EACCES on the read"
exec 3>&-

# ---- compression
for z in gzip bzip2 xz zstd; do
	command -v $z >/dev/null || continue
	{ echo "/tmp/z-$z"; tar -C "$S" -cf - dir | $z -c; } >"$C/streamin"
	assert_eq hello "$(ctr_sh c "cat /tmp/z-$z/dir/file")" "a $z stream"
done
tar --format=posix -C "$S" -cf "$TDIR/pax.tar" dir
tar --format=gnu -C "$S" -cf "$TDIR/gnu.tar" dir
tar --format=ustar -C "$S" -cf "$TDIR/ustar.tar" dir
for f in pax gnu ustar; do
	hdr_file "$TDIR/in" "/tmp/fmt-$f" <"$TDIR/$f.tar"
	assert_eq "OK OK" "$(sin "$C/streamin" "$TDIR/in")" "a $f archive"
	assert_eq hello "$(ctr_sh c "cat /tmp/fmt-$f/dir/file")" "content of the $f archive"
done

# ---- refusals: an errno on the write or the close, one line in errors
refused() { # WHAT EXPECTED-ERRNO DATAFILE [CHECK-PATH]
	local n got
	n=$(lines "$C/errors")
	got=$(sin "$C/streamin" "$3")
	case $got in
	"$2 $2" | "OK $2") ;;
	*) fail "$1: expected $2 on a write or the close, got [$got]" ;;
	esac
	assert_eq 1 "$(errors_added c "$n")" "$1: one line in errors"
	assert_eq ok "$(tmo cat "$MNT/ping")" "$1: the daemon is fine"
}
cp "$TAR" "$TDIR/nopath"
refused "a tar without a path line" EINVAL "$TDIR/nopath"
{ printf '/%.0s' $(seq 10240); echo; cat "$TAR"; } >"$TDIR/longpath"
refused "a path line of 10 KiB" EINVAL "$TDIR/longpath"
hdr_file "$TDIR/nouser" /tmp/nouser nosuch <"$TAR"
refused "an unknown user" ENOENT "$TDIR/nouser"
assert_eq no "$(ctr_sh c '[ -e /tmp/nouser ] && echo yes || echo no')" "nothing made for an unknown user"
hdr_file "$TDIR/noperm" /root/x vcap <"$TAR"
refused "vcap into /root" EACCES "$TDIR/noperm"
assert_eq no "$(ctr_sh c '[ -e /root/x ] && echo yes || echo no')" "nothing made in /root"
tar -C "$S" -cf "$TDIR/order.tar" dir/file big
{ echo /tmp/trunc; head -c 1048576 "$TDIR/order.tar"; } >"$TDIR/trunc"
refused "a truncated stream" EINVAL "$TDIR/trunc"
assert_eq hello "$(ctr_sh c 'cat /tmp/trunc/dir/file')" "what came before the cut stays"
{ echo /tmp/garbage; head -c 65536 /dev/urandom; } >"$TDIR/garbage"
refused "garbage" EINVAL "$TDIR/garbage"
{ echo /tmp/mtree; printf '#mtree\n./shadow type=file contents=/etc/shadow\n'; } >"$TDIR/mtree"
refused "an mtree manifest" EINVAL "$TDIR/mtree"
if command -v cpio >/dev/null; then
	{ echo /tmp/cpio; (cd "$S/dir" && find . | cpio -o -H newc 2>/dev/null); } >"$TDIR/cpio"
	refused "a cpio archive" EINVAL "$TDIR/cpio"
fi
assert_eq "" "$(ctr_sh c 'find /tmp/mtree /tmp/cpio -mindepth 1 2>/dev/null')" "nothing unpacked from mtree or cpio"
# a refused stream refuses what comes after on that descriptor, with no
# second line
n=$(lines "$C/errors")
got=$(tmo python3 -c '
import os, sys, errno
fd = os.open(sys.argv[1], os.O_WRONLY)
out = []
for b in (b"\n", b"more", b"more"):
    try:
        os.write(fd, b); out.append("OK")
    except OSError as e:
        out.append(errno.errorcode[e.errno])
try:
    os.close(fd); out.append("OK")
except OSError as e:
    out.append(errno.errorcode[e.errno])
print(" ".join(out))' "$C/streamin")
assert_eq "EINVAL EINVAL EINVAL EINVAL" "$got" "an empty path line: every write and the close refused"
assert_eq 1 "$(errors_added c "$n")" "one line for it"
# a closed stream takes no more: the same descriptor after the close of
# its writer (a dup, closed first)
got=$(tmo python3 -c '
import os, sys, errno
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, b"/tmp/ended\n")
d = os.dup(fd)
os.close(d)
try:
    os.write(fd, b"x" * 512); print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])' "$C/streamin")
assert_eq EINVAL "$got" "a write after the writer closed the stream"

# ---- the escapes
ctr_sh c 'echo ctr-secret > /etc/shadow; chmod 600 /etc/shadow' >/dev/null
escape() { # WHAT EXPECTED DEST SPEC...
	local what=$1 want=$2 dest=$3
	shift 3
	tar_gen "$TDIR/esc.tar" "$@"
	hdr_file "$TDIR/esc" "$dest" <"$TDIR/esc.tar"
	local got
	got=$(sin "$C/streamin" "$TDIR/esc")
	case $got in
	"OK $want" | "$want $want") ;;
	*) fail "$what: expected $want, got [$got]" ;;
	esac
}
escape "../ leading out" EINVAL /tmp/e1/sub "f:../../../tmp/$M-e1:x"
assert_eq no "$(ctr_sh c "[ -e /tmp/$M-e1 ] && echo yes || echo no")" "nothing outside the destination"
escape "an absolute name" OK /tmp/e2 "f:/etc/$M-e2:x"
assert_eq x "$(ctr_sh c "cat /tmp/e2/etc/$M-e2")" "an absolute name lands in the destination"
assert_eq no "$(ctr_sh c "[ -e /etc/$M-e2 ] && echo yes || echo no")" "and not in /etc"
escape "writing through a symlink" EINVAL /tmp/e3 "l:lnk:/etc" "f:lnk/$M-e3:x"
assert_eq no "$(ctr_sh c "[ -e /etc/$M-e3 ] && echo yes || echo no")" "nothing written through the symlink"
escape "a hard link to /etc/shadow" EINVAL /tmp/e4 "h:h:/etc/shadow"
escape "a hard link up and out" EINVAL /tmp/e4 "h:h2:../../etc/shadow"
assert_eq 1 "$(ctr_sh c 'stat -c %h /etc/shadow')" "the container's /etc/shadow got no link"
ctr_sh c 'ln -s / /tmp/rootlink' >/dev/null
escape "a destination that is a symlink to /" OK /tmp/rootlink "f:$M-e5:x"
assert_eq x "$(ctr_sh c "cat /$M-e5")" "it is the container's /"
[ -e "/$M-e5" ] && fail "/$M-e5 was made on the host"
for p in "/tmp/$M-e1" "/etc/$M-e2" "/etc/$M-e3"; do
	[ -e "$p" ] && fail "$p exists on the host"
done

# ---- streamout of what tar must not open or follow
ctr_sh c 'mkfifo /tmp/ff; ln -s /etc/shadow /tmp/to-shadow' >/dev/null
assert_eq "OK OK" "$(sout "$C/streamout" /tmp/ff "$TDIR/ff.tar")" "streamout of a FIFO nobody writes"
assert_match "$(tar -tvf "$TDIR/ff.tar")" '^p' "a FIFO entry"
assert_eq "OK OK" "$(sout "$C/streamout" /tmp/to-shadow "$TDIR/sh.tar")" "streamout of a symlink to /etc/shadow"
assert_match "$(tar -tvf "$TDIR/sh.tar")" '^l.* to-shadow -> /etc/shadow$' "a symlink entry"
assert_eq "" "$(tar -xOf "$TDIR/sh.tar")" "not the content of /etc/shadow"
assert_eq "OK OK" "$(sout "$C/streamout" /proc/1/status "$TDIR/st.tar")" "streamout of /proc/1/status"
assert_contains "$(tar -xOf "$TDIR/st.tar")" gardenfs-init "the container's pid 1, though /proc sizes are 0"
n=$(lines "$C/errors")
assert_eq "ENOENT -" "$(sout "$C/streamout" /proc/self/status "$TDIR/self.tar")" "/proc/self: the helper is no process of the container"
assert_eq "ENOENT -" "$(sout "$C/streamout" "/no/$M" "$TDIR/none.tar")" "an unknown path fails the write"
assert_eq 2 "$(errors_added c "$n")" "one line each"
assert_contains "$(tmo cat "$C/errors" | tail -1)" "/no/$M" "the line names the path"
# shell idiom: the write of an unknown path fails
exec 3<>"$C/streamout"
echo /no/such >&3 2>/dev/null && fail "echo of an unknown path to streamout succeeded"
# the same descriptor may try another path after a refusal
echo /tmp/rt/dir/file >&3 || fail "a second try after a refused path"
assert_eq hello "$(tar -xO <&3)" "the second try streams"
exec 3>&-
# one path per descriptor
got=$(tmo python3 -c '
import os, sys, errno
fd = os.open(sys.argv[1], os.O_RDWR)
os.write(fd, b"/tmp/rt/dir\n")
try:
    os.write(fd, b"/etc\n"); print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])' "$C/streamout")
assert_eq EBUSY "$got" "a second path on the same descriptor"
# a helper killed in the middle: the reader gets an error, never a
# short archive that looks whole
head -c 67108864 /dev/urandom >"$TDIR/f64"
{ echo /tmp/cut; tar -C "$TDIR" -c f64; } >"$C/streamin"
got=$(tmo python3 - "$C/streamout" "$GFS_PID" <<'EOF'
import errno, os, sys, time
path, daemon = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDWR)
os.write(fd, b"/tmp/cut/f64\n")
got = len(os.read(fd, 65536))
# the helper: the daemon's gardenfs-stream child, one of ours
kid = None
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        st = open("/proc/%s/stat" % p).read()
        comm = st[st.index("(") + 1:st.rindex(")")]
        ppid = st[st.rindex(")") + 2:].split()[1]
        args = open("/proc/%s/cmdline" % p, "rb").read().split(b"\0")
    except OSError:
        continue
    if comm == "gardenfs-stream" and ppid == daemon and b"out" in args:
        kid = int(p)
if kid is None:
    print("no helper"); sys.exit(0)
os.kill(kid, 9)
try:
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            print("EOF after", got); break
        got += len(b)
except OSError as e:
    print(errno.errorcode[e.errno])
EOF
)
assert_eq EIO "$got" "a streamout whose helper was killed fails the read"

# ---- a stopped container: the init lives, so do streams
echo kill >"$C/stop" || fail "stop"
assert_eq stopped "$(kv "$C/info" state)" "the container is stopped"
tar -C "$S" -cf - dir | { echo /tmp/stopped; cat; } >"$C/streamin"
assert_eq 0 "$?" "streamin into a stopped container"
[ -f "$(in_ctr /tmp/stopped/dir/file)" ] || fail "the file arrived in the stopped container"
exec 3<>"$C/streamout"
echo /tmp/stopped/dir/file >&3
assert_eq hello "$(tar -xO <&3)" "streamout of a stopped container"
exec 3>&-
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon is fine"
gfs_done
