#!/bin/bash
# The net/ library against the real kernel, through build/net-driver, with
# stand-in containers (sleep in fresh user+net namespaces): addresses and
# routes inside, containers reaching each other and the host, net/in DNAT
# from the host via the external address (never 127.0.0.1, route_localnet
# stays 0), --deny-networks against a far namespace until a net/out rule
# opens exactly one port and protocol, bandwidth both ways, counters, bad
# input refused with nothing changed, a driver crash followed by restore and
# gc, threads at once, and nothing of ours left at the end.
#
# Traffic goes only to addresses this test gave to namespaces it made, and
# to the host's own addresses (which the DNAT sends on to those).
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root"
DRIVER=${NET_DRIVER:-$GFS_REPO/build/net-driver}
[ -x "$DRIVER" ] || skip "no $DRIVER (run make)"
for t in ip tc nft nsenter unshare python3 busybox; do
	command -v "$t" >/dev/null || skip "needs $t"
done

T=$(mktemp -d "${GFS_TMPDIR:-/tmp}/gfs-net.XXXXXX") || fatal "mktemp"
gfs_ledger "tdir $T"
PIDS=() # every process we started, killed by pid in the trap
TAG=n$(printf '%05x' $((($$ * 7919 + RANDOM) & 0xfffff)))
TABLE=gardenfs_$TAG
DPID=

