#!/bin/sh
# Runs every cmocka binary given; fails when any fails.
rc=0
for t in "$@"; do
	echo "== $t"
	"$t" || rc=1
done
exit $rc
