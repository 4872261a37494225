#!/bin/sh
# Builds the default image: a busybox tree from Debian's busybox-static, with
# /etc/passwd, /etc/group, /tmp (1777) and /root.  No network needed.
set -e
out=$1
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkimage: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
"$bb" --list >/dev/null 2>&1 || { echo "mkimage: $bb is not a static busybox" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
cd "$out"
mkdir -p bin sbin usr/bin usr/sbin etc root tmp home proc sys dev var/tmp
cp "$bb" bin/busybox
for app in $("$bb" --list-full); do
	[ "$app" = bin/busybox ] && continue
	mkdir -p "$(dirname "$app")"
	ln -sf /bin/busybox "$app"
done
chmod 1777 tmp var/tmp
chmod 700 root
cat > etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
vcap:x:1000:1000:vcap:/home/vcap:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > etc/group <<'G'
root:x:0:
daemon:x:1:
tty:x:5:
staff:x:50:vcap
vcap:x:1000:
nogroup:x:65534:
G
mkdir -p home/vcap && chown 1000:1000 home/vcap
echo "127.0.0.1 localhost" > etc/hosts
: > etc/resolv.conf