cleanup() {
	exec 7>&- 8<&- 2>/dev/null
	for p in "${PIDS[@]}" $DPID; do
		[ -d "/proc/$p" ] && kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	nft delete table ip "$TABLE" 2>/dev/null
	nft delete table ip "${TAG}probe" 2>/dev/null
	for l in $(ip -o link | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep "^$TAG"); do
		ip link del "$l" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap '' PIPE # a dead driver is reported, not a silent exit
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the kernel features net/ needs, made once under our own names
probe() { "$@" >/dev/null 2>&1 || skip "kernel lacks what this needs: $*"; }
probe ip link add "${TAG}p0" type veth peer name "${TAG}p1"
probe ip link add "${TAG}p2" type bridge
probe ip link add "${TAG}p3" type ifb
probe tc qdisc add dev "${TAG}p3" root tbf rate 1mbit burst 32k latency 25ms
probe tc qdisc add dev "${TAG}p0" ingress
probe tc filter add dev "${TAG}p0" parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev "${TAG}p3"
probe nft -f - <<EOF
add table ip ${TAG}probe
add map ip ${TAG}probe m { type inet_service : ipv4_addr . inet_service; }
add chain ip ${TAG}probe pre { type nat hook prerouting priority dstnat; }
add chain ip ${TAG}probe post { type nat hook postrouting priority srcnat; }
add chain ip ${TAG}probe flt { type filter hook forward priority filter; }
add rule ip ${TAG}probe pre ip daddr 127.0.0.2 dnat ip to tcp dport map @m
add rule ip ${TAG}probe post ip saddr 127.0.0.2 masquerade
add rule ip ${TAG}probe flt fib saddr . iif oif missing log prefix "x" drop
EOF
nft delete table ip "${TAG}probe"
for l in p0 p2 p3; do ip link del "$TAG$l"; done

# ---- our own addresses and ports, checked unused
for _ in $(seq 30); do
	X=$((200 + RANDOM % 51)) Y=$((RANDOM % 250))
	NET=10.$X.$Y FAR=10.$X.$((Y + 1))
	ip -o addr | grep -qE " ($NET|$FAR)\." && continue
	ip route | grep -qE "^($NET|$FAR)\." && continue
	break
done
POOL=$NET.0/24
FARIP=$FAR.2
free_ports() { # FIRST COUNT: none bound by anyone
	python3 - "$1" "$2" <<'EOF'
import socket, sys
f, n = int(sys.argv[1]), int(sys.argv[2])
for p in range(f, f + n):
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", p))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
EOF
}
for _ in $(seq 30); do
	F=$((42000 + (RANDOM % 900) * 20))
	free_ports "$F" 8 && break
done
L=$((F + 7))
say "tag $TAG pool $POOL far $FARIP ports $F-$L"

everything() { # links, addresses, qdiscs, the ruleset (without counters)
	{
		ip -o link
		ip -o addr
		tc qdisc
		nft list ruleset
	} 2>/dev/null | sed -e 's/^[0-9]*: //' -e 's/ valid_lft.*//'
}
ours() { grep -E -e "$TAG" -e "$TABLE" -e "$NET\." -e "$FAR\."; }
everything >"$T/before"
assert_eq "" "$(ours <"$T/before")" "nothing of ours before"
localnet_before=$(grep -l 1 /proc/sys/net/ipv4/conf/*/route_localnet 2>/dev/null)

# ---- helpers: the python side, stand-ins, the driver
cat >"$T/nt.py" <<'EOF'
import os, socket, sys, time
m = sys.argv[1]
def ready():
    if os.environ.get("READY"):
        open(os.environ["READY"], "w").close()
if m == "serve":  # serve tcp|udp PORT MSG: answer every peer with MSG
    proto, port, msg = sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
    if proto == "tcp":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port)); s.listen(16); ready()
        while True:
            c, _ = s.accept(); c.sendall(msg); c.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port)); ready()
    while True:
        _, a = s.recvfrom(100); s.sendto(msg, a)
elif m == "sink":  # sink ADDR PORT: count what each peer sends, tell it
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[2], int(sys.argv[3]))); s.listen(4); ready()
    while True:
        c, _ = s.accept(); n = 0
        while True:
            d = c.recv(65536)
            if not d: break
            n += len(d)
        c.sendall(b"%d\n" % n); c.close()
elif m == "hold":  # hold PORT: a host process bound to 127.0.0.1:PORT
    s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[2]))); s.listen(1); ready()
    time.sleep(1000)
elif m == "get":  # get HOST PORT: what a TCP server says, in 2 s
    try:
        s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=2)
        print(s.recv(100).decode()); sys.exit(0)
    except OSError:
        print("FAILED"); sys.exit(1)
elif m == "uget":  # uget HOST PORT: what a UDP server answers, in 2 s
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    try:
        s.sendto(b"x", (sys.argv[2], int(sys.argv[3])))
        print(s.recv(100).decode()); sys.exit(0)
    except OSError:
        print("FAILED"); sys.exit(1)
elif m == "send":  # send HOST PORT BYTES: "RECEIVED SECONDS", end to end
    n = int(sys.argv[4]); t0 = time.monotonic()
    s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=60)
    s.sendall(b"\0" * n); s.shutdown(socket.SHUT_WR)
    got = s.makefile().readline().strip()
    print(got, "%.2f" % (time.monotonic() - t0))
EOF
NT="python3 $T/nt.py"

# standin VAR: a stand-in container (its pid in VAR)
standin() {
	unshare -Urn sleep 1000 >/dev/null 2>&1 &
	local p=$! mine
	disown "$p" # killed by pid, without the shell's "Killed" notes
	PIDS+=("$p")
	mine=$(readlink /proc/self/ns/net)
	wait_until 5 sh -c "[ \"\$(readlink /proc/$p/ns/net)\" != '$mine' ]" || fatal "stand-in $p"
	printf -v "$1" %s "$p"
}
# bg_in PID CMD...: a background process in PID's network namespace (or on
# the host for PID 0), returned when it is ready
bg_in() {
	local p=$1 r=$T/ready.$RANDOM
	shift
	if [ "$p" = 0 ]; then
		READY=$r "$@" >/dev/null 2>&1 &
	else
		READY=$r nsenter -t "$p" -n "$@" >/dev/null 2>&1 &
	fi
	BG=$!
	disown "$BG"
	PIDS+=("$BG")
	wait_until 10 test -e "$r" || fail "background $* did not start"
}
in_ns() { local p=$1; shift; nsenter -t "$p" -n "$@"; }
quiet() { "$@" >/dev/null 2>&1; }
ping_ok() { in_ns "$1" busybox ping -c 1 -W 2 "$2" >/dev/null 2>&1; }

start_driver() {
	rm -f "$T/in" "$T/out"
	mkfifo "$T/in" "$T/out"
	"$DRIVER" <"$T/in" >"$T/out" 2>>"$T/driver.err" &
	DPID=$!
	exec 7>"$T/in" 8<"$T/out"
}
# d CMD...: one driver command; its answer in $R (and printed for $(d ...))
d() {
	R=
	if ! { echo "$*" >&7 && read -r -t 60 R <&8; } 2>/dev/null; then
		kill -0 "$DPID" 2>/dev/null ||
			fatal "the driver died at \`$*\`: $(tail -n 20 "$T/driver.err" | tr '\n' ' ')"
		R="err timeout"
	fi
	printf '%s\n' "$R" >>"$T/driver.log"
}
dok() { # d, and the answer must be ok
	d "$@"
	case $R in ok*) return 0 ;; esac
	fail "driver: $* -> $R"
	return 1
}
derr() { # ERRNO CMD...: the answer must be that errno
	local e=$1
	shift
	d "$@"
	case $R in "err $e "*) return 0 ;; esac
	fail "driver: $* -> [$R], wanted errno $e"
	return 1
}
field() { echo "$R" | awk -v n="$1" '{ print $(n + 1) }'; }
stop_driver() {
	d quit
	exec 7>&- 8<&-
	wait "$DPID" 2>/dev/null
	DPID=
}
crash_driver() {
	d crash
	exec 7>&- 8<&-
	wait "$DPID" 2>/dev/null
	DPID=
}

STATE=$T/state
mkdir -p "$STATE"
UPDEV=$(ip route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
UPMTU=$(cat "/sys/class/net/$UPDEV/mtu" 2>/dev/null || echo 1500)
EXT=$(ip -o -4 addr show dev "$UPDEV" 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
[ -n "$EXT" ] || skip "the host has no default route with an IPv4 address"

# ---- the far network: a namespace of our own behind its own veth
standin FARP
ip link add "${TAG}x0" type veth peer name "${TAG}x1" || fatal "far veth"
ip link set "${TAG}x1" netns "$FARP"
ip addr add "$FAR.1/30" dev "${TAG}x0"
ip link set "${TAG}x0" up
in_ns "$FARP" ip addr add "$FAR.2/30" dev "${TAG}x1"
in_ns "$FARP" ip link set "${TAG}x1" up
in_ns "$FARP" ip link set lo up
bg_in "$FARP" $NT serve tcp 7001 far-a
bg_in "$FARP" $NT serve tcp 7002 far-b
bg_in "$FARP" $NT serve udp 7001 far-u

start_driver
# bad configurations are refused before anything is made
derr 22 check 10.1.2.3/24 "$F" "$L" - "$TAG"
derr 22 check "$POOL" "$L" "$F" - "$TAG"
derr 22 check "$POOL" "$F" "$L" 10.0.0.0/33 "$TAG"
derr 22 check "$POOL" "$F" "$L" - BAD_TAG
derr 22 check "$POOL" "$F" "$L" - toolongtag
dok check "$POOL" "$F" "$L" "$FAR.0/24" "$TAG" && assert_eq 64 "$(field 1)" "a /24 holds 64 /30s"
dok setup "$POOL" "$F" "$L" "$FAR.0/24" "$TAG" "$STATE" || fatal "setup"
assert_eq 1 "$(cat /proc/sys/net/ipv4/ip_forward)" "ip_forward on"
assert_true "our table" quiet nft list table ip "$TABLE"

# ---- addresses, routes, bridges
standin P1
standin P2
standin P3
standin P4
standin P5
standin P6
standin P7
dok create "${TAG}-c1" "$P1"
assert_eq "ok $NET.1 $NET.2 $EXT" "$R" "c1: host .1, container .2 of the first /30, the external address"
dok create "${TAG}-c2" "$P2"
assert_eq "ok $NET.5 $NET.6 $EXT" "$R" "c2: the next /30"
dok spec "$NET.70/28"
dok create "${TAG}-c3" "$P3" "$NET.70/28"
assert_eq "ok $NET.65 $NET.70 $EXT" "$R" "c3: the address asked for, host side the subnet's .1"
dok create "${TAG}-c4" "$P4" "$NET.64/28"
assert_eq "ok $NET.65 $NET.66 $EXT" "$R" "c4: the subnet's next free address"
# refused, nothing made
links_before=$(ip -o link | grep -c "$TAG")
derr 22 spec 10.99.0.2/24
derr 22 create "${TAG}-x" "$P5" 10.99.0.2/24
derr 16 create "${TAG}-x" "$P5" "$NET.64/27"
derr 16 create "${TAG}-x" "$P5" "$NET.70/28"
derr 22 create "${TAG}-x" "$P5" "$NET.65/28"
derr 22 create "${TAG}-x" "$P5" "$NET.79/28"
derr 22 create "${TAG}-x" "$P5" "$NET.80/31"
derr 22 create "${TAG}-x" "$P5" "$NET.80"
derr 3 create "${TAG}-x" 999999999
assert_eq "$links_before" "$(ip -o link | grep -c "$TAG")" "refused creates made no link"

V1=$(printf '%sh%08x' "$TAG" $((0x0a000000 | X << 16 | Y << 8 | 2)))
V3=$(printf '%sh%08x' "$TAG" $((0x0a000000 | X << 16 | Y << 8 | 70)))
V4=$(printf '%sh%08x' "$TAG" $((0x0a000000 | X << 16 | Y << 8 | 66)))
I1=$(printf '%si%08x' "$TAG" $((0x0a000000 | X << 16 | Y << 8 | 2)))
C1HEX=$(printf '%08x' $((0x0a000000 | X << 16 | Y << 8 | 2)))
assert_contains "$(in_ns "$P1" ip -o -4 addr show dev eth0)" "inet $NET.2/30 brd $NET.3" "c1's eth0 address"
assert_contains "$(in_ns "$P1" ip route show default)" "default via $NET.1 dev eth0" "c1's default route"
assert_contains "$(in_ns "$P1" ip -o link show eth0)" "mtu $UPMTU " "c1's MTU is the uplink's"
assert_contains "$(in_ns "$P1" ip -o link show eth0)" "state UP" "c1's eth0 is up"
assert_contains "$(in_ns "$P3" ip -o -4 addr show dev eth0)" "inet $NET.70/28" "c3's eth0 address"
assert_contains "$(in_ns "$P3" ip route show default)" "default via $NET.65 dev eth0" "c3's default route"
br3=$(ip -o link show "$V3" | grep -o 'master [^ ]*')
assert_ne "" "$br3" "c3's veth is in a bridge"
assert_eq "$br3" "$(ip -o link show "$V4" | grep -o 'master [^ ]*')" "c3 and c4 share their subnet's bridge"
assert_ne "$br3" "$(ip -o link show "$V1" | grep -o 'master [^ ]*')" "c1 has a bridge of its own"
d hosts "${TAG}-c1"
assert_contains "$R" "|$NET.2 ${TAG}-c1" "hosts file names the container at its address"
d resolv
assert_match "$R" '^ok nameserver [0-9.]+' "resolv.conf has an IPv4 nameserver"
assert_not_contains "$R" "nameserver 127." "no loopback nameserver for the container"

assert_true "c1 pings c2 (another subnet)" ping_ok "$P1" "$NET.6"
assert_true "c3 pings c4 (the same bridge)" ping_ok "$P3" "$NET.66"
assert_true "c1 pings c3" ping_ok "$P1" "$NET.70"
assert_true "c1 pings its host side" ping_ok "$P1" "$NET.1"
assert_true "the host pings c4" quiet busybox ping -c 1 -W 2 "$NET.66"

# ---- net/in
bg_in "$P1" $NT serve tcp 8080 hello-c1
dok in "${TAG}-c1" 0 8080
assert_eq "ok $F 8080" "$R" "host port 0: the first of the pool"
assert_eq hello-c1 "$($NT get "$EXT" "$F")" "the host reaches c1 through the external address"
assert_eq hello-c1 "$(in_ns "$P2" $NT get "$EXT" "$F")" "c2 reaches c1 through the external address"
assert_eq hello-c1 "$(in_ns "$P1" $NT get "$EXT" "$F")" "c1 reaches itself through the external address"
assert_eq FAILED "$($NT get 127.0.0.1 "$F")" "127.0.0.1 is not forwarded"
bg_in 0 $NT hold $((F + 1))
HOLD=$BG
dok in "${TAG}-c1" 0 0
assert_eq "ok $((F + 2)) $((F + 2))" "$R" "a port a host process has bound is skipped; container 0 = host"
derr 16 in "${TAG}-c2" "$F" 80
derr 16 in "${TAG}-c2" $((F + 1)) 80
derr 22 in "${TAG}-c2" 70000 80
derr 22 in "${TAG}-c2" 80 70000
dok create "${TAG}-c5" "$P5"
dok in "${TAG}-c5" 0 0 && assert_eq "$((F + 3))" "$(field 1)" "c5 gets the next port"
dok destroy "${TAG}-c5"
dok create "${TAG}-c7" "$P7"
dok in "${TAG}-c7" 0 0 && assert_eq "$((F + 4))" "$(field 1)" "a released port went to the back"
for want in $((F + 5)) $((F + 6)) $((F + 7)) $((F + 3)); do
	dok in "${TAG}-c2" 0 0 && assert_eq "$want" "$(field 1)" "queue order"
done
derr 28 in "${TAG}-c2" 0 0
kill -9 "$HOLD"
wait_until 5 sh -c "! kill -0 $HOLD 2>/dev/null"
dok in "${TAG}-c2" 0 0 && assert_eq "$((F + 1))" "$(field 1)" "the port is handed out once unbound"
dok listin "${TAG}-c1"
assert_eq "ok $F 8080|$((F + 2)) $((F + 2))" "$R" "net/in lists in the order made"
assert_eq "" "$(grep -lv 0 /proc/sys/net/ipv4/conf/*"$TAG"*/route_localnet 2>/dev/null)" "route_localnet 0 on our links"
assert_eq "$localnet_before" "$(grep -l 1 /proc/sys/net/ipv4/conf/*/route_localnet 2>/dev/null)" "route_localnet set nowhere"

# ---- --deny-networks and net/out
assert_eq FAILED "$(in_ns "$P1" $NT get "$FARIP" 7001)" "a denied network is dropped"
assert_false "no ping to a denied network" ping_ok "$P1" "$FARIP"
assert_eq hello-c1 "$(in_ns "$P2" $NT get "$NET.2" 8080)" "containers reach each other regardless"
table_before=$(nft list table ip "$TABLE")
derr 22 out "${TAG}-c1" protocol=icmp port=80
derr 22 out "${TAG}-c1" "protocol=tcp port=80 ; protocol=bogus"
derr 22 out "${TAG}-c1" protocol=tcp colour=red
assert_eq "$table_before" "$(nft list table ip "$TABLE")" "bad rules changed nothing"
dok out "${TAG}-c1" "protocol=tcp network=$FARIP port=7001"
assert_eq far-a "$(in_ns "$P1" $NT get "$FARIP" 7001)" "the port allowed passes"
assert_eq FAILED "$(in_ns "$P1" $NT get "$FARIP" 7002)" "another port does not"
assert_eq FAILED "$(in_ns "$P1" $NT uget "$FARIP" 7001)" "nor another protocol"
assert_eq FAILED "$(in_ns "$P2" $NT get "$FARIP" 7001)" "nor another container"
logged() { dmesg 2>/dev/null | grep -c "${TAG}-c1 IN="; }
dmesg_before=$(logged)
dok out "${TAG}-c1" "protocol=udp network=$FAR.0-$FAR.3 port=7000-7001 ; protocol=icmp network=$FARIP icmp=8 log=true"
assert_eq far-u "$(in_ns "$P1" $NT uget "$FARIP" 7001)" "udp allowed by a range rule"
assert_true "ping allowed by an icmp rule" ping_ok "$P1" "$FARIP"
if dmesg >/dev/null 2>&1; then
	wait_until 3 sh -c "[ \"\$(dmesg | grep -c '${TAG}-c1 IN=')\" != '$dmesg_before' ]" ||
		fail "log=true logs with the handle as prefix"
fi
dok listout "${TAG}-c1"
assert_eq "ok protocol=tcp network=$FARIP port=7001|protocol=udp network=$FAR.0-$FAR.3 port=7000-7001|protocol=icmp network=$FARIP icmp=8 log=true" "$R" "net/out lists the rules as written"

# ---- bandwidth
bg_in 0 $NT sink "$NET.1" 7100
bg_in "$P1" $NT sink 0.0.0.0 7200
out=$(in_ns "$P1" $NT send "$NET.1" 7100 4194304)
assert_match "$out" '^4194304 ' "4 MiB out of c1 arrive"
assert_true "without a limit 4 MiB take under 2 s ($out)" awk -v t="${out#* }" 'BEGIN { exit !(t < 2) }'
derr 22 bw "${TAG}-c1" 1M 100
derr 22 bw "${TAG}-c1" 0 64K
derr 22 bw "${TAG}-c1" 1M 0
derr 22 bw "${TAG}-c1" 3G 64K
derr 22 bw "${TAG}-c1" 1G 2G
derr 22 bw "${TAG}-c1" 1K 1M
dok bwget "${TAG}-c1" && assert_eq "ok 0 0" "$R" "refused limits changed nothing"
assert_eq "" "$(tc qdisc show dev "$V1" | grep -E 'tbf|ingress')" "no qdisc without a limit"
dok bw "${TAG}-c1" 1M 64K
dok bwget "${TAG}-c1" && assert_eq "ok 1048576 65536" "$R" "the limit reads back"
assert_contains "$(tc qdisc show dev "$V1")" "tbf" "a tbf on the host end"
assert_contains "$(tc filter show dev "$V1" ingress)" "mirred" "ingress redirected"
assert_contains "$(tc qdisc show dev "$I1")" "tbf" "a tbf on the ifb"
out=$(in_ns "$P1" $NT send "$NET.1" 7100 4194304)
assert_match "$out" '^4194304 ' "4 MiB out of c1 arrive under a limit"
assert_true "1M/s: 4 MiB out of the container take at least 3 s ($out)" awk -v t="${out#* }" 'BEGIN { exit !(t >= 3) }'
out=$($NT send "$NET.2" 7200 4194304)
assert_match "$out" '^4194304 ' "4 MiB into c1 arrive under a limit"
assert_true "1M/s: 4 MiB into the container take at least 3 s ($out)" awk -v t="${out#* }" 'BEGIN { exit !(t >= 3) }'
d stats "${TAG}-c1"
tx=$(field 2)
rx=$(field 1)
# (the counters may touch the colon: "eth0:12345678")
ctx=$(in_ns "$P1" sed 's/:/ /' /proc/net/dev | awk '$1 == "eth0" { print $10 }')
crx=$(in_ns "$P1" sed 's/:/ /' /proc/net/dev | awk '$1 == "eth0" { print $2 }')
assert_true "tx counts what c1 sent ($tx)" test "$tx" -ge 8388608
assert_true "rx counts what c1 got ($rx)" test "$rx" -ge 4194304
assert_true "tx as the container sees it ($tx vs $ctx)" test $((ctx - tx)) -lt 65536 -a $((tx - ctx)) -lt 65536
assert_true "rx as the container sees it ($rx vs $crx)" test $((crx - rx)) -lt 65536 -a $((rx - crx)) -lt 65536
dok bw "${TAG}-c1" 2M 128K
dok bwget "${TAG}-c1" && assert_eq "ok 2097152 131072" "$R" "a changed limit"
dok bw "${TAG}-c1" 0 0
assert_eq "" "$(tc qdisc show dev "$V1" | grep -E 'tbf|ingress')" "0 0 removes the qdiscs"
assert_false "0 0 removes the ifb" quiet ip link show "$I1"
dok bw "${TAG}-c1" 1M 64K

# ---- the driver dies; a new one restores
dok create "${TAG}-c6" "$P6"
V7=$(printf '%sh%08x' "$TAG" $((0x0a000000 | X << 16 | Y << 8 | 10)))
assert_true "c7's veth" quiet ip link show "$V7"
crash_driver
kill -9 "$P6" # c6 died with the daemon away
wait_until 5 sh -c "! kill -0 $P6 2>/dev/null"
ip link del "$V1"
nft flush map ip "$TABLE" ports
nft flush chain ip "$TABLE" "out_$C1HEX"
ip link add "${TAG}h0a0a0a0a" type veth peer name "${TAG}y0"
nft add chain ip "$TABLE" out_0a0a0a0a
assert_true "a stray link of ours" quiet ip link show "${TAG}h0a0a0a0a"
assert_false "c1 lost eth0" quiet in_ns "$P1" ip link show eth0

start_driver
dok setup "$POOL" "$F" "$L" "$FAR.0/24" "$TAG" "$STATE" || fatal "setup again"
for c in 1 2 3 4; do
	eval "p=\$P$c"
	dok restore "${TAG}-c$c" "$p"
done
dok gc
assert_contains "$(in_ns "$P1" ip -o -4 addr show dev eth0)" "inet $NET.2/30" "restore gave c1 its address back"
assert_contains "$(in_ns "$P1" ip route show default)" "default via $NET.1" "and its route"
assert_true "c1 pings c2 again" ping_ok "$P1" "$NET.6"
assert_eq hello-c1 "$($NT get "$EXT" "$F")" "the DNAT is back"
assert_eq far-a "$(in_ns "$P1" $NT get "$FARIP" 7001)" "the net/out rules are back"
assert_eq FAILED "$(in_ns "$P1" $NT get "$FARIP" 7002)" "and only they"
assert_contains "$(tc qdisc show dev "$V1")" "tbf" "the limit is back on the host end"
assert_contains "$(tc filter show dev "$V1" ingress)" "mirred" "and the redirect"
out=$(in_ns "$P1" $NT send "$NET.1" 7100 4194304)
assert_true "the restored limit holds ($out)" awk -v t="${out#* }" 'BEGIN { exit !(t >= 3) }'
assert_false "gc removed the stray link" quiet ip link show "${TAG}h0a0a0a0a"
assert_false "gc removed c7's veth" quiet ip link show "$V7"
chains=$(nft list table ip "$TABLE" | awk '$1 == "chain" && $2 ~ /^out_/ { print $2 }' | sort | tr '\n' ' ')
want=$(for i in 2 6 66 70; do printf 'out_%08x\n' $((0x0a000000 | X << 16 | Y << 8 | i)); done | sort | tr '\n' ' ')
assert_eq "$want" "$chains" "only the live containers' chains are left"
bridges=$(ip -o link show type bridge | grep -c "$TAG")
assert_eq 3 "$bridges" "bridges: c1's, c2's, and the /28's"
dok in "${TAG}-c3" 0 0 && assert_eq "$((F + 4))" "$(field 1)" "the port of a container not restored is free again"
derr 28 in "${TAG}-c3" 0 0
dok destroy "${TAG}-c2"
dok in "${TAG}-c3" 0 0 && assert_eq "$((F + 5))" "$(field 1)" "the queue's order survived the restart"
dok nsok

# ---- destroy leaves nothing; threads at once
for c in 1 3 4; do dok destroy "${TAG}-c$c"; done
derr 2 destroy "${TAG}-c1"
assert_eq "" "$(ip -o link | grep "$TAG" | grep -v "${TAG}x0")" "no link of ours after destroy"
assert_eq "" "$(nft list table ip "$TABLE" | awk '$1 == "chain" && $2 ~ /^out_/')" "no container chain after destroy"
for m in "map ip $TABLE ctrs" "map ip $TABLE ports" "set ip $TABLE bridges"; do
	assert_eq "" "$(nft list $m | grep elements)" "no element left in $m"
done
dok parallel 6
# threads churning in one shared subnet: a create may meet the destroy of
# the subnet's last container, whose bridge is on its way out
dok parallel 3 "$NET.128/26" 15
dok nsok
assert_eq "" "$(ip -o link | grep "$TAG" | grep -v "${TAG}x0")" "threads left no link"
dok teardown
stop_driver
ip link del "${TAG}x0"
everything >"$T/after"
# other tests may change the host meanwhile: what differs must not be ours
changed=$(diff "$T/before" "$T/after" | grep '^[<>]')
assert_eq "" "$(echo "$changed" | ours)" "nothing of ours in links, addresses, qdiscs or the ruleset"
[ -n "$changed" ] && say "changed meanwhile, not by us: $(echo "$changed" | wc -l) lines"
gfs_done
