#!/bin/bash
# Cases for runtime/image_unpack.c through tests/image-smoke.c (build it as
# its header says, to /tmp/image-smoke): tarballs in three compressions,
# the cache's reuse, hostile archives refused with nothing left behind,
# device nodes only when allowed, space, OCI layouts with whiteouts,
# digests and tags, and a cache on btrfs making subvolumes.  Run as root
# from the top of the tree after make build/image/.done.
set -u
bin=${IMAGE_SMOKE:-/tmp/image-smoke}
T=$(mktemp -d /tmp/image-smoke.XXXXXX)
loop=
cleanup() {
	umount "$T/small" 2>/dev/null
	umount "$T/btrfs" 2>/dev/null
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fails=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
# expect CASE OUTPUT-PATTERN SPEC CACHE [devices]
expect() {
	local name=$1 pat=$2
	shift 2
	local out
	out=$("$bin" "$@" 2>&1)
	if echo "$out" | grep -q -- "$pat"; then pass "$name"; else fail "$name: $out"; fi
}
empty() { # nothing but .key memos may remain in a cache after a refusal
	if [ -z "$(ls -A "$1" | grep -v '^\.key-')" ]; then pass "$2 leaves nothing"; else fail "$2 left $(ls -A "$1")"; fi
}

tar -C build/image --exclude=./.done -cf "$T/bb.tar" .
gzip -c "$T/bb.tar" > "$T/bb.tgz"
zstd -q -c "$T/bb.tar" > "$T/bb.tar.zst"
for f in bb.tar bb.tgz bb.tar.zst; do
	expect "$f unpacks" "^dir $T/c1/" "$T/$f" "$T/c1"
done
expect "key is the content's sha256" "$(sha256sum "$T/bb.tgz" | cut -c1-64)" "$T/bb.tgz" "$T/c1"
d=$("$bin" "$T/bb.tgz" "$T/c1" | sed -n 's/^dir //p')
[ "$(ls -A "$T/c1" | grep -vc '^\.key-')" = 3 ] && pass "three trees, no temporaries" || fail "cache: $(ls -A "$T/c1")"
diff -r --no-dereference --exclude=.done build/image "$d" >/dev/null && pass "tree matches" || fail "tree differs"
[ "$(stat -c %U:%G "$d/home/vcap")" = "1000:1000" ] || [ "$(stat -c %u:%g "$d/home/vcap")" = "1000:1000" ] && pass "owners kept" || fail "owners"
[ "$(stat -c %a "$d/tmp")" = 1777 ] && pass "modes kept" || fail "modes"
expect "plain env is empty" "^workdir -" "$T/bb.tgz" "$T/c1"

# hostile archives
python3 - "$T" <<'PY'
import io, sys, tarfile
T = sys.argv[1]
def mk(name, members):
    with tarfile.open(f"{T}/{name}.tar", "w", format=tarfile.GNU_FORMAT) as t:
        for m in members:
            ti = tarfile.TarInfo(m["name"])
            data = m.get("data", b"")
            ti.type = m.get("type", tarfile.REGTYPE)
            ti.linkname = m.get("link", "")
            ti.devmajor, ti.devminor = m.get("dev", (0, 0))
            ti.mode = m.get("mode", 0o644)
            ti.size = len(data) if ti.type == tarfile.REGTYPE else 0
            t.addfile(ti, io.BytesIO(data) if ti.size else None)
ok = {"name": "ok/file", "data": b"fine\n"}
mk("dotdot", [ok, {"name": "../dotdot-evil", "data": b"x"}])
mk("middotdot", [ok, {"name": "ok/../../middotdot-evil", "data": b"x"}])
mk("abs", [ok, {"name": "/tmp/abs-evil", "data": b"x"}])
mk("symdir", [ok, {"name": "link", "type": tarfile.SYMTYPE, "link": "/tmp"},
              {"name": "link/symdir-evil", "data": b"x"}])
mk("symrel", [ok, {"name": "up", "type": tarfile.SYMTYPE, "link": "../../../.."},
              {"name": "up/tmp/symrel-evil", "data": b"x"}])
mk("hardout", [ok, {"name": "hl", "type": tarfile.LNKTYPE, "link": "../../../../etc/passwd"}])
mk("hardabs", [ok, {"name": "hl", "type": tarfile.LNKTYPE, "link": "/etc/passwd"}])
mk("hardsym", [ok, {"name": "link", "type": tarfile.SYMTYPE, "link": "/etc"},
               {"name": "hl", "type": tarfile.LNKTYPE, "link": "link/passwd"}])
mk("device", [ok, {"name": "dev/mem2", "type": tarfile.CHRTYPE, "dev": (1, 1), "mode": 0o600}])
mk("fine", [ok, {"name": "ok/sym", "type": tarfile.SYMTYPE, "link": "/etc/passwd"},
            {"name": "ok/hard", "type": tarfile.LNKTYPE, "link": "ok/file"},
            {"name": "ok/fifo", "type": tarfile.FIFOTYPE}])
PY
for c in dotdot:../dotdot-evil middotdot:ok/../../middotdot-evil abs:/tmp/abs-evil \
	symdir:link/symdir-evil symrel:up/tmp/symrel-evil hardout:hl hardabs:hl hardsym:hl device:dev/mem2; do
	name=${c%%:*} entry=${c#*:}
	expect "$name refused" "error EINVAL: .*$entry" "$T/$name.tar" "$T/h-$name"
	empty "$T/h-$name" "$name"
done
ls /tmp/*-evil /symrel-evil /tmp/symrel-evil 2>/dev/null && fail "something escaped"
expect "links, fifo inside the tree are fine" "^dir " "$T/fine.tar" "$T/h-fine"
d=$("$bin" "$T/fine.tar" "$T/h-fine" | sed -n 's/^dir //p')
[ "$(stat -c %h "$d/ok/file")" = 2 ] && [ -p "$d/ok/fifo" ] && [ "$(readlink "$d/ok/sym")" = /etc/passwd ] && pass "fine tree" || fail "fine tree"
expect "devices when allowed" "^dir .*-dev$" "$T/device.tar" "$T/h-dev" devices
expect "still refused without" "error EINVAL" "$T/device.tar" "$T/h-dev"
expect "garbage refused" "error EINVAL: .*not a directory or an archive" /etc/hostname "$T/h-garbage"
empty "$T/h-garbage" garbage
expect "missing file" "error ENOENT" "$T/nope.tar" "$T/h-garbage"

# space: a tarball bigger than the cache's room, and a bomb that only
# grows when unpacked
mkdir -p "$T/small" && mount -t tmpfs -o size=16m tmpfs "$T/small"
head -c 20M /dev/urandom > "$T/big.bin" && tar -C "$T" -cf "$T/big.tar" big.bin
expect "bigger than the room" "error ENOSPC" "$T/big.tar" "$T/small/c"
mkdir -p "$T/bomb" && head -c 64M /dev/zero > "$T/bomb/zeros" && tar -C "$T/bomb" -czf "$T/bomb.tgz" . && rm -rf "$T/bomb"
expect "bomb" "error ENOSPC" "$T/bomb.tgz" "$T/small/c"
empty "$T/small/c" "ENOSPC"

# OCI
oci=$T/oci
tools/mkoci.sh "$oci"
for spec in "oci:$oci" "oci:$oci:latest"; do
	expect "$spec unpacks" "^env OCI_IMAGE=1" "$spec" "$T/o"
done
expect "workdir from config" "^workdir /tmp" "oci:$oci" "$T/o"
d=$("$bin" "oci:$oci" "$T/o" | sed -n 's/^dir //p')
[ ! -e "$d/etc/gardenfs-hidden" ] && [ -f "$d/etc/layer2" ] && [ -x "$d/bin/busybox" ] && pass "whiteout applied" || fail "whiteout"
[ -z "$(find "$d" -name '.wh.*')" ] && pass "no whiteout files" || fail "whiteout files left"
expect "unknown tag" "error ENOENT: .*no manifest tagged nope" "oci:$oci:nope" "$T/o2"
cp -r "$oci" "$T/bad"
l2=$(ls -S "$T/bad/blobs/sha256" | sed -n 2p)
for b in $(ls "$T/bad/blobs/sha256"); do [ "$(stat -c %s "$T/bad/blobs/sha256/$b")" = 10240 ] && l2=$b; done
printf 'x' >> "$T/bad/blobs/sha256/$l2"
expect "tampered layer" "error EINVAL: .*digest" "oci:$T/bad" "$T/o3"
empty "$T/o3" "tampered layer"
# an opaque dir: a third layout by hand with one layer emptying /etc
python3 - "$oci" "$T/opq" <<'PY'
import hashlib, io, json, os, shutil, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
shutil.copytree(src, dst)
idx = json.load(open(f"{dst}/index.json"))
mdig = idx["manifests"][0]["digest"][7:]
man = json.load(open(f"{dst}/blobs/sha256/{mdig}"))
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    for name, data in ((".wh..wh..opq", b""), ("only", b"only\n")):
        ti = tarfile.TarInfo("etc/" + name); ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
b = buf.getvalue(); h = hashlib.sha256(b).hexdigest()
open(f"{dst}/blobs/sha256/{h}", "wb").write(b)
man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + h, "size": len(b)})
mb = json.dumps(man).encode(); mh = hashlib.sha256(mb).hexdigest()
open(f"{dst}/blobs/sha256/{mh}", "wb").write(mb)
idx["manifests"][0].update(digest="sha256:" + mh, size=len(mb))
json.dump(idx, open(f"{dst}/index.json", "w"))
PY
d=$("$bin" "oci:$T/opq" "$T/o4" | sed -n 's/^dir //p')
[ "$(ls -A "$d/etc" 2>&1)" = only ] && pass "opaque dir" || fail "opaque dir: $(ls -A "$d/etc" 2>&1)"

# a cache on btrfs makes subvolumes, and drops refused ones
truncate -s 256M "$T/b.img" && mkfs.btrfs -q "$T/b.img" >/dev/null 2>&1 && loop=$(losetup --find --show "$T/b.img") &&
	mkdir -p "$T/btrfs" && mount "$loop" "$T/btrfs"
d=$("$bin" "$T/bb.tgz" "$T/btrfs/images" | sed -n 's/^dir //p')
[ "$(stat -c %i "$d")" = 256 ] && pass "btrfs cache: a subvolume" || fail "btrfs cache: $d"
expect "btrfs cache: hostile" "error EINVAL" "$T/symdir.tar" "$T/btrfs/images"
[ "$(btrfs subvolume list "$T/btrfs" | wc -l)" = 1 ] && pass "btrfs cache: refused subvolume gone" || fail "btrfs: $(btrfs subvolume list "$T/btrfs")"

[ $fails = 0 ] && echo "all ok" || echo "$fails FAILURES"
exit $((fails > 0))
