# Shared helpers for the interop tests. Each test sources this file with the path of the ustack
# binary as its first argument. A test creates its own network namespaces (removed on exit, by
# the trap installed here), never sends traffic outside them, and bounds every wait by a
# deadline. Exit 77 means "skipped" to ctest; the reason is printed first.

set -euo pipefail

USTACK=${1:-}
TEST_NAME=$(basename "$0" .sh)
NAMESPACES=()
PIDS=()
TMP=$(mktemp -d "/tmp/ustack-${TEST_NAME}.XXXXXX")
FAILURES=0

log() { echo "[$TEST_NAME] $*"; }

skip() {
  echo "SKIP: $TEST_NAME: $*"
  exit 77
}

fail() {
  echo "FAIL: $TEST_NAME: $*" >&2
  FAILURES=$((FAILURES + 1))
}

# Like fail, but stops the test.
die() {
  echo "FAIL: $TEST_NAME: $*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  set +e
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null
    fi
  done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if ((rc != 0 && rc != 77)); then
    for f in "$TMP"/*.log; do
      [[ -f $f ]] || continue
      echo "--- $f (last 30 lines) ---" >&2
      tail -n 30 "$f" >&2
    done
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_binary() {
  [[ -n $USTACK && -x $USTACK ]] || die "usage: $0 PATH_TO_USTACK (got '${USTACK}')"
  USTACK=$(readlink -f "$USTACK")
}

# Root, /dev/net/tun and the ip tool, or skip.
need_tun_env() {
  need_binary
  [[ $(id -u) -eq 0 ]] || skip "needs root (creates network namespaces and TUN/TAP devices)"
  [[ -c /dev/net/tun ]] || skip "no /dev/net/tun on this machine"
  command -v ip >/dev/null 2>&1 || skip "the 'ip' tool (iproute2) is missing"
  command -v ping >/dev/null 2>&1 || skip "the 'ping' tool (iputils-ping) is missing"
}

# make_ns NAME: a fresh namespace with lo up, removed on exit. Prints nothing.
make_ns() {
  local ns="ustk-$$-$1"
  ip netns add "$ns" || skip "cannot create network namespace $ns"
  NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
  eval "$2=\$ns"
}

# start_bg LOGFILE CMD...: runs CMD in the background, output to LOGFILE; sets LAST_PID.
start_bg() {
  local logfile=$1
  shift
  "$@" >"$logfile" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# wait_for SECONDS CMD...: runs CMD until it succeeds or SECONDS pass.
wait_for() {
  local secs=$1
  shift
  local deadline=$((SECONDS + secs))
  while ! "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# wait_gone PID SECONDS: until the process has exited.
wait_gone() {
  local pid=$1 secs=$2
  local deadline=$((SECONDS + secs))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# stop_bg PID: SIGTERM, wait (bounded), and return its exit status.
stop_bg() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" 10; then
    kill -KILL "$pid" 2>/dev/null || true
    fail "process $pid did not exit within 10 s of SIGTERM"
  fi
  local rc=0
  wait "$pid" || rc=$?
  return "$rc"
}

# log_has FILE PATTERN: grep -E on a log.
log_has() { grep -qE "$2" "$1"; }

# check_pcap FILE: tshark reads it, it holds packets, and none is malformed or has a bad IP,
# ICMP, UDP or TCP checksum (validation switched on).
check_pcap() {
  local file=$1
  command -v tshark >/dev/null 2>&1 || { log "tshark missing: pcap check skipped"; return 0; }
  [[ -s $file ]] || { fail "pcap $file is empty or missing"; return 0; }
  local total bad
  if ! total=$(tshark -r "$file" 2>"$TMP/tshark.err" | wc -l); then
    fail "tshark cannot read $file: $(head -1 "$TMP/tshark.err")"
    return 0
  fi
  ((total > 0)) || { fail "tshark finds no packets in $file"; return 0; }
  bad=$(tshark -r "$file" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
    -o tcp.check_checksum:TRUE \
    -Y 'ip.checksum.status == "Bad" || icmp.checksum.status == "Bad" ||
        udp.checksum.status == "Bad" || tcp.checksum.status == "Bad" || _ws.malformed ||
        _ws.expert.severity >= "error"' 2>/dev/null)
  if [[ -n $bad ]]; then
    fail "pcap $file has malformed or bad-checksum packets:"
    echo "$bad" | head -20 >&2
  else
    log "pcap $file: $total packets, none malformed, all checksums valid"
  fi
}

finish() {
  if ((FAILURES > 0)); then
    echo "FAIL: $TEST_NAME: $FAILURES check(s) failed"
    exit 1
  fi
  echo "PASS: $TEST_NAME"
  exit 0
}
