# tests/streams-fs.sh: what the tests of streamin and streamout through the
# mount share (tests/integration/56-*), on top of tests/stream-lib.sh
# (manifest, tar_gen, in_ctr).  Python where the shell cannot say which
# write(2) or close(2) failed, and with what.
#
#   sin FILE DATA [CHUNK [ONES]]   DATA (header and archive) to FILE in
#                                  writes of CHUNK bytes (after ONES writes
#                                  of one byte), then close; prints the
#                                  first failed write's errno name (or OK)
#                                  and then close's
#   sout FILE PATH OUT             write PATH on an O_RDWR descriptor, then
#                                  read to OUT until EOF; prints the
#                                  write's result and the read's
#   errors_added CTR BEFORE        lines added to CTR's errors since BEFORE

. "$(dirname "${BASH_SOURCE[0]}")/stream-lib.sh"

sin() {
	tmo python3 - "$@" <<'EOF'
import errno, os, sys
path, data = sys.argv[1], sys.argv[2]
chunk = int(sys.argv[3]) if len(sys.argv) > 3 else 65536
ones = int(sys.argv[4]) if len(sys.argv) > 4 else 0
def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))
with open(data, "rb") as f:
    buf = f.read()
try:
    fd = os.open(path, os.O_WRONLY)
except OSError as e:
    print("open:" + name(e), "-"); sys.exit(0)
w, off = "OK", 0
while off < len(buf):
    n = 1 if ones > 0 else chunk
    ones -= 1
    try:
        off += os.write(fd, buf[off:off + n])
    except OSError as e:
        w = name(e)
        break
try:
    os.close(fd)
    c = "OK"
except OSError as e:
    c = name(e)
print(w, c)
EOF
}

sout() {
	tmo python3 - "$@" <<'EOF'
import errno, os, sys
path, src, out = sys.argv[1:4]
def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))
fd = os.open(path, os.O_RDWR)
try:
    os.write(fd, src.encode())
    w = "OK"
except OSError as e:
    print(name(e), "-"); sys.exit(0)
r = "OK"
with open(out, "wb") as f:
    while True:
        try:
            b = os.read(fd, 1 << 20)
        except OSError as e:
            r = name(e)
            break
        if not b:
            break
        f.write(b)
os.close(fd)
print(w, r)
EOF
}

errors_added() { echo $(($(lines "$MNT/$1/errors") - $2)); }

# hdr_file OUT PATH [USER] < archive: the bytes a streamin writer sends.
hdr_file() {
	{
		printf '%s\n' "$2"
		[ -n "${3:-}" ] && printf 'user %s\n' "$3"
		cat
	} >"$1"
}
