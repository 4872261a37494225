#!/bin/bash
# Streaming through runtime/stream.h (build/stream-driver) into and out of a
# real container: round trips that real tar checks (symlinks, hard links,
# FIFOs, modes with setuid/setgid/sticky, owners, xattrs, file
# capabilities, long and UTF-8 names, sparse and big files, directory
# times); as root the archive's owners are kept, as a user everything is
# that user's; compressed streams; the streamin header as the FUSE file
# gets it; errors (EACCES, ENOENT, EINVAL for truncated and garbage
# streams, mtree/cpio/zip refused, ENOENT before any byte of a streamout);
# streamout of a FIFO, /proc files, a symlink to /etc/shadow; a stopped
# container.
. "$(dirname "$0")/../stream-lib.sh"
for t in tar setfattr getfattr; do
	command -v $t >/dev/null || skip "needs $t"
done
stream_start

# ---- the source tree, made on the host
S=$TDIR/src
mkdir -p "$S/dir/deep/er" "$S/ro" "$S/sticky" "$S/owned"
echo hello >"$S/dir/file"
printf 'x%.0s' $(seq 300) >"$S/dir/deep/er/three-hundred"
head -c 3145728 /dev/urandom >"$S/big"
truncate -s 5M "$S/sparse" && printf 'end' >>"$S/sparse"
: >"$S/empty"
echo suid >"$S/suid" && chmod 4755 "$S/suid"
echo sgid >"$S/sgid" && chmod 2755 "$S/sgid"
echo secret >"$S/private" && chmod 600 "$S/private"
chmod 1777 "$S/sticky"
echo inside >"$S/ro/f" && chmod 555 "$S/ro"
ln -s dir/file "$S/rel-link"
ln -s /etc/passwd "$S/abs-link"
ln -s nowhere "$S/dangling"
ln "$S/dir/file" "$S/hard"
mkfifo "$S/fifo"
echo utf >"$S/héllo wörld ✓"
long=$(printf 'n%.0s' $(seq 150))
echo long >"$S/dir/$long"
echo owned >"$S/owned/f"
chown -R 1234:5678 "$S/owned"
setfattr -n user.note -v "kept" "$S/dir/file"
setfattr -n user.dirnote -v "d" "$S/dir"
has_setcap=
if command -v setcap >/dev/null && echo cap >"$S/cap" && setcap cap_net_raw+ep "$S/cap" 2>/dev/null; then
	has_setcap=1
fi
touch -d '2020-01-02 03:04:05' "$S/dir/file" "$S/dir/deep" "$S/ro"
TAR="$TDIR/src.tar"
tar --xattrs --xattrs-include='*' -C "$S" -cf "$TAR" .

# ---- as root: everything comes back as it went in
sd_in /tmp/rt <"$TAR"
assert_stream done "streamin of the tree as root"
assert_eq "1234:5678" "$(ctr_sh c 'stat -c %u:%g /tmp/rt/owned/f')" "the archive's owner is kept for root"
assert_eq "4755 2755 1777 555 600" "$(ctr_sh c 'cd /tmp/rt && stat -c %a suid sgid sticky ro private | tr "\n" " " | sed "s/ $//"')" "setuid, setgid, sticky and read-only modes"
assert_eq "$(ctr_sh c 'stat -c %i /tmp/rt/hard')" "$(ctr_sh c 'stat -c %i /tmp/rt/dir/file')" "a hard link is a hard link"
assert_eq "dir/file" "$(ctr_sh c 'readlink /tmp/rt/rel-link')" "symlink target kept"
assert_eq "/etc/passwd" "$(ctr_sh c 'readlink /tmp/rt/abs-link')" "absolute symlink kept as it is"
assert_eq "fifo" "$(ctr_sh c '[ -p /tmp/rt/fifo ] && echo fifo')" "a FIFO is a FIFO"
assert_eq "$(sha256sum <"$S/big" | cut -c1-64)" "$(sha256sum <"$(in_ctr /tmp/rt/big)" | cut -c1-64)" "big file content"
assert_eq kept "$(getfattr --only-values -n user.note "$(in_ctr /tmp/rt/dir/file)" 2>/dev/null)" "user xattr kept"
if [ -n "$has_setcap" ]; then
	assert_contains "$(getcap "$(in_ctr /tmp/rt/cap)")" "cap_net_raw" "security.capability kept (as the namespace's root)"
fi
# the round trip, checked by real tar on the host
mkdir "$TDIR/back"
sd_out /tmp/rt/ >"$TDIR/back.tar"
assert_stream done "streamout of the tree"
tar --xattrs --xattrs-include='*' --numeric-owner -p -C "$TDIR/back" -xf "$TDIR/back.tar" 2>"$TDIR/tar.err" ||
	fail "tar could not extract the streamout: $(head -3 "$TDIR/tar.err")"
manifest "$S" >"$TDIR/m.src"
manifest "$TDIR/back" >"$TDIR/m.back"
if ! diff "$TDIR/m.src" "$TDIR/m.back" >"$TDIR/m.diff"; then
	fail "round trip differs from the source:"
	head -20 "$TDIR/m.diff" >&2
