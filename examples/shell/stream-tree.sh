#!/bin/sh
# stream-tree.sh [MOUNTPOINT]: copy a directory of the host into a
# container as one of its users (Garden's StreamIn), look at it from
# inside, copy it back out (StreamOut) and compare; then see what a broken
# archive does: the close of the writer fails, and errors says why.
set -eu
G=${1:-/garden}
H=tree-$$
T=$(mktemp -d)
mkdir "$G/$H"
trap 'rmdir "$G/$H" 2>/dev/null || true; rm -rf "$T"' EXIT

# a small tree on the host
mkdir -p "$T/src/conf" "$T/back"
echo "port 8080" >"$T/src/conf/app.conf"
printf '#!/bin/sh\necho serving\n' >"$T/src/run" && chmod 755 "$T/src/run"
ln -s conf/app.conf "$T/src/current.conf"

# in: a path (relative: below vcap's home), the user, then the tar stream;
# the close of tar's output reports how the unpacking went
{ printf 'app\nuser vcap\n'; tar -C "$T/src" -cz .; } >"$G/$H/streamin"

# from inside: vcap owns it all, the symlink is a symlink
exec 3<>"$G/$H/procs/new"
printf '%s' "/bin/sh -c 'cd /home/vcap/app && ls -ln . conf && ./run && cat current.conf'" >&3
read -r id <&3
exec 3>&-
cat "$G/$H/procs/$id/stdout"

# out: write the path, read the archive from the same descriptor
exec 3<>"$G/$H/streamout"
echo /home/vcap/app/ >&3
tar -C "$T/back" -x <&3
exec 3>&-
diff -r "$T/src" "$T/back" && echo "round trip ok"

# a stream that is not a tar: the writer's close fails (cat, like tar,
# says so; a shell does not look at the close of a redirection), and
# errors says why
if printf '/tmp/broken\nthis is not a tar archive\n' | cat >"$G/$H/streamin" 2>/dev/null; then
	echo "a broken stream was taken" >&2
	exit 1
fi
echo "refused: $(tail -n 1 "$G/$H/errors")"
