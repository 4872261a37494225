#!/bin/bash
# Networking through the mount: an address per container (info, eth0, a
# default route), /etc/hosts and resolv.conf, net/in from the host to a
# listener in the container via the external IP (127.0.0.1 not forwarded,
# route_localnet never set), two containers talking, fixed addresses and a
# shared subnet, a namespace the test made reached from a container, the
# same with --deny-networks refused until a net/out rule allows exactly one
# port and protocol, bandwidth (a 4 MiB transfer at rate=1M takes >= 3 s),
# network metrics, bad input refused with nothing changed, kill -9 and a
# restart (mappings still forward, the ruleset is what the live containers
# need), and nothing of ours left after destroy.
#
# Traffic goes only to addresses this test gave to containers and to a
# namespace it made, and to the host's external address, which the DNAT
# sends on to those.
. "$(dirname "$0")/../lib.sh"
for t in ip nft nsenter unshare python3; do
	command -v "$t" >/dev/null || skip "needs $t"
done

# the far namespace: a /30 outside the containers' pool, checked unused
FARPID=
FARL=gfsf$((RANDOM % 10000))
for _ in $(seq 30); do
	X=$((200 + RANDOM % 51)) Y=$((RANDOM % 250))
	FAR=10.$X.$Y
	ip -o addr | grep -q " $FAR\." || break
done
far_cleanup() {
	[ -n "$FARPID" ] && kill -KILL "$FARPID" 2>/dev/null
	ip link del "${FARL}a" 2>/dev/null
	return 0
}
trap 'far_cleanup; gfs_cleanup' EXIT

