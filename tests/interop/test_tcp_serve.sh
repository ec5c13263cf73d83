#!/usr/bin/env bash
# ustack serve against the kernel over TUN: curl downloads generated files over HTTP (sha256
# equal), HTTP error cases and keep-alive, python uploads to discard (bytes counted) and to echo
# (bytes back equal), chargen, a connect to a closed port refused at once, and the capture read
# by tshark with checksum validation on.
#
# Sizes: the captured run downloads 10 MiB (the pcap stays small enough for tshark to read in a
# few seconds); a second, uncaptured server serves 100 MiB, which takes well under 5 s here
# (the stack moves 3-4 Gbit/s through a TUN with offloads), so the test stays far below 60 s.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
need_tun_env
need_tcp_tools curl python3 openssl ss

make_ns serve NS
WWW="$TMP/www"
mkdir -p "$WWW/sub" "$TMP/outside"
gen_file "$WWW/f10m.bin" 10
echo "hello from ustack" >"$WWW/index.html"
echo "secret" >"$TMP/outside/secret.txt"
ln -s ../outside/secret.txt "$WWW/escape.txt"  # points outside the root: must be 404
ln -s ../index.html "$WWW/sub/inside.html"      # stays inside: served
PCAP="$TMP/serve.pcap"

start_bg "$TMP/serve.log" ip netns exec "$NS" "$USTACK" serve --http "80:$WWW" --echo 7 \
  --discard 9 --chargen 19 --tun ustcp0 --addr 10.77.0.2/24 --host-addr 10.77.0.1/24 \
  --pcap "$PCAP" --stats
SERVE=$LAST_PID
wait_for 10 ip netns exec "$NS" ping -c 1 -W 0.2 10.77.0.2 || die "ustack serve did not come up"
log "$(head -1 "$TMP/serve.log")"
in_ns() { ip netns exec "$NS" "$@"; }

# --- HTTP ---------------------------------------------------------------------------------------
out=$(in_ns curl -sS --max-time 30 -o "$TMP/dl10.bin" -w '%{http_code} %{size_download} %{speed_download}' \
  http://10.77.0.2/f10m.bin) || fail "curl of 10 MiB failed"
read -r code size speed <<<"$out"
log "curl 10 MiB: status $code, $size bytes, $((${speed%.*} * 8 / 1000000)) Mbit/s"
[[ $code == 200 ]] || fail "10 MiB download: status $code"
[[ $(sha "$TMP/dl10.bin") == $(sha "$WWW/f10m.bin") ]] || fail "10 MiB download: sha256 differs"

# Keep-alive: two requests on one connection (curl reports reusing it).
in_ns curl -sS -v --max-time 10 http://10.77.0.2/ http://10.77.0.2/sub/inside.html \
  >"$TMP/ka.out" 2>"$TMP/ka.err" || fail "keep-alive requests failed"
[[ $(grep -c "hello from ustack" "$TMP/ka.out") -eq 2 ]] || fail "keep-alive: bodies missing"
grep -q "Re-using existing connection" "$TMP/ka.err" || fail "keep-alive: connection not reused"

status() { in_ns curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@"; }
[[ $(status http://10.77.0.2/nope) == 404 ]] || fail "missing file: not 404"
[[ $(status --path-as-is http://10.77.0.2/../../etc/passwd) == 404 ]] || fail "'..' not refused"
[[ $(status --path-as-is http://10.77.0.2/sub/%2e%2e/%2e%2e/etc/passwd) == 404 ]] ||
  fail "encoded '..' not refused"
[[ $(status http://10.77.0.2/escape.txt) == 404 ]] || fail "symlink out of the root was served"
[[ $(status -X POST -d x=1 http://10.77.0.2/index.html) == 405 ]] || fail "POST: not 405"
[[ $(status -I http://10.77.0.2/f10m.bin) == 200 ]] || fail "HEAD: not 200"
in_ns curl -sSI --max-time 10 http://10.77.0.2/f10m.bin | grep -qi "^Content-Length: 10485760" ||
  fail "HEAD: wrong Content-Length"
bad=$(printf 'GARBAGE\r\n\r\n' | in_ns timeout 10 python3 -c '
import socket,sys
s=socket.create_connection(("10.77.0.2",80),timeout=5);s.sendall(sys.stdin.buffer.read())
print(s.recv(100).split(b"\r\n")[0].decode())') || true
[[ $bad == "HTTP/1.1 400 Bad Request" ]] || fail "malformed request: got '$bad', not 400"

# --- discard, echo, chargen, refused -------------------------------------------------------------
in_ns python3 "$TCP_CLIENT" upload 10.77.0.2 9 20000000 || fail "upload to discard failed"
wait_for 10 log_has "$TMP/serve.log" "discard .* closed .* 20000000 bytes in" ||
  fail "discard did not count 20000000 bytes"
in_ns python3 "$TCP_CLIENT" echo 10.77.0.2 7 20000000 || fail "echo of 20 MB not equal"
chargen=$(in_ns timeout 10 python3 -c '
import socket
s=socket.create_connection(("10.77.0.2",19),timeout=5);b=b""
while len(b)<1000000: b+=s.recv(65536)
s.close();print(b[:74]==bytes(range(32,104))+b"\r\n" and b[74:148]==bytes(range(33,105))+b"\r\n")') ||
  true
[[ $chargen == True ]] || fail "chargen lines not RFC 864"
in_ns python3 "$TCP_CLIENT" refused 10.77.0.2 4444 || fail "closed port not refused at once"

# SIGUSR1: counters and the per-connection lines while running.
kill -USR1 "$SERVE"
wait_for 10 log_has "$TMP/serve.log" "HttpRequests: [1-9]" || fail "SIGUSR1 printed no report"

rc=0
stop_bg "$SERVE" || rc=$?
((rc == 0)) || fail "ustack serve exited $rc after SIGTERM"
log_has "$TMP/serve.log" "ActiveOpens|PassiveOpens" || log "(no TCP open counters in --stats)"
check_pcap_tcp "$PCAP"

# --- 100 MiB, uncaptured -------------------------------------------------------------------------
gen_file "$WWW/f100m.bin" 100
start_bg "$TMP/serve2.log" ip netns exec "$NS" "$USTACK" serve --http "80:$WWW" --tun ustcp1 \
  --addr 10.78.0.2/24 --host-addr 10.78.0.1/24 -q --stats
SERVE2=$LAST_PID
wait_for 10 ip netns exec "$NS" ping -c 1 -W 0.2 10.78.0.2 || die "second serve did not come up"
out=$(in_ns curl -sS --max-time 40 -o "$TMP/dl100.bin" -w '%{http_code} %{size_download} %{speed_download}' \
  http://10.78.0.2/f100m.bin) || fail "curl of 100 MiB failed"
read -r code size speed <<<"$out"
log "curl 100 MiB: status $code, $size bytes, $((${speed%.*} * 8 / 1000000)) Mbit/s"
[[ $code == 200 && $(sha "$TMP/dl100.bin") == $(sha "$WWW/f100m.bin") ]] ||
  fail "100 MiB download: status $code or sha256 differs"
rm -f "$TMP/dl100.bin" "$WWW/f100m.bin"
rc=0
stop_bg "$SERVE2" || rc=$?
((rc == 0)) || fail "second ustack serve exited $rc after SIGTERM"

finish
