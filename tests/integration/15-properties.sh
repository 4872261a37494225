#!/bin/bash
# properties/: ls, cat, echo >, rm; a value is what was written minus one
# trailing newline, any bytes; cat prints the value and a newline.
. "$(dirname "$0")/../lib.sh"
gfs_start
mkdir "$MNT/web" || fatal "mkdir web"
D=$MNT/web/properties

assert_eq "" "$(ls "$D")" "no properties at first"
echo prod >"$D/stage" || fail "echo prod > stage"
assert_eq stage "$(ls "$D")" "ls after a set"
assert_eq "prod" "$(tmo cat "$D/stage")" "cat stage"
assert_eq "70 72 6f 64 0a" "$(tmo cat "$D/stage" | od -An -tx1 | tr -s ' ' | sed 's/^ //;s/ $//')" "cat prints value + newline"
echo dev >"$D/stage"
assert_eq dev "$(tmo cat "$D/stage")" "overwrite"
printf 'noeol' >"$D/k2"
assert_eq "6e 6f 65 6f 6c 0a" "$(tmo cat "$D/k2" | od -An -tx1 | tr -s ' ' | sed 's/^ //;s/ $//')" "a value written without newline reads back with one"
echo "a=b c=d" >"$D/with-equals"
assert_eq "a=b c=d" "$(tmo cat "$D/with-equals")" "a value with = and spaces"
echo >"$D/empty"
assert_eq "0a" "$(tmo cat "$D/empty" | od -An -tx1 | tr -d ' ')" "an empty value prints a newline"

# arbitrary bytes: one write of bytes, read back exactly (+ newline)
rt() { # HEX WHAT
	local got want
	got=$(gfs_io wc "$D/bin" hex "$1" | head -n1)
	assert_eq OK "$got" "$2: write"
	want=$(python3 -c '
import sys
b = bytes.fromhex(sys.argv[1])
if b.endswith(b"\n"): b = b[:-1]
print((b + b"\n").hex())' "$1")
	assert_eq "$want" "$(tmo cat "$D/bin" | hexof)" "$2: read back"
}
rt "610a62" "an inner newline"
rt "610a0a" "two trailing newlines keep one"
rt "0001027f80fffe0a" "NUL and high bytes"
rt "$(head -c 3000 /dev/urandom | hexof)" "3000 random bytes"
rt "0a" "only a newline"

# names: ls lists them all, sorted or not
assert_eq "bin empty k2 stage with-equals" "$(ls "$D" | sort | tr '\n' ' ' | sed 's/ $//')" "ls lists every property"
echo spaced >"$D/name with spaces" || fail "a name with spaces"
assert_eq spaced "$(tmo cat "$D/name with spaces")" "cat of a name with spaces"

# rm
rm "$D/stage" || fail "rm stage"
[ -e "$D/stage" ] && fail "stage still there after rm"
out=$(cat "$D/stage" 2>&1) && fail "cat of a removed property succeeded"
assert_contains "$out" "No such file" "cat of a removed property"
out=$(rm "$D/nope" 2>&1) && fail "rm of a missing property succeeded"
assert_contains "$out" "No such file" "rm of a missing property"

# other containers have their own
mkdir "$MNT/db" || fail "mkdir db"
assert_eq "" "$(ls "$MNT/db/properties")" "another container's properties"
echo "create handle=p2 property=a=1 'property=b=x y'" >"$MNT/ctl" || fail "create with properties"
assert_eq "1" "$(tmo cat "$MNT/p2/properties/a")" "property from create"
assert_eq "x y" "$(tmo cat "$MNT/p2/properties/b")" "quoted property from create"

# a property holding 64 KiB
head -c 65536 /dev/urandom | hexof | head -c 65536 >"$TDIR/big"
assert_eq OK "$(gfs_io wc "$D/big" str "$(cat "$TDIR/big")" | head -n1)" "a 64 KiB value"
assert_eq "$(cat "$TDIR/big")" "$(tmo cat "$D/big")" "64 KiB value read back"

# 1 MiB in one write: stored whole (the SPEC sets no limit), or refused
# whole; never cut
got=$(gfs_io wc "$D/mib" size 1048576 | head -n1)
case $got in
OK) assert_eq "$(python3 -c '
import hashlib
pat = b"junk \x01\xff garbage =;'"'"'\" \n"
n = 1048576
b = (pat * (n // len(pat) + 1))[:n]
if b.endswith(b"\n"): b = b[:-1]
print(hashlib.md5(b + b"\n").hexdigest())')" "$(tmo cat "$D/mib" | md5sum | cut -d' ' -f1)" "a 1 MiB value read back" ;;
EINVAL | ENOSPC | EFBIG | E2BIG) [ -e "$D/mib" ] && [ -n "$(tmo cat "$D/mib")" ] && fail "a refused 1 MiB value left something" ;;
*) fail "a 1 MiB property value: got $got" ;;
esac

# properties survive a restart
gfs_restart
assert_eq "noeol" "$(tmo cat "$D/k2")" "a property after a restart"
assert_eq "$(cat "$TDIR/big")" "$(tmo cat "$D/big")" "the 64 KiB property after a restart"
assert_eq "x y" "$(tmo cat "$MNT/p2/properties/b")" "create's property after a restart"
gfs_done
