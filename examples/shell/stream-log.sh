#!/bin/sh
# stream-log.sh [MOUNTPOINT]: follow a process's output line by line while
# it runs (like tail -f, but it ends by itself when the process exits), and
# feed it input through its stdin FIFO.
set -eu
G=${1:-/garden}
H=stream-$$
mkdir "$G/$H"
trap 'rmdir "$G/$H" 2>/dev/null || true' EXIT

# A process that numbers the lines it reads, like a tiny log shipper.
exec 3<>"$G/$H/procs/new"
printf '%s' "/bin/sh -c 'n=0; while read -r line; do n=\$((n+1)); echo \"\$n: \$line\"; done; echo \"\$n lines\"'" >&3
read -r id <&3
exec 3>&-
P=$G/$H/procs/$id

# Follow stdout in the background: each line shows up as it is written.
{
	while IFS= read -r line; do
		echo "[log] $line"
	done <"$P/stdout"
} &
reader=$!

# Feed stdin.  The close of this (first) writer is the process's EOF.
{
	for word in alpha beta gamma; do
		echo "$word"
		sleep 0.2
	done
} >"$P/stdin"

wait "$reader"
echo "exit status: $(cat "$P/wait")"
[ "$(cat "$P/wait")" = 0 ]