fi
# entries are ./NAME with a trailing slash, NAME/... without
first=$(tar -tf "$TDIR/back.tar" | head -1)
assert_eq "./" "$first" "trailing slash: ./ entries"
sd_out /tmp/rt/dir >"$TDIR/dir.tar"
assert_eq "dir/" "$(tar -tf "$TDIR/dir.tar" | head -1)" "no slash: entries under the directory's name"
assert_contains "$(tar -tf "$TDIR/dir.tar")" "dir/deep/er/three-hundred" "nested entries"
sd_out /tmp/rt/dir/file >"$TDIR/file.tar"
assert_eq "file" "$(tar -tf "$TDIR/file.tar")" "a file gives one entry under its name"
assert_eq hello "$(tar -xOf "$TDIR/file.tar")" "its content"

# ---- as a user: all the user's, made with the user's rights
sd_in -u vcap dst <"$TAR"
assert_stream done "streamin as vcap to a path relative to its home"
owners=$(sd_out -u vcap /home/vcap/dst | tar --numeric-owner -tvf - | awk '{ print $2 }' | sort -u)
assert_eq "1000/1000" "$owners" "every entry is owned by vcap"
assert_eq "1000:1000" "$(ctr_sh c 'stat -c %u:%g /home/vcap/dst/owned/f')" "the archive's owner is not kept for a user"
assert_eq "4755 555" "$(ctr_sh c 'cd /home/vcap/dst && stat -c %a suid ro | tr "\n" " " | sed "s/ $//"')" "a user's setuid file and a filled read-only directory"
assert_eq inside "$(ctr_sh c 'cat /home/vcap/dst/ro/f')" "the read-only directory got its file"
assert_eq kept "$(getfattr --only-values -n user.note "$(in_ctr /home/vcap/dst/dir/file)" 2>/dev/null)" "a user's user xattr kept"
if [ -n "$has_setcap" ]; then
	assert_eq "" "$(getcap "$(in_ctr /home/vcap/dst/cap)")" "no file capability from a user"
fi
sd_out -u vcap dst/dir/file | tar -xOf - >"$TDIR/o" 2>/dev/null
assert_eq hello "$(cat "$TDIR/o")" "streamout as a user, relative to its home"
# what the user may not touch
sd_in -u vcap /root/x <"$TAR"
assert_stream EACCES "a destination in /root as vcap"
assert_eq no "$(ctr_sh c '[ -e /root/x ] && echo yes || echo no')" "nothing made in /root"
sd_in -u vcap / <"$TAR"
assert_stream EACCES "unpacking into / as vcap"
sd_out -u vcap /root >/dev/null
assert_stream EACCES "streamout of /root as vcap"
sd_in -u nosuch /tmp/nouser <"$TAR"
assert_stream ENOENT "an unknown user"
assert_eq no "$(ctr_sh c '[ -e /tmp/nouser ] && echo yes || echo no')" "nothing made for an unknown user"
sd_in -u 1000 /tmp/byuid <"$TAR"
assert_stream done "a numeric user"
assert_eq "1000:1000" "$(ctr_sh c 'stat -c %u:%g /tmp/byuid/dir/file')" "owned by the numeric user"

# ---- compression: whatever libarchive reads in-process
for z in gzip bzip2 xz zstd; do
	command -v $z >/dev/null || continue
	tar -C "$S/dir" -cf - . | $z -c >"$TDIR/t.$z"
	sd_in "/tmp/z-$z" <"$TDIR/t.$z"
	assert_stream done "a $z stream"
	assert_eq hello "$(ctr_sh c "cat /tmp/z-$z/file")" "content of the $z stream"
done

# ---- the header, as the streamin file gets it
{ printf '/tmp/hdr\nuser vcap\n'; cat "$TAR"; } | tmo "$SD" in -p "$P" -H 2>"$TDIR/sd.err"
assert_stream done "header with a user line"
assert_eq "1000:1000" "$(ctr_sh c 'stat -c %u:%g /tmp/hdr/dir/file')" "the header's user"
{ printf '/tmp/hdr2\n'; tar -C "$S/dir" -cf - .; } | tmo "$SD" in -p "$P" -H 2>"$TDIR/sd.err"
assert_stream done "header without a user line"
assert_eq "0:0" "$(ctr_sh c 'stat -c %u:%g /tmp/hdr2/file')" "default user: root"
printf '/tmp/hdr3\n' | tmo "$SD" in -p "$P" -H 2>"$TDIR/sd.err"
assert_stream done "a header and an empty stream"
assert_eq yes "$(ctr_sh c '[ -d /tmp/hdr3 ] && echo yes')" "the destination is made even for no entries"

