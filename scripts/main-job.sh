#!/usr/bin/env bash
# The main job: build ustack and show it working against the Linux kernel.
#
# In a private network namespace (created here, removed on exit) ustack runs `udp-echo` on a
# TUN device whose kernel side gets 10.77.0.1/24; the kernel pings it (also with -s 4000, so
# the request and the reply are fragmented) and exchanges UDP with it; then ustack pings the
# kernel over a TAP device, resolving the kernel's MAC with ARP; and TCP: `ustack serve --http`
# on a second TUN device, from which the kernel's curl downloads a generated 50 MiB file (sha256
# compared, throughput printed). Where root, /dev/net/tun or
# namespaces are missing, the same exchange runs between two stacks over the in-memory link.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${USTACK_BUILD_DIR:-build}
bash scripts/setup.sh

echo "== building ustack ($BUILD) =="
cmake -S . -B "$BUILD" -G Ninja >/dev/null
cmake --build "$BUILD" --target ustack -j "${USTACK_JOBS:-2}"
USTACK=$(readlink -f "$BUILD/ustack")

memory_demo() {
  echo "== $1: running the same exchange between two stacks over the in-memory link =="
  "$USTACK" selftest --stats | grep -vE ": 0$"
  exit "${PIPESTATUS[0]}"
}

[[ $(id -u) -eq 0 ]] || memory_demo "not root"
[[ -c /dev/net/tun ]] || memory_demo "no /dev/net/tun"
command -v ip >/dev/null 2>&1 || memory_demo "no 'ip' tool"

NS="ustack-main-$$"
TMP=$(mktemp -d /tmp/ustack-main.XXXXXX)
ECHO_PID=""
SERVE_PID=""
cleanup() {
  set +e
  if [[ -n $ECHO_PID ]] && kill -0 "$ECHO_PID" 2>/dev/null; then kill -KILL "$ECHO_PID"; fi
  if [[ -n $SERVE_PID ]] && kill -0 "$SERVE_PID" 2>/dev/null; then kill -KILL "$SERVE_PID"; fi
  ip netns del "$NS" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" 2>/dev/null || memory_demo "cannot create a network namespace"
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }

# wait_until SECONDS CMD...: poll CMD until it succeeds, bounded.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

failures=0
check() {
  if "$@"; then return 0; fi
  echo "!! failed: $*"
  failures=$((failures + 1))
}

echo
echo "== namespace $NS: ustack udp-echo 7 on TUN ustack0 (10.77.0.2), kernel side 10.77.0.1 =="
# Not through in_ns: a backgrounded function would be a subshell, and $! its pid, not ustack's.
ip netns exec "$NS" "$USTACK" udp-echo 7 --tun ustack0 --addr 10.77.0.2/24 --host-addr 10.77.0.1/24 \
  --pcap "$TMP/tun.pcap" --stats >"$TMP/echo.log" 2>&1 &
ECHO_PID=$!
if ! wait_until 10 in_ns ping -c 1 -W 0.2 10.77.0.2; then
  cat "$TMP/echo.log"
  echo "!! ustack did not answer within 10 s"
  exit 1
fi
head -1 "$TMP/echo.log"

echo
echo "== kernel: ping -c 3 10.77.0.2 =="
check in_ns ping -c 3 -i 0.2 -W 2 10.77.0.2
echo
echo "== kernel: ping -c 2 -s 4000 10.77.0.2 (fragmented both ways) =="
check in_ns ping -c 2 -i 0.2 -W 2 -s 4000 10.77.0.2

echo
echo "== kernel: UDP to 10.77.0.2:7 (python3), exact bytes back =="
check in_ns python3 tests/interop/udp_echo_client.py 10.77.0.2 7 12 1400 4000 9000
if command -v socat >/dev/null 2>&1; then
  echo "== kernel: UDP with socat =="
  reply=$(printf 'hello from the kernel' | in_ns timeout 10 socat -T 2 - UDP:10.77.0.2:7 || true)
  echo "sent 'hello from the kernel', got back '$reply'"
  check test "$reply" = "hello from the kernel"
fi

