# tests/stream-lib.sh: what the streaming tests (tests/integration/55-*)
# share, on top of tests/lib.sh.  They drive runtime/stream.h through
# build/stream-driver against a real container's init, and check the
# results with real tar, getfattr, getcap and the container's own tools.
#
#   . "$(dirname "$0")/../stream-lib.sh"
#   stream_start                 # gfs_start, container c, $P its init pid
#   sd_in [-u USER] PATH <tar    # streamin; verdict in $(sd_verdict)
#   sd_out [-u USER] PATH >tar   # streamout
#   tar_gen OUT [pax] SPEC...    # a hand-made (hostile) archive
#   manifest DIR                 # one line per file: what a round trip keeps

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SD=$GFS_REPO/build/stream-driver
P=

stream_need() {
	[ -x "$SD" ] || skip "no $SD (run make)"
	[ -x "$GFS_REPO/build/gardenfs-stream" ] || skip "no gardenfs-stream (run make)"
}

# init_of HANDLE: the host pid of the container's init.
init_of() { awk '{ print $1 }' "$DEPOT/containers/$1/init.pid"; }

# stream_start [DAEMON OPTIONS]: a daemon and container c.
stream_start() {
	stream_need
	gfs_start "$@"
	mkdir "$MNT/c" || fatal "mkdir c"
	P=$(init_of c)
	[ -n "$P" ] && [ -d "/proc/$P" ] || fatal "no init pid for c"
}

# sd_in / sd_out ARGS...: the driver with -p $P unless ARGS give one; its
# stderr goes to $TDIR/sd.err (last line: `done N B` or `error ENAME ...`).
sd_in() {
	local pid=$P
	[ "${1:-}" = -p ] && pid=$2 && shift 2
	tmo "$SD" in -p "$pid" "$@" 2>"$TDIR/sd.err"
}
sd_out() {
	local pid=$P
	[ "${1:-}" = -p ] && pid=$2 && shift 2
	tmo "$SD" out -p "$pid" "$@" 2>"$TDIR/sd.err"
}
# done, or the errno name of the last driver run
sd_verdict() {
	tail -n 1 "$TDIR/sd.err" 2>/dev/null | awk '$1 == "error" { print $2; next } { print $1 }'
}
sd_reason() { tail -n 1 "$TDIR/sd.err" 2>/dev/null; }

# assert_stream EXPECTED WHAT: the last run's verdict.
assert_stream() {
	local got
	got=$(sd_verdict)
	[ "$got" = "$1" ] && return 0
	fail "$2: expected $1, got ${got:-nothing} ($(sd_reason))"
}

# tar_gen OUT [pax] SPEC...: writes an archive made with python's tarfile,
# entry by entry as given, no checks.  SPEC is TYPE:NAME[:ARG]:
#   f:NAME[:DATA]  file      d:NAME      directory   p:NAME   FIFO
#   l:NAME:TARGET  symlink   h:NAME:TARGET hard link c:NAME:MAJ,MIN  char dev
#   b:NAME:MAJ,MIN block dev s:NAME:SIZE  file of SIZE zero bytes
# Owners are 0:0 and modes 0644/0755 unless NAME ends with @UID:GID.
tar_gen() {
	python3 - "$@" <<'PY'
import io, sys, tarfile
out, specs = sys.argv[1], sys.argv[2:]
fmt = tarfile.GNU_FORMAT
if specs and specs[0] == "pax":
    fmt, specs = tarfile.PAX_FORMAT, specs[1:]
types = {"f": tarfile.REGTYPE, "s": tarfile.REGTYPE, "d": tarfile.DIRTYPE,
         "p": tarfile.FIFOTYPE, "l": tarfile.SYMTYPE, "h": tarfile.LNKTYPE,
         "c": tarfile.CHRTYPE, "b": tarfile.BLKTYPE}
with tarfile.open(out, "w", format=fmt) as t:
    for s in specs:
        kind, rest = s.split(":", 1)
        name, _, arg = rest.partition(":")
        uid = gid = 0
        if "@" in name:
            name, own = name.rsplit("@", 1)
            uid, gid = (int(x) for x in own.split(":"))
        ti = tarfile.TarInfo(name)
        ti.type = types[kind]
        ti.uid, ti.gid = uid, gid
        ti.mode = 0o755 if kind == "d" else 0o644
        ti.mtime = 1600000000
        data = None
        if kind == "f":
            data = arg.encode()
        elif kind == "s":
            data = bytes(int(arg))
        elif kind in "lh":
            ti.linkname = arg
        elif kind in "cb":
            ti.devmajor, ti.devminor = (int(x) for x in arg.split(","))
        if data is not None:
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        else:
            t.addfile(ti)
PY
}

# manifest DIR: path type mode uid:gid size sha256 link xattrs mtime, one
# line per entry below DIR, sorted; what a faithful round trip keeps.
# Directory mtimes are left out where tar itself does not keep them.
manifest() {
	python3 - "$1" <<'PY'
import hashlib, os, stat, sys
root = sys.argv[1]
rows = []
for dp, dns, fns in os.walk(root):
    for n in sorted(dns + fns):
        p = os.path.join(dp, n)
        st = os.lstat(p)
        rel = os.path.relpath(p, root)
        kind = stat.S_IFMT(st.st_mode)
        h = link = ""
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                h = hashlib.sha256(f.read()).hexdigest()[:16]
        if stat.S_ISLNK(st.st_mode):
            link = os.readlink(p)
        xa = ""
        if not stat.S_ISLNK(st.st_mode):
            xa = ",".join(sorted("%s=%s" % (k, os.getxattr(p, k).hex())
                                 for k in os.listxattr(p)))
        size = st.st_size if stat.S_ISREG(st.st_mode) else 0
        rows.append("%s %o %o %d:%d %d %s %s [%s] %d" % (
            rel, kind >> 12, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
            size, h, link, xa, int(st.st_mtime)))
for r in sorted(rows):
    print(r)
PY
}

# in_ctr PATH: PATH of the container's tree as the host reaches it; only
# for paths with no symlink on the way (the host would resolve it on its
# own root).
in_ctr() { printf '/proc/%s/root%s\n' "$P" "$1"; }

# tar_slow FLAG SPEC... WAIT SPEC...: an archive on stdout in two parts:
# the entries before WAIT, then (once the file FLAG exists) the rest and
# the end.  SPECs as tar_gen's f:, d:, l: and h:.
tar_slow() {
	python3 - "$@" <<'PY'
import os, sys, tarfile, time
flag, specs = sys.argv[1], sys.argv[2:]
types = {"f": tarfile.REGTYPE, "d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE,
         "h": tarfile.LNKTYPE}
out = sys.stdout.buffer
def entry(s):
    kind, rest = s.split(":", 1)
    name, _, arg = rest.partition(":")
    ti = tarfile.TarInfo(name)
    ti.type, ti.mtime = types[kind], 1600000000
    ti.mode = 0o755 if kind == "d" else 0o644
    data = b""
    if kind == "f":
        data = arg.encode()
        ti.size = len(data)
    elif kind in "lh":
        ti.linkname = arg
    return ti.tobuf(tarfile.GNU_FORMAT) + data + b"\0" * (-len(data) % 512)
try:
    for s in specs:
        if s == "WAIT":
            out.flush()
            while not os.path.exists(flag):
                time.sleep(0.02)
        else:
            out.write(entry(s))
    out.write(b"\0" * 1024)
    out.flush()
except BrokenPipeError:
    pass  # the stream was refused before its end
os._exit(0)
PY
}