# ---- bad streams: EINVAL, what came before the damage stays
tar -C "$S" -cf "$TDIR/order.tar" dir/file big
head -c 1048576 "$TDIR/order.tar" >"$TDIR/trunc.tar"
sd_in /tmp/trunc <"$TDIR/trunc.tar"
assert_stream EINVAL "a truncated stream"
assert_eq hello "$(ctr_sh c 'cat /tmp/trunc/dir/file')" "what was unpacked before the cut stays"
head -c 65536 /dev/urandom >"$TDIR/garbage"
sd_in /tmp/garbage <"$TDIR/garbage"
assert_stream EINVAL "garbage"
gzip -c <"$TDIR/garbage" >"$TDIR/garbage.gz"
sd_in /tmp/garbage <"$TDIR/garbage.gz"
assert_stream EINVAL "gzipped garbage"
printf 'not a tar at all\n' | sd_in /tmp/garbage
assert_stream EINVAL "a line of text"
assert_contains "$(sd_reason)" "not a tar" "the reason says what is wrong"

# ---- other archive formats are never read
if command -v bsdtar >/dev/null; then
	# an mtree manifest may name host files as contents; cpio, zip too
	printf '#mtree\n./shadow type=file contents=/etc/shadow\n' >"$TDIR/m.mtree"
	bsdtar --format=mtree -C "$S/dir" -cf "$TDIR/gen.mtree" .
	bsdtar --format=zip -C "$S/dir" -cf "$TDIR/t.zip" .
	bsdtar --format=cpio -C "$S/dir" -cf "$TDIR/t.cpio" .
	bsdtar --format=iso9660 -C "$S/dir" -cf "$TDIR/t.iso" . 2>/dev/null
	bsdtar --format=7zip -C "$S/dir" -cf "$TDIR/t.7z" . 2>/dev/null
	for f in m.mtree gen.mtree t.zip t.cpio t.iso t.7z; do
		[ -s "$TDIR/$f" ] || continue
		sd_in /tmp/fmt <"$TDIR/$f"
		assert_stream EINVAL "$f refused"
	done
	assert_eq "" "$(ctr_sh c 'ls -A /tmp/fmt 2>/dev/null')" "nothing unpacked from any of them"
fi
if command -v cpio >/dev/null; then
	(cd "$S/dir" && find . | cpio -o -H newc 2>/dev/null) >"$TDIR/gnu.cpio"
	sd_in /tmp/fmt <"$TDIR/gnu.cpio"
	assert_stream EINVAL "a cpio archive (GNU cpio)"
fi

# ---- streamout: special files are entries, never opened or followed
ctr_sh c 'mkfifo /tmp/ff; echo ctr-secret > /etc/shadow; chmod 600 /etc/shadow; ln -s /etc/shadow /tmp/to-shadow' >/dev/null
sd_out /tmp/ff >"$TDIR/ff.tar"
assert_stream done "streamout of a FIFO (nobody writes it)"
assert_match "$(tar -tvf "$TDIR/ff.tar")" '^p' "a FIFO entry"
sd_out /tmp/to-shadow >"$TDIR/sh.tar"
assert_stream done "streamout of a symlink to /etc/shadow"
assert_match "$(tar -tvf "$TDIR/sh.tar")" '^l.* to-shadow -> /etc/shadow$' "a symlink entry, not the file"
assert_eq "" "$(tar -xOf "$TDIR/sh.tar" 2>/dev/null)" "no content comes with it"
sd_out /dev/zero >"$TDIR/zero.tar"
assert_stream done "streamout of /dev/zero"
assert_match "$(tar -tvf "$TDIR/zero.tar")" '^c.* 1,5 ' "a device entry, not endless zeros"
sd_out /proc/1/status >"$TDIR/st.tar"
assert_stream done "streamout of /proc/1/status"
assert_contains "$(tar -xOf "$TDIR/st.tar")" "gardenfs-init" "a /proc file's content, though its size is 0"
# the stream helper is no process of the container: /proc/self is nobody
sd_out /proc/self/status >"$TDIR/self.tar"
assert_stream ENOENT "/proc/self in the container's /proc names no process of ours"
sd_out /proc/ >"$TDIR/proc.tar"
assert_stream done "streamout of all of /proc ends"
big=$(tar -tvf "$TDIR/proc.tar" | awk '$3 > m { m = $3 } END { print m + 0 }')
[ "$big" -le 1048576 ] || fail "a /proc entry of $big bytes: pseudo files must be bounded"
sd_out /no/such/path >"$TDIR/none.tar"
assert_stream ENOENT "streamout of an unknown path"
assert_eq 0 "$(stat -c %s "$TDIR/none.tar")" "not one byte before the ENOENT"
sd_out /tmp/rt/dir/file/ >/dev/null
assert_stream ENOTDIR "a trailing slash on a file"

# ---- a stopped container: the init lives on, its processes do not
echo kill >"$MNT/c/stop" || fail "stop"
assert_eq stopped "$(kv "$MNT/c/info" state)" "the container is stopped"
sd_in /tmp/after-stop <"$TAR"
assert_stream done "streamin into a stopped container"
[ -f "$(in_ctr /tmp/after-stop/dir/file)" ] || fail "the file is there after a streamin into a stopped container"
sd_out /tmp/after-stop/dir/file | tar -xOf - >"$TDIR/o" 2>/dev/null
assert_eq hello "$(cat "$TDIR/o")" "streamout of a stopped container"
assert_eq ok "$(tmo cat "$MNT/ping")" "the daemon is fine"
gfs_done
