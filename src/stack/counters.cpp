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
#undef USTACK_C
}

}  // namespace ustack
