#!/usr/bin/env bash
# tun_tcp.sh: TCP bulk throughput through TUN with the Linux kernel as the peer, next to the
# ceiling of the TUN path, as ratios measured in the same run.
#
#   bench/tun_tcp.sh [-b BUILD_DIR] [-r RUNS] [LIMIT]
#
# LIMIT bounds each transfer: "3" or "3s" is seconds (default 3), "500M" is MiB; the other bound
# stays at 60 s / 64 GiB. BUILD_DIR (default ./build) must hold `ustack` and `tun_reflector`;
# nothing is built here. RUNS (default 1) repeats the whole set; with more than one run a median
# table follows the per-run tables.
#
# Cases, each with the vnet offloads (IFF_VNET_HDR + TUNSETOFFLOAD, ustack's default) and without
# (--no-offload):
#   reflector   kernel -> kernel through tun_reflector: TUN device A in namespace A, TUN device B
#               in namespace B, one process copying packets between them (vnet headers passed
#               through, so super-packets stay super-packets). The ceiling of the TUN path.
#   ustack      `ustack serve --discard/--chargen` on a TUN device, the kernel client in the
#               same namespace.
# Directions: "kernel->peer" is a kernel sender timed from connect until the peer's FIN that
# answers ours (every byte consumed); "peer->kernel" is a kernel receiver reading for the limit.
# The reflector's rows have a kernel peer (a sink / a source) timed the same way, so each ustack
# figure is divided by the reflector's figure for the same direction and offload setting.
#
# Every kernel socket asks for CUBIC with setsockopt(TCP_CONGESTION) (the namespaces' default
# follows the host, BBR here); the table says what getsockopt reports back.
#
# Needs root and /dev/net/tun; otherwise prints "skipped: reason" and exits 0. All traffic stays
# inside namespaces created here and removed on exit.
set -u

build=./build
runs=1
limit=3s
while [ $# -gt 0 ]; do
    case "$1" in
        -b) build=${2:?-b needs a directory}; shift 2 ;;
        -r) runs=${2:?-r needs a count}; shift 2 ;;
        -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "tun_tcp.sh: unknown option $1" >&2; exit 2 ;;
        *) limit=$1; shift ;;
    esac
done

seconds=60
mib=65536
case "$limit" in
    *[sS]) seconds=${limit%[sS]} ;;
    *MiB|*M|*m) mib=${limit%%[Mm]*} ;;
    *) seconds=$limit ;;
esac
if ! [[ "$seconds" =~ ^[0-9]+$ && "$mib" =~ ^[0-9]+$ && "$runs" =~ ^[0-9]+$ ]] ||
    [ "$seconds" -lt 1 ] || [ "$seconds" -gt 60 ] || [ "$mib" -lt 1 ] || [ "$runs" -lt 1 ] ||
    [ "$runs" -gt 20 ]; then
    echo "tun_tcp.sh: bad limit or run count (LIMIT: 1..60 seconds or N MiB; RUNS: 1..20)" >&2
    exit 2
fi

