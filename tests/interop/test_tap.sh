#!/usr/bin/env bash
# Over a TAP device (Ethernet, so ARP both ways): the kernel pings ustack (plain and
# fragmented), learns ustack's MAC, exchanges UDP with `ustack udp-echo` (python and socat,
# exact bytes back, fragmented datagrams too); ustack pings the kernel, which needs ARP from
# our side; the capture reads cleanly in tshark.
source "$(dirname "$0")/lib.sh"
need_tun_env
command -v python3 >/dev/null 2>&1 || skip "python3 is missing"

make_ns tap NS
DEV=ustap0
PCAP="$TMP/tap.pcap"

start_bg "$TMP/echo.log" ip netns exec "$NS" "$USTACK" udp-echo 7 --tap "$DEV" \
  --addr 10.78.0.2/24 --host-addr 10.78.0.1/24 --pcap "$PCAP" --stats
ECHO=$LAST_PID
wait_for 10 ip netns exec "$NS" ping -c 1 -W 0.2 10.78.0.2 ||
  die "no reply from ustack on $DEV within 10 s"
log "$(head -1 "$TMP/echo.log")"

# The kernel resolved ustack's address to the MAC ustack reports.
OUR_MAC=$(grep -oE "mac ([0-9a-f]{2}:){5}[0-9a-f]{2}" "$TMP/echo.log" | head -1 | cut -d' ' -f2)
[[ -n $OUR_MAC ]] || fail "ustack did not print its MAC"
NEIGH=$(ip -n "$NS" neigh show 10.78.0.2 dev "$DEV")
log "kernel neighbour entry: $NEIGH"
[[ $NEIGH == *"lladdr $OUR_MAC"* ]] || fail "kernel ARP entry '$NEIGH' does not show $OUR_MAC"

out=$(ip netns exec "$NS" ping -c 5 -i 0.05 -W 2 10.78.0.2) || fail "kernel ping over TAP failed"
echo "$out" | tail -2
echo "$out" | grep -q " 0% packet loss" || fail "kernel ping over TAP lost packets"
out=$(ip netns exec "$NS" ping -c 3 -i 0.05 -W 2 -s 4000 10.78.0.2) ||
  fail "fragmented kernel ping (-s 4000) over TAP failed"
echo "$out" | tail -2
echo "$out" | grep -q "4008 bytes from 10.78.0.2" || fail "no 4008-byte reply to ping -s 4000"

ip netns exec "$NS" python3 "$(dirname "$0")/udp_echo_client.py" 10.78.0.2 7 1 100 1472 1473 \
  4000 9000 || fail "UDP echo (python) did not return every datagram exactly"

if command -v socat >/dev/null 2>&1; then
  got=$(printf 'hello ustack' | ip netns exec "$NS" timeout 10 socat -T 2 - UDP:10.78.0.2:7) ||
    true
  if [[ $got == "hello ustack" ]]; then
    log "socat: 'hello ustack' echoed"
  else
    fail "socat UDP echo returned '$got'"
  fi
else
  log "socat missing: socat exchange skipped"
fi

rc=0
stop_bg "$ECHO" || rc=$?
((rc == 0)) || fail "ustack udp-echo exited $rc after SIGTERM"
log_has "$TMP/echo.log" "udp-echo: 4000 bytes from 10.78.0.1:" || fail "udp-echo did not log"
log_has "$TMP/echo.log" "InDatagrams: [1-9]" || fail "--stats shows no UDP datagram"
check_pcap "$PCAP"

# ustack pings the kernel on a fresh TAP: it must resolve 10.78.0.1 itself.
PCAP2="$TMP/tap-ping.pcap"
out=$(ip netns exec "$NS" timeout 30 "$USTACK" ping 10.78.0.1 --tap "$DEV" --addr 10.78.0.2/24 \
  --host-addr 10.78.0.1/24 -c 3 -i 0.05 -W 2 --pcap "$PCAP2" --stats) ||
  fail "ustack ping to the kernel over TAP failed"
echo "$out" | grep -E "packets transmitted|bytes from" | head -4
echo "$out" | grep -q "3 packets transmitted, 3 received" || fail "ustack ping over TAP lost replies"
echo "$out" | grep -qE "OutRequests: [1-9]" || fail "ustack sent no ARP request"
if command -v tshark >/dev/null 2>&1; then
  arp=$(tshark -r "$PCAP2" -Y "arp.opcode == 2 && arp.src.proto_ipv4 == 10.78.0.1" 2>/dev/null |
    wc -l)
  if ((arp > 0)); then
    log "capture shows the kernel's ARP reply to ustack"
  else
    fail "no ARP reply from the kernel in $PCAP2"
  fi
fi
check_pcap "$PCAP2"

finish
