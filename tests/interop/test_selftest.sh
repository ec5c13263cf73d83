#!/usr/bin/env bash
# Two stacks over the in-memory link (no root, no TUN): pings, fragmented ping, UDP echo, and a
# 50 MiB TCP download; the capture of all of it must read clean in tshark.
source "$(dirname "$0")/lib.sh"
need_binary
out=$(timeout 60 "$USTACK" selftest --pcap "$TMP/selftest.pcap") || fail "ustack selftest failed"
echo "$out"
echo "$out" | grep -q "exchanges ok" || fail "selftest printed no summary"
check_pcap "$TMP/selftest.pcap"
finish
