#!/bin/sh
# tests/fuzz/run.sh SECONDS BIN...: runs each libFuzzer target for SECONDS
# on its corpus (build/fuzz/corpus/NAME, seeded from tests/fuzz/corpus/NAME)
# and fails when any finds a crash, a leak or undefined behaviour; the
# input that did it is kept in build/fuzz/artifacts/.
secs=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for bin in "$@"; do
	name=$(basename "$bin" | sed 's/^fuzz_//')
	out=$(dirname "$bin")
	corpus=$out/corpus/$name
	mkdir -p "$corpus" "$out/artifacts"
	seeds=$here/corpus/$name
	[ -d "$seeds" ] || seeds=
	echo "== fuzz $name for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$name-" "$corpus" $seeds \
		>"$out/$name.log" 2>&1; then
		echo "FAIL fuzz $name: see $out/$name.log"
		tail -n 30 "$out/$name.log"
		rc=1
	else
		grep -E '^stat::number_of_executed_units' "$out/$name.log" | sed "s/^/   $name: /"
	fi
done
exit $rc
