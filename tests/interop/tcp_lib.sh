# TCP helpers for the interop tests, sourced after lib.sh.

TCP_CLIENT="$(dirname "${BASH_SOURCE[0]}")/tcp_client.py"

# need_tcp_tools TOOL...: skip when a kernel-side tool is missing.
need_tcp_tools() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || skip "the '$t' tool is missing"
  done
}

# gen_file PATH MIB: a file of MIB MiB of pseudo-random bytes (not compressible, not periodic).
gen_file() {
  local bytes=$(($2 * 1024 * 1024))
  (
    set +o pipefail  # openssl ends with SIGPIPE when head has enough
    openssl enc -aes-128-ctr -nosalt -pass pass:ustack -pbkdf2 -in /dev/zero 2>/dev/null |
      head -c "$bytes" >"$1"
  )
  [[ $(stat -c %s "$1") -eq $bytes ]] || die "could not generate $1"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# wait_listening NS PORT: until a kernel socket listens on PORT in NS (bounded, 10 s).
wait_listening() {
  wait_for 10 bash -c "ip netns exec $1 ss -Hltn 'sport = :$2' | grep -q ."
}

# check_pcap_tcp FILE: check_pcap, plus no TCP expert info saying a segment was ACKed that the
# capture never saw (tcp.analysis.ack_lost_segment) and no zero-window probes gone unanswered.
check_pcap_tcp() {
  local file=$1
  check_pcap "$file"
  command -v tshark >/dev/null 2>&1 || return 0
  local unseen
  unseen=$(tshark -r "$file" -o tcp.check_checksum:TRUE -Y 'tcp.analysis.ack_lost_segment' \
    2>/dev/null | head -5)
  if [[ -n $unseen ]]; then
    fail "pcap $file has 'ACKed unseen segment':"
    echo "$unseen" >&2
  else
    log "pcap $file: no 'ACKed unseen segment'"
  fi
}
