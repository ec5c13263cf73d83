#!/usr/bin/env bash
# The kernel pings ustack over a TUN device (plain and fragmented with -s 4000), ustack pings
# the kernel, and the capture of the exchange reads cleanly in tshark.
source "$(dirname "$0")/lib.sh"
need_tun_env

make_ns tun NS
DEV=ustun0
PCAP="$TMP/tun.pcap"

start_bg "$TMP/up.log" ip netns exec "$NS" "$USTACK" up --tun "$DEV" --addr 10.77.0.2/24 \
  --host-addr 10.77.0.1/24 --pcap "$PCAP" --stats
UP=$LAST_PID
wait_for 10 ip netns exec "$NS" ping -c 1 -W 0.2 10.77.0.2 ||
  die "no reply from ustack on $DEV within 10 s"
log "$(head -1 "$TMP/up.log")"

out=$(ip netns exec "$NS" ping -c 5 -i 0.05 -W 2 10.77.0.2) || fail "kernel ping over TUN failed"
echo "$out" | tail -2
echo "$out" | grep -q " 0% packet loss" || fail "kernel ping over TUN lost packets"

out=$(ip netns exec "$NS" ping -c 3 -i 0.05 -W 2 -s 4000 10.77.0.2) ||
  fail "fragmented kernel ping (-s 4000) over TUN failed"
echo "$out" | tail -2
echo "$out" | grep -q "4008 bytes from 10.77.0.2" || fail "no 4008-byte reply to ping -s 4000"
echo "$out" | grep -q " 0% packet loss" || fail "fragmented ping lost packets"

# SIGUSR1 prints the counters while the stack keeps running.
kill -USR1 "$UP"
wait_for 10 log_has "$TMP/up.log" "InEchos: [1-9]" || fail "SIGUSR1 printed no counters"
ip netns exec "$NS" ping -c 1 -W 2 10.77.0.2 >/dev/null || fail "no reply after SIGUSR1"

rc=0
stop_bg "$UP" || rc=$?
((rc == 0)) || fail "ustack up exited $rc after SIGTERM"
log_has "$TMP/up.log" "InEchos: ([1-9][0-9]*)" || fail "--stats printed no Icmp InEchos count"
log_has "$TMP/up.log" "ReasmOKs: [1-9]" || fail "--stats shows no reassembled datagram"
check_pcap "$PCAP"

# ustack pings the kernel (the device is created by this run and gone after it).
out=$(ip netns exec "$NS" timeout 30 "$USTACK" ping 10.77.0.1 --tun "$DEV" --addr 10.77.0.2/24 \
  --host-addr 10.77.0.1/24 -c 3 -i 0.05 -W 2) || fail "ustack ping to the kernel over TUN failed"
echo "$out" | tail -3
echo "$out" | grep -q "3 packets transmitted, 3 received" || fail "ustack ping lost replies"

out=$(ip netns exec "$NS" timeout 30 "$USTACK" ping 10.77.0.1 --tun "$DEV" --addr 10.77.0.2/24 \
  --host-addr 10.77.0.1/24 -c 2 -i 0.05 -W 2 -s 6000) || fail "fragmented ustack ping failed"
echo "$out" | grep -q "6008 bytes from 10.77.0.1" || fail "no 6008-byte reply to ustack ping -s 6000"

# Nobody answers 10.77.0.9: exit status 1, and a bounded run.
rc=0
ip netns exec "$NS" timeout 30 "$USTACK" ping 10.77.0.9 --tun "$DEV" --addr 10.77.0.2/24 \
  --host-addr 10.77.0.1/24 -c 1 -W 0.3 >"$TMP/noreply.log" 2>&1 || rc=$?
((rc == 1)) || fail "ustack ping to a silent address exited $rc, expected 1"

finish
