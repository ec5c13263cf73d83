#!/usr/bin/env bash
# Error paths of the ustack command: wrong usage gives one line on stderr and exit 2, an OS
# refusal gives one line and exit 1, help exits 0; nothing hangs. Needs no root, except the
# last part (a TUN open refused to an unprivileged user), which runs only as root.
source "$(dirname "$0")/lib.sh"
need_binary

# expect STATUS DESCRIPTION CMD...: exit status STATUS, stderr exactly one line, within 10 s.
expect() {
  local want=$1 what=$2
  shift 2
  local rc=0
  timeout 10 "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
  local lines
  lines=$(wc -l <"$TMP/err")
  if ((rc != want)); then
    fail "$what: exit $rc, expected $want (stderr: $(head -3 "$TMP/err"))"
  elif ((want != 0 && lines != 1)); then
    fail "$what: expected one line on stderr, got $lines: $(head -5 "$TMP/err")"
  elif grep -qiE "terminate called|Aborted|Segmentation|AddressSanitizer|runtime error" \
    "$TMP/err"; then
    fail "$what: crashed: $(head -3 "$TMP/err")"
  else
    log "ok: $what -> exit $rc $(head -1 "$TMP/err")"
  fi
}

expect 0 "general help" "$USTACK" --help
grep -q "udp-echo" "$TMP/out" || fail "--help does not list udp-echo"
for sub in up ping udp-echo selftest; do
  expect 0 "$sub --help" "$USTACK" "$sub" --help
  for opt in --tun --tap --addr --gateway --host-addr --mtu --pcap --no-offload --stats; do
    [[ $sub == selftest ]] && break
    grep -q -- "$opt" "$TMP/out" || fail "'ustack $sub --help' does not explain $opt"
  done
done
grep -q -- "--count" <("$USTACK" ping --help) || fail "'ustack ping --help' lacks --count"

expect 2 "no subcommand" "$USTACK"
expect 2 "unknown subcommand" "$USTACK" frobnicate
expect 2 "bad address" "$USTACK" up --tun ut0 --addr 10.0.0.300/24
expect 2 "address without prefix" "$USTACK" up --tun ut0 --addr 10.0.0.2
expect 2 "prefix too long" "$USTACK" up --tun ut0 --addr 10.0.0.2/33
expect 2 "missing --addr" "$USTACK" up --tun ut0
expect 2 "missing device" "$USTACK" up --addr 10.0.0.2/24
expect 2 "both --tun and --tap" "$USTACK" up --tun a --tap b --addr 10.0.0.2/24
expect 2 "device name too long" "$USTACK" up --tun abcdefghijklmnopq --addr 10.0.0.2/24
expect 2 "gateway off the prefix" "$USTACK" up --tun ut0 --addr 10.0.0.2/24 --gateway 10.9.0.1
expect 2 "unknown option" "$USTACK" up --tun ut0 --addr 10.0.0.2/24 --frob
expect 2 "option without value" "$USTACK" up --tun ut0 --addr
expect 2 "ping without host" "$USTACK" ping --tun ut0 --addr 10.0.0.2/24
expect 2 "ping bad host" "$USTACK" ping 10.0.0 --tun ut0 --addr 10.0.0.2/24
expect 2 "ping bad count" "$USTACK" ping 10.0.0.1 -c abc --tun ut0 --addr 10.0.0.2/24
expect 2 "ping zero count" "$USTACK" ping 10.0.0.1 -c 0 --tun ut0 --addr 10.0.0.2/24
expect 2 "ping size too big" "$USTACK" ping 10.0.0.1 -s 70000 --tun ut0 --addr 10.0.0.2/24
expect 2 "ping bad interval" "$USTACK" ping 10.0.0.1 -i -1 --tun ut0 --addr 10.0.0.2/24
expect 2 "udp-echo bad port" "$USTACK" udp-echo 70000 --tun ut0 --addr 10.0.0.2/24
expect 2 "udp-echo no port" "$USTACK" udp-echo --tun ut0 --addr 10.0.0.2/24
expect 2 "mtu too small" "$USTACK" up --tun ut0 --addr 10.0.0.2/24 --mtu 100
expect 2 "selftest extra argument" "$USTACK" selftest extra

if [[ $(id -u) -eq 0 && -c /dev/net/tun ]] && command -v setpriv >/dev/null 2>&1; then
  # An unprivileged user may not create TUN devices: one line, exit 1, no hang.
  expect 1 "TUN refused to nobody" setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$USTACK" up --tun ut0 --addr 10.0.0.2/24
  grep -qiE "not permitted|permission" "$TMP/err" || fail "refusal does not say why"
  make_ns cli NS
  expect 1 "pcap in a missing directory" ip netns exec "$NS" "$USTACK" up --tun ut0 \
    --addr 10.0.0.2/24 --pcap /nonexistent-dir/x.pcap
else
  log "not root or no /dev/net/tun: OS refusal checks not run"
fi

finish