skip() {
    echo "tun_tcp.sh: skipped: $*"
    exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and TUN devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip >/dev/null || skip "no ip(8) (iproute2)"
command -v python3 >/dev/null || skip "no python3 for the kernel-side endpoints"
for b in ustack tun_reflector; do
    if [ ! -x "$build/$b" ]; then
        echo "tun_tcp.sh: $build/$b not found; build it first (cmake --build $build --target $b)" >&2
        exit 2
    fi
done
build=$(cd "$build" && pwd)

tag=utt$$
ns_a=${tag}a
ns_b=${tag}b
work=$(mktemp -d /tmp/tun_tcp.XXXXXX)
www=""
pids=()

cleanup() {
    local p ns
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for ns in "$ns_a" "$ns_b"; do
        # Whatever still runs inside our own namespaces was started by this script.
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
    done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    ip netns del "$ns_a" 2>/dev/null
    ip netns del "$ns_b" 2>/dev/null
    rm -rf "$work" "$www"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ns_a" 2>/dev/null || skip "cannot create a network namespace"
ip netns add "$ns_b" 2>/dev/null || skip "cannot create a network namespace"
ip -n "$ns_a" link set lo up
ip -n "$ns_b" link set lo up

# ---- kernel-side endpoints --------------------------------------------------------------------
cat >"$work/peer.py" <<'EOF'
import re, socket, sys, time

CHUNK = 1 << 20
IDLE = 10.0  # a transfer that makes no progress for this long has stalled


def cubic(s):
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
    except OSError:
        pass
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()


def serve(kind, port, wait):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    cubic(ls)
    ls.bind(("0.0.0.0", port))
    ls.listen(1)
    ls.settimeout(wait)
    print("listening", flush=True)
    c, _ = ls.accept()
    c.settimeout(IDLE)
    try:
        if kind == "sink":
            buf = bytearray(CHUNK)
            while c.recv_into(buf):
                pass
        else:
            data = memoryview(bytes(CHUNK))
            while True:
                c.sendall(data)
    except OSError:
        pass
    c.close()


def client(kind, host, port, seconds, limit, request=""):
    s = socket.socket()
    cc = cubic(s)
    s.settimeout(IDLE)
    deadline = time.monotonic() + 10
    while True:  # the server may take a moment to listen
        try:
            s.connect((host, port))
            break
        except OSError:  # refused, or no route yet while the device comes up
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            s.close()
            s = socket.socket()
            cubic(s)
            s.settimeout(IDLE)
    t0 = time.monotonic()
    end = t0 + seconds
    done = 0
    if kind == "send":
        data = memoryview(bytes(CHUNK))
        while done < limit and time.monotonic() < end:
            s.sendall(data)
            done += CHUNK
        s.shutdown(socket.SHUT_WR)
        buf = bytearray(65536)
        while s.recv_into(buf):  # until the peer's FIN: everything sent was consumed
            pass
    elif request:  # HTTP: GET the same file again and again on one connection
        buf = bytearray(CHUNK)
        mv = memoryview(buf)
        while done < limit and time.monotonic() < end:
            s.sendall(request.encode())
            head = b""
            while b"\r\n\r\n" not in head:
                n = s.recv_into(buf)
                if n == 0:
                    raise ConnectionError("peer closed early")
                head += bytes(mv[:n])
            header, _, body = head.partition(b"\r\n\r\n")
            if not header.startswith(b"HTTP/1.1 200"):
                raise ConnectionError(header.split(b"\r\n")[0].decode(errors="replace"))
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", header).group(1))
            left = length - len(body)
            done += len(head)
            while left > 0 and done < limit and time.monotonic() < end:
                n = s.recv_into(buf, min(CHUNK, left))
                if n == 0:
                    raise ConnectionError("peer closed early")
                left -= n
                done += n
    else:
        buf = bytearray(CHUNK)
        while done < limit and time.monotonic() < end:
            n = s.recv_into(buf)
            if n == 0:
                raise ConnectionError("peer closed early")
            done += n
    t = time.monotonic() - t0
    s.close()
    print(f"{done} {t:.6f} {cc}")


if sys.argv[1] == "serve":
    serve(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
else:
    try:
        client(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]),
               *sys.argv[6:])
    except Exception as e:  # one line for the table
        print(f"error {type(e).__name__}: {e}")
        sys.exit(1)
EOF

cat >"$work/table.py" <<'EOF'
import statistics, sys

rows = {}
order = []
for line in open(sys.argv[1]):
    run, setup, off, direction, val, cc = line.split()
    key = (setup, off, direction)
    if key not in rows:
        rows[key] = []
        order.append(key)
    rows[key].append((int(run), None if val == "-" else float(val), cc))
runs = sorted({r for v in rows.values() for r, _, _ in v})


def table(title, pick):
    print(title)
    print(f"  {'case':<30} {'offload':<8} {'Gbit/s':>8} {'ratio':>7}  cc")
    for key in order:
        setup, off, direction = key
        val, cc = pick(rows[key])
        ref = pick(rows[("reflector", off, direction.split("/")[0])])[0]
        g = f"{val:8.2f}" if val is not None else "  failed"
        r = f"{val / ref:7.2f}" if val is not None and ref else "      -"
        print(f"  {setup + ' ' + direction:<30} {off:<8} {g} {r}  {cc}")
    print()


for run in runs:
    table(f"run {run}", lambda v, run=run: next((x, c) for r, x, c in v if r == run))
if len(runs) > 1:
    def median(v):
        ok = [x for _, x, _ in v if x is not None]
        return (statistics.median(ok) if ok else None, v[0][2])
    table(f"median of {len(runs)} runs", median)
EOF

# What `ustack serve --http` sends to the kernel: a 256 MiB file in memory (tmpfs), fetched again
# and again on one keep-alive connection. (Not a sparse file: reading a hole costs the kernel a
# memset per page, which was slower than the stack.)
www=$(mktemp -d /dev/shm/tun_tcp.XXXXXX 2>/dev/null || mktemp -d /tmp/tun_tcp_www.XXXXXX)
head -c 256M /dev/zero >"$www/big"

# ---- helpers ----------------------------------------------------------------------------------
results=$work/results
: >"$results"

# wait_for FILE PATTERN SECONDS: until FILE holds PATTERN; bounded.
wait_for() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# stop PID: SIGTERM, then bounded wait.
stop() {
    local i
    kill "$1" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# record RUN SETUP OFFLOAD DIRECTION OUTPUT_OF_CLIENT
record() {
    local bytes secs cc
    read -r bytes secs cc <<<"$5"
    if [ "$bytes" = error ] || [ -z "$secs" ]; then
        echo "  $2 $4 ($3): failed: $5" >&2
        echo "$1 $2 $3 $4 - -" >>"$results"
        return
    fi
    local gbps
    gbps=$(python3 -c "print(f'{$bytes * 8 / $secs / 1e9:.3f}')")
    printf '  %-9s %-13s %-5s %8.2f Gbit/s  (%d MiB in %.2f s, %s)\n' "$2" "$4" "$3" "$gbps" \
        $((bytes >> 20)) "$secs" "$cc" >&2
    echo "$1 $2 $3 $4 $gbps $cc" >>"$results"
}

client_timeout=$((seconds + 30))

# reflector RUN OFFLOAD(vnet|none)
reflector_case() {
    local run=$1 off=$2 flag="" log=$work/reflector.log out
    [ "$off" = none ] && flag=--no-offload
    ip netns exec "$ns_a" "$build/tun_reflector" $flag ttra ttrb >"$log" 2>&1 &
    local rpid=$!
    pids+=("$rpid")
    if ! wait_for "$log" '^ready' 5; then
        echo "tun_tcp.sh: tun_reflector did not start: $(cat "$log")" >&2
        stop "$rpid"
        return 1
    fi
    # The descriptor stays with the reflector; the interface moves to namespace B.
    ip -n "$ns_a" link set ttrb netns "$ns_b"
    ip -n "$ns_a" addr add 10.87.0.1/24 dev ttra
    ip -n "$ns_a" link set ttra up
    ip -n "$ns_b" addr add 10.87.0.2/24 dev ttrb
    ip -n "$ns_b" link set ttrb up
    local kind dir srv_log spid
    for kind in send recv; do
        if [ $kind = send ]; then dir="kernel->peer"; else dir="peer->kernel"; fi
        srv_log=$work/server.log
        local skind=sink
        [ $kind = recv ] && skind=source
        ip netns exec "$ns_b" timeout $((client_timeout + 10)) python3 "$work/peer.py" serve \
            $skind 5001 10 >"$srv_log" 2>&1 &
        spid=$!
        pids+=("$spid")
        wait_for "$srv_log" listening 10
        out=$(ip netns exec "$ns_a" timeout "$client_timeout" python3 "$work/peer.py" $kind \
            10.87.0.2 5001 "$seconds" $((mib << 20)) 2>&1 | tail -1)
        record "$run" reflector "$off" "$dir" "$out"
        stop "$spid"
    done
    stop "$rpid"
    grep -v '^ready' "$log" | sed 's/^/    reflector: /' >&2
}

# ustack RUN OFFLOAD(vnet|none)
ustack_case() {
    local run=$1 off=$2 flag="" log=$work/ustack.log out
    [ "$off" = none ] && flag=--no-offload
    ip netns exec "$ns_a" "$build/ustack" serve -q --stats --discard 9 --chargen 19 \
        --http "80:$www" --tun ttus --addr 10.87.1.2/24 --host-addr 10.87.1.1/24 $flag \
        >"$log" 2>&1 &
    local upid=$!
    pids+=("$upid")
    local what kind dir port request
    for what in discard http chargen; do
        request=""
        case $what in
            discard) kind=send dir="kernel->peer" port=9 ;;
            http) kind=recv dir="peer->kernel" port=80
                request=$'GET /big HTTP/1.1\r\nHost: ustack\r\n\r\n' ;;
            chargen) kind=recv dir="peer->kernel/chargen" port=19 ;;
        esac
        out=$(ip netns exec "$ns_a" timeout "$client_timeout" python3 "$work/peer.py" $kind \
            10.87.1.2 $port "$seconds" $((mib << 20)) ${request:+"$request"} 2>&1 | tail -1)
        record "$run" ustack "$off" "$dir" "$out"
        case "$out" in error*)
            echo "    ustack log:" >&2
            tail -n 30 "$log" | sed 's/^/      /' >&2 ;;
        esac
    done
    stop "$upid"
    cp "$log" "$work/ustack-$run-$off.log"
}

# ---- the runs ---------------------------------------------------------------------------------
lim="$seconds s"
[ "$mib" -lt 65536 ] && lim="$mib MiB (or $seconds s)"
echo "TCP bulk through TUN, kernel as the peer; each transfer bounded by $lim; $runs run(s)" >&2
echo "host: $(uname -r), $(nproc) CPUs; namespaces' default congestion control:" \
    "$(ip netns exec "$ns_a" cat /proc/sys/net/ipv4/tcp_congestion_control)" \
    "(kernel sockets ask for cubic)" >&2
for ((run = 1; run <= runs; run++)); do
    echo "run $run" >&2
    for off in vnet none; do
        reflector_case "$run" "$off" || exit 1
        ustack_case "$run" "$off"
    done
done
echo
python3 "$work/table.py" "$results"
