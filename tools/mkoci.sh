#!/bin/sh
# Builds a small OCI image layout from the busybox image (build/image, or
# $IMAGE) for the tests, with no network: two layers and a whiteout.
#   layer 1 (tar+gzip): the whole tree plus /etc/gardenfs-hidden
#   layer 2 (tar):      etc/.wh.gardenfs-hidden (deletes it) and /etc/layer2
#   config:  Env PATH=... and OCI_IMAGE=1, WorkingDir /tmp; tagged "latest"
# Usage: tools/mkoci.sh OUTDIR.  The same input gives the same bytes:
# sorted names, fixed times, gzip without a name or time stamp.
set -eu
out=${1:?usage: mkoci.sh OUTDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
image=${IMAGE:-$top/build/image}
[ -x "$image/bin/busybox" ] || { echo "mkoci: no image at $image (make build/image/.done)" >&2; exit 1; }

case $(uname -m) in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
i?86) arch=386 ;;
*) arch=$(uname -m) ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out/blobs/sha256"

# GNU tar, deterministic: sorted, fixed mtime, numeric ids, no atime/ctime
tarflags="--format=gnu --sort=name --mtime=@0 --numeric-owner"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# a blob named by its digest; prints the digest's hex
blob() {
	h=$(sha "$1")
	cp "$1" "$out/blobs/sha256/$h"
	echo "$h"
}

mkdir -p "$work/l1/etc" "$work/l2/etc"
echo "this file is deleted by a whiteout in layer 2" > "$work/l1/etc/gardenfs-hidden"
: > "$work/l2/etc/.wh.gardenfs-hidden"
echo "from layer 2" > "$work/l2/etc/layer2"
chmod 0644 "$work/l1/etc/gardenfs-hidden" "$work/l2/etc/.wh.gardenfs-hidden" "$work/l2/etc/layer2"
chmod 0755 "$work/l2/etc"

# ids as in the image; only our own files are forced to root (tar's
# --owner is global, hence the append)
tar $tarflags -cf "$work/layer1.tar" -C "$image" --exclude=./.done .
tar $tarflags -rf "$work/layer1.tar" -C "$work/l1" --owner=0 --group=0 ./etc/gardenfs-hidden
tar $tarflags -cf "$work/layer2.tar" -C "$work/l2" --owner=0 --group=0 ./etc
gzip -n -9 -c "$work/layer1.tar" > "$work/layer1.tar.gz"

diff1=$(sha "$work/layer1.tar")
diff2=$(sha "$work/layer2.tar")
l1=$(blob "$work/layer1.tar.gz")
l1size=$(size "$work/layer1.tar.gz")
l2=$(blob "$work/layer2.tar")
l2size=$(size "$work/layer2.tar")

printf '%s' '{"architecture":"'"$arch"'","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin","OCI_IMAGE=1"],"WorkingDir":"/tmp"},"rootfs":{"type":"layers","diff_ids":["sha256:'"$diff1"'","sha256:'"$diff2"'"]},"history":[{"created_by":"tools/mkoci.sh: busybox tree and /etc/gardenfs-hidden"},{"created_by":"tools/mkoci.sh: whiteout of /etc/gardenfs-hidden, /etc/layer2"}]}' > "$work/config.json"
cfg=$(blob "$work/config.json")
cfgsize=$(size "$work/config.json")

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$cfg"'","size":'"$cfgsize"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$l1"'","size":'"$l1size"'},{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'"$l2"'","size":'"$l2size"'}]}' > "$work/manifest.json"
man=$(blob "$work/manifest.json")
mansize=$(size "$work/manifest.json")

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$man"'","size":'"$mansize"',"platform":{"architecture":"'"$arch"'","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' > "$out/index.json"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$out/oci-layout"