gfs_start
POOLNET=${GFS_POOL%/*}
P3=${POOLNET%.*}
P2=${P3%.*}
B=${P3##*.}
tag=$(net_tag)

mkdir "$MNT/a" "$MNT/b" || fatal "mkdir"
I=$MNT/a/info
aip=$(kv "$I" container_ip)
ahost=$(kv "$I" host_ip)
ext=$(kv "$I" external_ip)
bip=$(kv "$MNT/b/info" container_ip)
say "a $aip (host $ahost), b $bip, external $ext, pool $GFS_POOL, ports $GFS_PORTS"
assert_match "$aip" "^$P2\\." "a's address is in the pool"
assert_ne "$aip" "$bip" "a and b have their own addresses"
assert_contains "$(ctr_run a 'ip -o -4 addr show eth0')" "$aip/30" "eth0 has a's address"
assert_contains "$(ctr_run a 'ip route')" "default via $ahost" "a's default route"
assert_contains "$(ctr_run a 'cat /etc/hosts')" "$aip a" "/etc/hosts names the handle"
assert_contains "$(ctr_run a 'cat /etc/resolv.conf')" nameserver "resolv.conf has nameservers"
assert_eq 0 "$(ctr_sh a 'echo "# mine" >> /etc/hosts && echo $?')" "container root may change /etc/hosts"
assert_ne 0 "$(ctr_sh a 'su -s /bin/sh vcap -c "echo x >> /etc/hosts" 2>/dev/null; echo $?')" \
	"another user of the container may not"

# two containers talk
out=$(ctr_sh b 'echo from-b | nc -l -p 7000 & sleep 0.3; wait' &)
sleep 0.5
assert_contains "$(ctr_sh a "nc -w 3 $bip 7000 </dev/null")" from-b "a reaches b"

# net/in: the pair made on the same descriptor; the listing
exec 3<>"$MNT/a/net/in" || fatal "open net/in"
printf '0 8080' >&3
read -r hp cp <&3
exec 3>&-
assert_eq 8080 "$cp" "container port"
assert_match "$hp" '^[0-9]+$' "a host port from the pool"
[ "$hp" -ge "${GFS_PORTS%-*}" ] && [ "$hp" -le "${GFS_PORTS#*-}" ] || fail "host port $hp outside $GFS_PORTS"
assert_eq "$hp 8080" "$(tmo cat "$MNT/a/net/in")" "net/in lists the mapping"
assert_eq "$hp:8080" "$(kv "$I" mapped_ports)" "info's mapped_ports"
listener=$(run_proc a "/bin/sh -c 'while :; do echo hello-a | nc -l -p 8080; done'") || fail "listener"
sleep 0.3
fetch() { # HOST PORT: what a TCP connection there says
	timeout 10 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
print(s.recv(100).decode().strip())' "$1" "$2" 2>/dev/null
}
assert_eq hello-a "$(fetch "$ext" "$hp")" "the host reaches a through net/in on the external IP"
assert_eq "" "$(fetch 127.0.0.1 "$hp")" "127.0.0.1 is not forwarded"
for f in /proc/sys/net/ipv4/conf/$tag*/route_localnet /proc/sys/net/ipv4/conf/all/route_localnet; do
	[ -e "$f" ] && [ "$(cat "$f")" != 0 ] && fail "route_localnet set on $f"
done
# the same host port twice; ports out of range; junk
assert_errno EBUSY "$MNT/b/net/in" "$hp 80" "a host port already mapped"
assert_errno EINVAL "$MNT/b/net/in" "70000 80" "a port above 65535"
assert_errno EINVAL "$MNT/b/net/in" "junk" "junk"
assert_errno EINVAL "$MNT/b/net/in" "1 2 3" "three words"
assert_eq "" "$(tmo cat "$MNT/b/net/in")" "b has no mapping after the refusals"
assert_contains "$(tail -n1 "$MNT/b/errors")" "net/in" "the reason is in b's errors"

# fixed addresses and a shared subnet
SUB=$P2.$((B + 2))
echo "create handle=s1 network=$SUB.0/24" >"$MNT/ctl" || fail "create s1"
echo "create handle=s2 network=$SUB.0/24" >"$MNT/ctl" || fail "create s2"
echo "create handle=s3 network=$SUB.9/24" >"$MNT/ctl" || fail "create s3 at a fixed address"
assert_eq "$SUB.1" "$(kv "$MNT/s1/info" host_ip)" "the subnet's gateway"
assert_eq "$SUB.9" "$(kv "$MNT/s3/info" container_ip)" "the fixed address"
s2ip=$(kv "$MNT/s2/info" container_ip)
assert_match "$s2ip" "^$SUB\\." "s2 in the shared subnet"
assert_contains "$(ctr_sh s1 "ping -c 1 -W 2 $s2ip >/dev/null && echo ok")" ok "containers of one subnet talk"
n=$(lines "$MNT/errors")
assert_errno EBUSY "$MNT/ctl" "create handle=x1 network=$SUB.0/25" "an overlapping subnet of another prefix"
assert_errno EBUSY "$MNT/ctl" "create handle=x2 network=$SUB.9/24" "an address taken"
assert_errno EINVAL "$MNT/ctl" "create handle=x3 network=192.168.77.0/24" "outside the pool"
assert_errno EINVAL "$MNT/ctl" "create handle=x4 network=$SUB.255/24" "the broadcast address"
assert_errno EINVAL "$MNT/ctl" "create handle=x5 bandwidth=1M" "bandwidth without a burst"
assert_eq $((n + 5)) "$(lines "$MNT/errors")" "one errors line each"
for h in x1 x2 x3 x4 x5; do [ -e "$MNT/$h" ] && fail "$h was made"; done

# the far namespace: its own veth pair and a listener
unshare -n sleep 1000 &
FARPID=$!
sleep 0.2
ip link add "${FARL}a" type veth peer name "${FARL}b" || fatal "veth"
ip link set "${FARL}b" netns "$FARPID"
ip addr add "$FAR.1/30" dev "${FARL}a"
ip link set "${FARL}a" up
nsenter -t "$FARPID" -n sh -c "ip addr add $FAR.2/30 dev ${FARL}b; ip link set ${FARL}b up; ip link set lo up; ip route add default via $FAR.1"
cat >"$TDIR/far.py" <<'EOF'
import socket, sys, threading, time
def tcp(port, msg):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
    while True:
        c, _ = s.accept()
        if msg == b"SINK":
            t0 = time.monotonic(); n = 0
            while n < 4 << 20:
                d = c.recv(1 << 16)
                if not d: break
                n += len(d)
            open(sys.argv[4], "w").write("%d %.3f\n" % (n, time.monotonic() - t0))
        else:
            c.sendall(msg)
        c.close()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", port))
    while True:
        d, a = s.recvfrom(100); s.sendto(b"udp-far\n", a)
P = int(sys.argv[1])
for p, m in ((P, b"far\n"), (P + 1, b"other\n"), (P + 2, b"SINK")):
    threading.Thread(target=tcp, args=(p, m), daemon=True).start()
threading.Thread(target=udp, args=(P,), daemon=True).start()
open(sys.argv[2], "w").close()
time.sleep(1000)
EOF
FP=$((30000 + RANDOM % 20000))
nsenter -t "$FARPID" -n python3 "$TDIR/far.py" "$FP" "$TDIR/far.ready" "" "$TDIR/sink" &
wait_until 10 test -e "$TDIR/far.ready" || fatal "far listener"
assert_eq far "$(ctr_sh a "nc -w 3 $FAR.2 $FP </dev/null")" "a container reaches the far namespace"

# bandwidth: 1 MiB/s, 64 KiB burst: 4 MiB out of the container take >= 3 s
echo "rate=1M burst=64K" >"$MNT/a/limits/bandwidth" || fail "set bandwidth"
assert_eq "rate 1048576
burst 65536" "$(tmo cat "$MNT/a/limits/bandwidth")" "bandwidth reads back"
rm -f "$TDIR/sink"
GFS_TMO=60 ctr_sh a "head -c 4194304 /dev/zero | nc -w 30 $FAR.2 $((FP + 2)) >/dev/null" >/dev/null
wait_until 30 test -s "$TDIR/sink" || fail "the 4 MiB transfer did not arrive"
read -r got secs <"$TDIR/sink"
say "4 MiB at rate=1M took $secs s"
assert_eq 4194304 "$got" "all 4 MiB arrived"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 3 else 1)" "$secs" || fail "a limited transfer took only $secs s"
echo "rate=0 burst=0" >"$MNT/a/limits/bandwidth" || fail "remove bandwidth"
rm -f "$TDIR/sink"
GFS_TMO=60 ctr_sh a "head -c 4194304 /dev/zero | nc -w 30 $FAR.2 $((FP + 2)) >/dev/null" >/dev/null
wait_until 30 test -s "$TDIR/sink" || fail "the second transfer did not arrive"
read -r got secs <"$TDIR/sink"
say "4 MiB without a limit took $secs s"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 2 else 1)" "$secs" || fail "an unlimited transfer took $secs s"
assert_errno EINVAL "$MNT/a/limits/bandwidth" "rate=1M" "a rate without a burst"
assert_errno EINVAL "$MNT/a/limits/bandwidth" "rate=x burst=1K" "junk rate"
assert_eq "rate 0
burst 0" "$(tmo cat "$MNT/a/limits/bandwidth")" "refused writes changed nothing"