echo
echo "== ustack udp-echo: log and counters (non-zero) after SIGTERM =="
kill -TERM "$ECHO_PID"
if ! wait_until 10 bash -c "! kill -0 $ECHO_PID"; then
  echo "!! ustack did not exit within 10 s of SIGTERM"
  failures=$((failures + 1))
fi
rc=0
wait "$ECHO_PID" || rc=$?
ECHO_PID=""
check test "$rc" -eq 0
grep -vE ": 0$" "$TMP/echo.log" | tail -n +2

if command -v tshark >/dev/null 2>&1; then
  echo
  echo "== capture of the TUN exchange (tshark, checksums validated) =="
  tshark -r "$TMP/tun.pcap" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE 2>/dev/null \
    >"$TMP/tun.txt" || true
  head -n 24 "$TMP/tun.txt"
  bad=$(tshark -r "$TMP/tun.pcap" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
    -Y 'ip.checksum.status == "Bad" || icmp.checksum.status == "Bad" ||
        udp.checksum.status == "Bad" || _ws.malformed || _ws.expert.severity >= "error"' \
    2>/dev/null | wc -l)
  echo "packets: $(wc -l <"$TMP/tun.txt"), malformed or bad checksum: $bad"
  check test "$bad" -eq 0
fi

echo
echo "== TCP: ustack serve --http on TUN ustack2 (10.77.2.2); the kernel's curl downloads 50 MiB =="
mkdir -p "$TMP/www"
(
  set +o pipefail  # openssl ends with SIGPIPE once head has enough
  openssl enc -aes-128-ctr -nosalt -pass pass:ustack -pbkdf2 -in /dev/zero 2>/dev/null |
    head -c $((50 * 1024 * 1024)) >"$TMP/www/file50m.bin"
)
ip netns exec "$NS" "$USTACK" serve --http "80:$TMP/www" --tun ustack2 --addr 10.77.2.2/24 \
  --host-addr 10.77.2.1/24 -q --stats >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
if wait_until 10 in_ns ping -c 1 -W 0.2 10.77.2.2; then
  head -1 "$TMP/serve.log"
  out=$(in_ns curl -sS --max-time 60 -o "$TMP/download.bin" \
    -w '%{http_code} %{size_download} %{time_total} %{speed_download}' \
    http://10.77.2.2/file50m.bin) || out="curl-failed 0 0 0"
  read -r code size secs speed <<<"$out"
  want=$(sha256sum "$TMP/www/file50m.bin" | cut -d' ' -f1)
  got=$(sha256sum "$TMP/download.bin" 2>/dev/null | cut -d' ' -f1)
  echo "curl: HTTP $code, $size bytes in ${secs} s = $((${speed%.*} * 8 / 1000000)) Mbit/s"
  echo "sha256 sent     $want"
  echo "sha256 received $got"
  check test "$code" = 200
  check test "$want" = "$got"
else
  echo "!! ustack serve did not answer within 10 s"
  failures=$((failures + 1))
fi
kill -TERM "$SERVE_PID" 2>/dev/null
wait_until 10 bash -c "! kill -0 $SERVE_PID" || kill -KILL "$SERVE_PID"
wait "$SERVE_PID" || true
echo "-- ustack serve: TCP counters (non-zero) and the connection summary --"
sed -n '/^Tcp:/,$p' "$TMP/serve.log" | grep -vE ": 0$" | head -n 30

echo
echo "== ustack ping -c 3 10.77.1.1 over TAP ustack1 (ARP from our side) =="
check in_ns timeout 30 "$USTACK" ping 10.77.1.1 --tap ustack1 --addr 10.77.1.2/24 \
  --host-addr 10.77.1.1/24 -c 3 -i 0.2 -W 2
echo
echo "== ustack ping -c 2 -s 4000 10.77.1.1 over TAP (fragmented) =="
check in_ns timeout 30 "$USTACK" ping 10.77.1.1 --tap ustack1 --addr 10.77.1.2/24 \
  --host-addr 10.77.1.1/24 -c 2 -i 0.2 -W 2 -s 4000

echo
if ((failures > 0)); then
  echo "main job: $failures step(s) failed"
  exit 1
fi
echo "main job: every exchange with the kernel succeeded"
