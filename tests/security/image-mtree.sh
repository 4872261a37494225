#!/bin/bash
# Attack: an image in a format libarchive reads but gardenfs never should:
# an mtree manifest, whose entries name host files ("contents=/etc/shadow")
# that its reader would copy into the image; a cpio archive and a zip; and
# compressions libarchive decodes by running an external program (lrzip,
# lzop, grzip), here with such programs planted first in the daemon's
# PATH.
# Safe outcome: only tar formats and the in-process decompressors (gzip,
# bzip2, xz, lzma, zstd) are read: each create fails with EINVAL and a
# reason, no host file ends up in the image cache, and no program runs
# (the planted ones leave no mark).  xz, bzip2 and zstd tarballs work.
. "$(dirname "$0")/../lib.sh"
gfs_setup
mkdir -p "$TDIR/bin"
for p in lrzip lzop grzip lz4 lzip lrz; do
	printf '#!/bin/sh\ntouch %s/ran-%s\nexec cat\n' "$TDIR" "$p" >"$TDIR/bin/$p"
	chmod 755 "$TDIR/bin/$p"
done
PATH=$TDIR/bin:$PATH gfs_start

printf 'secret-of-the-host\n' >"$TDIR/host-secret"
chmod 600 "$TDIR/host-secret"
cat >"$TDIR/image.mtree" <<MTREE
#mtree
. type=dir mode=0755
./bin type=dir mode=0755
./bin/sh type=file mode=0755 contents=/bin/busybox
./etc type=dir mode=0755
./etc/stolen type=file mode=0644 contents=$TDIR/host-secret
MTREE
(cd "$GFS_BASE_IMAGE" && find . -maxdepth 1 | cpio -o -H newc 2>/dev/null) >"$TDIR/image.cpio"
python3 - "$TDIR" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1] + "/image.zip", "w") as z:
    z.writestr("etc/passwd", "root:x:0:0::/:/bin/sh\n")
# what the program-only filters look for first: their magic, then junk
magic = {"lrz": b"LRZI\x00\x06" + b"\0" * 10, "lzo": b"\x89LZO\x00\r\n\x1a\n" + b"\0" * 30,
         "grz": b"GRZipII\x00\x02\x04:)" + b"\0" * 10}
for k, m in magic.items():
    open(f"{sys.argv[1]}/image.{k}", "wb").write(m + b"\0" * 4096)
PY
for f in image.mtree image.cpio image.zip image.lrz image.lzo image.grz; do
	e0=$(lines "$MNT/errors")
	got=$(gfs_write "$MNT/ctl" "create handle=${f#image.} rootfs=$TDIR/$f")
	assert_eq EINVAL "$got" "$f as the image"
	assert_eq "$((e0 + 1))" "$(lines "$MNT/errors")" "a reason for $f"
	[ -e "$MNT/${f#image.}" ] && fail "a container from $f"
done
assert_eq "" "$(ls "$TDIR" | grep '^ran-')" "no external decompressor ran"
assert_eq "" "$(grep -rl secret-of-the-host "$DEPOT/images" 2>/dev/null)" "the host file is nowhere in the image cache"
assert_eq "" "$(ls -A "$DEPOT/images" | grep -v '^\.key-')" "nothing left in the image cache"

tar -C "$GFS_BASE_IMAGE" -cf "$TDIR/bb.tar" . || fatal "a tarball"
for z in xz:xz bzip2:bz2 zstd:zst gzip:gz; do
	prog=${z%%:*} ext=${z#*:}
	command -v $prog >/dev/null || continue
	$prog -c "$TDIR/bb.tar" >"$TDIR/bb.tar.$ext" 2>/dev/null || fatal "$prog"
	echo "create handle=$ext rootfs=$TDIR/bb.tar.$ext" >"$MNT/ctl" || fail "a $prog tarball"
	assert_eq hi "$(ctr_sh $ext 'echo hi')" "a container of a $prog tarball"
done
gfs_done
