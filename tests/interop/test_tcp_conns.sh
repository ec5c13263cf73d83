#!/usr/bin/env bash
# Many connections against ustack serve --echo over TUN, the kernel as the client: 1,000 short
# connections one after another, then 200 open at the same time, every echo equal; both runs
# bounded in time (python's socket timeouts and the overall `timeout`). At the end no connection
# may be left open in ustack's report.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tcp_lib.sh"
need_tun_env
need_tcp_tools python3

make_ns conns NS
in_ns() { ip netns exec "$NS" "$@"; }

start_bg "$TMP/serve.log" ip netns exec "$NS" "$USTACK" serve --echo 7 --tun ustcc0 \
  --addr 10.77.0.2/24 --host-addr 10.77.0.1/24 -q --stats
SERVE=$LAST_PID
wait_for 10 in_ns ping -c 1 -W 0.2 10.77.0.2 || die "ustack serve did not come up"

start=$SECONDS
in_ns timeout 50 python3 "$TCP_CLIENT" sequential 10.77.0.2 7 1000 ||
  fail "1000 sequential connections did not all complete"
log "1000 sequential connections: $((SECONDS - start)) s"

start=$SECONDS
in_ns timeout 50 python3 "$TCP_CLIENT" concurrent 10.77.0.2 7 200 ||
  fail "200 concurrent connections did not all complete"
log "200 concurrent connections: $((SECONDS - start)) s"

# Every connection closed on our side: the report shows none open and 1200 closed.
kill -USR1 "$SERVE"
wait_for 10 log_has "$TMP/serve.log" "Closed: 1200" || fail "serve did not close 1200 connections"
log_has "$TMP/serve.log" "Open: 0" || fail "connections left open in serve"
rc=0
stop_bg "$SERVE" || rc=$?
((rc == 0)) || fail "ustack serve exited $rc after SIGTERM"
grep -E "Accepted|Closed|Dropped|Open" "$TMP/serve.log" | tail -4

finish
