#!/bin/sh
# attach-later.sh [MOUNTPOINT]: start a process, go away, come back later
# and read everything it wrote from the first byte (Garden's Attach).
# Nothing is lost while nobody reads: the output lives in files.
set -eu
G=${1:-/garden}
H=attach-$$
mkdir "$G/$H"
trap 'rmdir "$G/$H" 2>/dev/null || true' EXIT

exec 3<>"$G/$H/procs/new"
printf '%s' "/bin/sh -c 'for i in 1 2 3; do echo step \$i; sleep 0.3; done; echo done >&2'" >&3
read -r id <&3
exec 3>&-

# Nobody is reading.  Do something else for a while...
sleep 0.5
echo "state now: $(sed -n 's/^state //p' "$G/$H/procs/$id/status")"

# ...then attach: cat starts at byte 0 and follows until the process ends.
cat "$G/$H/procs/$id/stdout"
cat "$G/$H/procs/$id/stderr"

# After the exit you can attach again, as often as you like.
n=$(cat "$G/$H/procs/$id/stdout" | wc -l)
echo "read again after exit: $n lines, exit status $(cat "$G/$H/procs/$id/wait")"
[ "$n" -eq 3 ]