# metrics see the traffic
rx=$(kv "$MNT/a/metrics" network.tx_bytes)
[ "${rx:-0}" -gt 8000000 ] || fail "network.tx_bytes $rx after 8 MiB out"

# --deny-networks: refused until net/out allows one port and protocol
gfs_restart --deny-networks "$FAR.0/24" --network-pool "$GFS_POOL" --port-pool "$GFS_PORTS"
assert_eq "" "$(ctr_sh a "nc -w 2 $FAR.2 $FP </dev/null")" "the denied network is refused"
assert_errno EINVAL "$MNT/a/net/out" "protocol=tcp bogus=1" "an unknown rule key"
assert_errno EINVAL "$MNT/a/net/out" "protocol=icmp port=80" "ports with icmp"
assert_eq "" "$(tmo cat "$MNT/a/net/out")" "no rule after the refusals"
echo "protocol=tcp network=$FAR.2 port=$FP" >"$MNT/a/net/out" || fail "net/out"
assert_eq "protocol=tcp network=$FAR.2 port=$FP" "$(tmo cat "$MNT/a/net/out")" "net/out lists the rule as written"
assert_eq far "$(ctr_sh a "nc -w 3 $FAR.2 $FP </dev/null")" "the allowed port"
assert_eq "" "$(ctr_sh a "nc -w 2 $FAR.2 $((FP + 1)) </dev/null")" "another port stays refused"
assert_eq "" "$(ctr_sh a "echo x | nc -u -w 2 $FAR.2 $FP")" "udp to the port stays refused"
assert_eq "" "$(ctr_sh b "nc -w 2 $FAR.2 $FP </dev/null")" "the rule is a's alone"

# kill -9 and a restart: the mapping forwards, fresh containers get fresh
# addresses and ports
gfs_kill9
gfs_start --deny-networks "$FAR.0/24" --network-pool "$GFS_POOL" --port-pool "$GFS_PORTS"
assert_eq hello-a "$(fetch "$ext" "$hp")" "net/in forwards after kill -9 and a restart"
assert_eq far "$(ctr_sh a "nc -w 3 $FAR.2 $FP </dev/null")" "the net/out rule after the restart"
mkdir "$MNT/c" || fail "mkdir c"
cip=$(kv "$MNT/c/info" container_ip)
for x in "$aip" "$bip" "$s2ip" "$SUB.9"; do assert_ne "$x" "$cip" "c's address is fresh"; done
exec 3<>"$MNT/c/net/in"
printf '0 0' >&3
read -r hp2 cp2 <&3
exec 3>&-
assert_ne "$hp" "$hp2" "c's host port is fresh"
assert_eq "$hp2" "$cp2" "container port 0 is the host port"
# the ruleset and links: one veth (host side) per live container
nl=$(ip -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//' | grep -c "^${tag}h")
assert_eq 6 "$nl" "host-side veths of the six live containers"
assert_contains "$(nft list table ip "gardenfs_$tag")" "$hp" "the mapping in the table"

# destroy removes what each container made; the last one takes the rest
for h in a b c s1 s2 s3; do rmdir "$MNT/$h" || fail "rmdir $h"; done
wait_until 20 sh -c "! ip -o link show | awk -F': ' '{ print \$2 }' | grep -q '^$tag'" ||
	fail "links left after destroy: $(ip -o link show | awk -F': ' '{ print $2 }' | grep "^$tag" | tr '\n' ' ')"
assert_not_contains "$(nft list table ip "gardenfs_$tag" 2>/dev/null)" "$aip" "no rule of a's after destroy"
gfs_stop
nft list table ip "gardenfs_$tag" >/dev/null 2>&1 && fail "the table outlives a daemon that stopped with no container"
gfs_done
