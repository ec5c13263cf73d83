#include "stack/counters.hpp"

namespace ustack {

void StackCounters::for_each(
    const std::function<void(std::string_view, std::string_view, std::uint64_t)>& fn) const {
#define USTACK_C(sec, obj, field, name) fn(sec, name, obj.field)
    USTACK_C("Link", link, rx_frames, "RxFrames");
    USTACK_C("Link", link, rx_bytes, "RxBytes");
    USTACK_C("Link", link, tx_frames, "TxFrames");
    USTACK_C("Link", link, tx_bytes, "TxBytes");
    USTACK_C("Link", link, rx_malformed, "RxMalformed");
    USTACK_C("Link", link, rx_not_for_us, "RxNotForUs");
    USTACK_C("Link", link, rx_unknown_ethertype, "RxUnknownEtherType");
    USTACK_C("Link", link, tx_errors, "TxErrors");
    USTACK_C("Link", link, tx_dropped, "TxDropped");
    USTACK_C("Arp", arp, in_requests, "InRequests");
    USTACK_C("Arp", arp, in_replies, "InReplies");
    USTACK_C("Arp", arp, in_gratuitous, "InGratuitous");
    USTACK_C("Arp", arp, in_malformed, "InMalformed");
    USTACK_C("Arp", arp, out_requests, "OutRequests");
    USTACK_C("Arp", arp, out_replies, "OutReplies");
    USTACK_C("Arp", arp, pending_drops, "PendingDrops");
    USTACK_C("Arp", arp, resolution_failures, "ResolutionFailures");
    USTACK_C("Arp", arp, cache_evictions, "CacheEvictions");
    USTACK_C("Ip", ip, in_receives, "InReceives");
    USTACK_C("Ip", ip, in_hdr_errors, "InHdrErrors");
    USTACK_C("Ip", ip, in_csum_errors, "InCsumErrors");
    USTACK_C("Ip", ip, in_truncated_pkts, "InTruncatedPkts");
    USTACK_C("Ip", ip, in_addr_errors, "InAddrErrors");
    USTACK_C("Ip", ip, in_unknown_protos, "InUnknownProtos");
    USTACK_C("Ip", ip, in_discards, "InDiscards");
    USTACK_C("Ip", ip, in_delivers, "InDelivers");
    USTACK_C("Ip", ip, out_requests, "OutRequests");
    USTACK_C("Ip", ip, out_no_routes, "OutNoRoutes");
    USTACK_C("Ip", ip, out_discards, "OutDiscards");
    USTACK_C("Ip", ip, reasm_reqds, "ReasmReqds");
    USTACK_C("Ip", ip, reasm_oks, "ReasmOKs");
    USTACK_C("Ip", ip, reasm_fails, "ReasmFails");
    USTACK_C("Ip", ip, reasm_timeout, "ReasmTimeout");
    USTACK_C("Ip", ip, reasm_overlaps, "ReasmOverlaps");
    USTACK_C("Ip", ip, reasm_overflows, "ReasmOverflows");
    USTACK_C("Ip", ip, frag_oks, "FragOKs");
    USTACK_C("Ip", ip, frag_fails, "FragFails");
    USTACK_C("Ip", ip, frag_creates, "FragCreates");
    USTACK_C("Icmp", icmp, in_msgs, "InMsgs");
    USTACK_C("Icmp", icmp, in_errors, "InErrors");
    USTACK_C("Icmp", icmp, in_csum_errors, "InCsumErrors");
    USTACK_C("Icmp", icmp, in_echos, "InEchos");
    USTACK_C("Icmp", icmp, in_echo_reps, "InEchoReps");
    USTACK_C("Icmp", icmp, in_dest_unreachs, "InDestUnreachs");
    USTACK_C("Icmp", icmp, in_time_excds, "InTimeExcds");
    USTACK_C("Icmp", icmp, out_msgs, "OutMsgs");
    USTACK_C("Icmp", icmp, out_echos, "OutEchos");
    USTACK_C("Icmp", icmp, out_echo_reps, "OutEchoReps");
    USTACK_C("Icmp", icmp, out_dest_unreachs, "OutDestUnreachs");
    USTACK_C("Icmp", icmp, out_rate_limited, "OutRateLimited");
    USTACK_C("Udp", udp, in_datagrams, "InDatagrams");
    USTACK_C("Udp", udp, no_ports, "NoPorts");
    USTACK_C("Udp", udp, in_errors, "InErrors");
    USTACK_C("Udp", udp, in_csum_errors, "InCsumErrors");
    USTACK_C("Udp", udp, rcvbuf_errors, "RcvbufErrors");
    USTACK_C("Udp", udp, out_datagrams, "OutDatagrams");
    USTACK_C("Tcp", tcp, active_opens, "ActiveOpens");
    USTACK_C("Tcp", tcp, passive_opens, "PassiveOpens");
    USTACK_C("Tcp", tcp, attempt_fails, "AttemptFails");
    USTACK_C("Tcp", tcp, estab_resets, "EstabResets");
    USTACK_C("Tcp", tcp, curr_estab, "CurrEstab");
    USTACK_C("Tcp", tcp, in_segs, "InSegs");
    USTACK_C("Tcp", tcp, out_segs, "OutSegs");
    USTACK_C("Tcp", tcp, retrans_segs, "RetransSegs");
    USTACK_C("Tcp", tcp, in_errs, "InErrs");
    USTACK_C("Tcp", tcp, in_csum_errors, "InCsumErrors");
    USTACK_C("Tcp", tcp, out_rsts, "OutRsts");
    USTACK_C("TcpExt", tcp, delayed_acks, "DelayedACKs");
    USTACK_C("TcpExt", tcp, paws_estab_rejected, "PAWSEstab");
    USTACK_C("TcpExt", tcp, challenge_acks, "TCPChallengeACK");
    USTACK_C("TcpExt", tcp, listen_overflows, "ListenOverflows");
    USTACK_C("TcpExt", tcp, listen_drops, "ListenDrops");
    USTACK_C("TcpExt", tcp, ofo_queue, "TCPOFOQueue");
    USTACK_C("TcpExt", tcp, ofo_drop, "TCPOFODrop");
    USTACK_C("TcpExt", tcp, fast_retrans, "TCPFastRetrans");
    USTACK_C("TcpExt", tcp, timeouts, "TCPTimeouts");
    USTACK_C("TcpExt", tcp, syn_retrans, "TCPSynRetrans");
    USTACK_C("TcpExt", tcp, lost_retransmit, "TCPLostRetransmit");
    USTACK_C("TcpExt", tcp, zero_window_probes, "TCPWinProbe");
    USTACK_C("TcpExt", tcp, keepalive_probes, "TCPKeepAlive");
    USTACK_C("TcpExt", tcp, abort_on_data, "TCPAbortOnData");
    USTACK_C("TcpExt", tcp, abort_on_close, "TCPAbortOnClose");
    USTACK_C("TcpExt", tcp, abort_on_timeout, "TCPAbortOnTimeout");
    USTACK_C("TcpExt", tcp, abort_on_linger, "TCPAbortOnLinger");
    USTACK_C("TcpExt", tcp, time_wait_recycled, "TWRecycled");
    USTACK_C("TcpExt", tcp, rcv_window_full_drops, "TCPRcvWindowFullDrop");
    USTACK_C("TcpExt", tcp, bad_segment_drops, "TCPBadSegmentDrop");
    USTACK_C("TcpExt", tcp, fastopen_active, "TCPFastOpenActive");
    USTACK_C("TcpExt", tcp, fastopen_active_fail, "TCPFastOpenActiveFail");
#undef USTACK_C
}

}  // namespace ustack
