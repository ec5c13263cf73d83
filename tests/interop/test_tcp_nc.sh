#!/usr/bin/env bash
# ustack nc against the kernel over TUN: as a client of a kernel server (python and socat) and
# as a one-connection server (nc -l) for a kernel client, data both ways compared by sha256,
# half-close both ways (we finish first, the kernel finishes first), ECONNREFUSED, and the
# capture read by tshark with checksum validation on. Files are 8 MiB: enough for many windows
# of data each way, small enough that the whole test takes a few seconds.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
need_tun_env
need_tcp_tools python3 openssl ss

make_ns nc NS
in_ns() { ip netns exec "$NS" "$@"; }
gen_file "$TMP/a.bin" 8
gen_file "$TMP/b.bin" 5
DEV=(--tun ustnc0 --addr 10.77.0.2/24 --host-addr 10.77.0.1/24)
NC=(timeout 60 ip netns exec "$NS" "$USTACK" nc)

# 1. Client; we half-close first: the kernel reads to our FIN, then sends its file.
start_bg "$TMP/srv1.log" in_ns python3 "$TCP_CLIENT" server 5001 recv-then-send "$TMP/b.bin" \
  "$TMP/srv1.out"
SRV=$LAST_PID
wait_listening "$NS" 5001 || die "kernel server did not listen"
rc=0
"${NC[@]}" 10.77.0.1 5001 "${DEV[@]}" --pcap "$TMP/nc1.pcap" --stats <"$TMP/a.bin" \
  >"$TMP/nc1.out" 2>"$TMP/nc1.log" || rc=$?
((rc == 0)) || fail "nc client (we close first) exited $rc: $(head -1 "$TMP/nc1.log")"
wait_gone "$SRV" 10 || fail "kernel server did not finish"
[[ $(sha "$TMP/srv1.out") == $(sha "$TMP/a.bin") ]] || fail "nc -> kernel: sha256 differs"
[[ $(sha "$TMP/nc1.out") == $(sha "$TMP/b.bin") ]] || fail "kernel -> nc: sha256 differs"
log_has "$TMP/nc1.log" "^tcp 10.77.0.2:[0-9]+ 10.77.0.1:5001 (TIME-WAIT|CLOSED)" ||
  fail "--stats printed no connection line (state, cwnd, srtt ...)"
grep -E "^tcp " "$TMP/nc1.log" | head -1
check_pcap_tcp "$TMP/nc1.pcap"

# 2. Client; the kernel half-closes first and then still reads what we send.
start_bg "$TMP/srv2.log" in_ns python3 "$TCP_CLIENT" server 5002 send-then-recv "$TMP/b.bin" \
  "$TMP/srv2.out"
SRV=$LAST_PID
wait_listening "$NS" 5002 || die "kernel server did not listen"
rc=0
"${NC[@]}" 10.77.0.1 5002 "${DEV[@]}" --stats <"$TMP/a.bin" >"$TMP/nc2.out" 2>"$TMP/nc2.log" || rc=$?
((rc == 0)) || fail "nc client (kernel closes first) exited $rc: $(head -1 "$TMP/nc2.log")"
wait_gone "$SRV" 10 || fail "kernel server did not finish"
[[ $(sha "$TMP/srv2.out") == $(sha "$TMP/a.bin") ]] || fail "half-closed kernel: sha256 differs"
[[ $(sha "$TMP/nc2.out") == $(sha "$TMP/b.bin") ]] || fail "kernel -> nc (first): sha differs"

# 3. Client of socat, stdin from a pipe.
if command -v socat >/dev/null 2>&1; then
  start_bg "$TMP/socat.log" in_ns timeout 30 socat -u TCP-LISTEN:5003,reuseaddr \
    "OPEN:$TMP/socat.out,creat,trunc"
  wait_listening "$NS" 5003 || die "socat did not listen"
  rc=0
  cat "$TMP/a.bin" | "${NC[@]}" 10.77.0.1 5003 "${DEV[@]}" >/dev/null 2>"$TMP/nc3.log" || rc=$?
  ((rc == 0)) || fail "nc to socat exited $rc: $(head -1 "$TMP/nc3.log")"
  wait_gone "$LAST_PID" 10 || fail "socat did not finish"
  [[ $(sha "$TMP/socat.out") == $(sha "$TMP/a.bin") ]] || fail "nc -> socat: sha256 differs"
else
  log "socat missing: that case skipped"
fi

# 4. nc -l with a kernel client: the kernel sends and half-closes, we send back our file.
# (not through start_bg: a background command's stdin would be /dev/null there)
"${NC[@]}" -l 6000 "${DEV[@]}" <"$TMP/b.bin" >"$TMP/ncl.out" 2>"$TMP/ncl.log" &
NCL=$!
PIDS+=("$NCL")
# the device and listener are up once the stack answers ping
wait_for 10 in_ns ping -c 1 -W 0.2 10.77.0.2 || die "nc -l did not come up"
in_ns python3 "$TCP_CLIENT" client 10.77.0.2 6000 "$TMP/a.bin" "$TMP/cl.out" ||
  fail "kernel client of nc -l failed"
rc=0
wait_gone "$NCL" 15 || fail "nc -l did not exit"
wait "$NCL" || rc=$?
((rc == 0)) || fail "nc -l exited $rc"
[[ $(sha "$TMP/ncl.out") == $(sha "$TMP/a.bin") ]] || fail "kernel -> nc -l: sha256 differs"
[[ $(sha "$TMP/cl.out") == $(sha "$TMP/b.bin") ]] || fail "nc -l -> kernel: sha256 differs"

# 5. Nobody listens: ECONNREFUSED, one line, status 1, at once.
rc=0
start=$SECONDS
"${NC[@]}" 10.77.0.1 5999 "${DEV[@]}" </dev/null >/dev/null 2>"$TMP/ref.log" || rc=$?
((rc == 1)) || fail "nc to a closed port exited $rc, expected 1"
grep -q "ECONNREFUSED" "$TMP/ref.log" || fail "no ECONNREFUSED message: $(cat "$TMP/ref.log")"
[[ $(wc -l <"$TMP/ref.log") -eq 1 ]] || fail "the refusal message is not one line"
((SECONDS - start < 5)) || fail "the refusal took $((SECONDS - start)) s"
log "refused: $(cat "$TMP/ref.log")"

finish
