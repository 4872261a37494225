#!/bin/sh
# Installs the Debian packages gardenfs needs to build, run and test, when
# they are missing.  Safe to run again.
set -e
pkgs="build-essential pkg-config libfuse3-dev fuse3 libjansson-dev libarchive-dev
libcmocka-dev busybox-static btrfs-progs iproute2 nftables procps psmisc
python3 crun runc bubblewrap libcap-dev libseccomp-dev clang-14
libclang-rt-14-dev attr libcap2-bin libarchive-tools cpio strace libnl-3-dev
libnl-route-3-dev libnftables-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null
