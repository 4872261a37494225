#!/bin/sh
# create-and-run.sh [MOUNTPOINT]: make a container, run one command in it,
# print what it wrote and how it ended, and remove the container again.
#
#   sh examples/shell/create-and-run.sh /garden
set -eu
G=${1:-/garden}
H=example-$$

# A container is a directory: mkdir creates it with the daemon's defaults.
mkdir "$G/$H"
trap 'rmdir "$G/$H" 2>/dev/null || true' EXIT

# Writing a command line to procs/new starts a process; reading the same
# descriptor afterwards gives its id.  Words are split as sh would split
# them (quotes, backslashes), but nothing is expanded.
exec 3<>"$G/$H/procs/new"
printf '%s' "/bin/sh -c 'echo hello from \$(hostname); id -u; exit 3'" >&3
read -r id <&3
exec 3>&-
echo "started process $id in $H"

# stdout holds everything the process wrote; cat ends when it has exited.
cat "$G/$H/procs/$id/stdout"

# wait blocks until the exit and then says the exit status.
status=$(cat "$G/$H/procs/$id/wait")
echo "exit status: $status"

# The same works with a JSON ProcessSpec (Garden's field names).
exec 3<>"$G/$H/procs/new"
printf '%s' '{"path": "/bin/sh", "args": ["-c", "echo $GREETING from $PWD"], "env": ["GREETING=hi"], "dir": "/tmp"}' >&3
read -r id2 <&3
exec 3>&-
cat "$G/$H/procs/$id2/stdout"
[ "$(cat "$G/$H/procs/$id2/wait")" = 0 ]

[ "$status" = 3 ] # what the first command said it would do
