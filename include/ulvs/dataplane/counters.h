// Per-worker counters. Plain uint64_t written only by the owning worker and summed by the
// management plane when read (docs/architecture.md "Who owns which state"); a reader may see a
// value one update stale, never a torn one on x86-64.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace ulvs::dp {

// Every reason a worker drops a packet: one counter each. Enum and names come from this one list.
#define ULVS_FOREACH_DROP(_)                                                                       \
    _(eth_truncated, "frame shorter than an Ethernet header")                                      \
    _(not_our_mac, "unicast frame for another MAC")                                                \
    _(unknown_ethertype, "neither IPv4 nor ARP")                                                   \
    _(ip_truncated, "shorter than its IPv4 header")                                                \
    _(ip_bad_version, "IP version is not 4")                                                       \
    _(ip_bad_ihl, "IHL below 5 or past the frame")                                                 \
    _(ip_bad_len, "total length below the header or past the frame")                               \
    _(ip_bad_checksum, "IPv4 header checksum wrong")                                               \
    _(ip_fragment, "IPv4 fragment of neither TCP nor UDP, or a datagram for us over one mbuf")     \
    _(l4_truncated, "TCP/UDP/ICMP header past the packet")                                         \
    _(tcp_bad_doff, "TCP data offset below 5 or past the packet")                                  \
    _(udp_bad_len, "UDP length field inconsistent")                                                \
    _(not_for_us, "IPv4 to an address that is neither ours nor a VIP")                             \
    _(no_service, "to a VIP on a port/protocol with no virtual server")                            \
    _(vip_not_owned, "to a VRRP virtual address this appliance is not MASTER for")                 \
    _(no_conn, "not a connection start and no connection matches")                                 \
    _(no_dest, "scheduler found no available real server")                                         \
    _(conn_table_full, "connection table full: new connection refused")                            \
    _(neigh_unresolved, "next hop MAC not resolved yet")                                           \
    _(ctrl_ring_full, "exception ring to the control lcore full")                                  \
    _(ctrl_prio_ring_full, "priority ring to the control lcore (ARP, VRRP, resolution) full")      \
    _(police_icmp_echo, "ICMP echo to our addresses or VIPs over control_policing.icmp_echo")      \
    _(police_exception, "other traffic for the control lcore over control_policing.exception")     \
    _(tx_full, "transmit queue refused the packet")                                                \
    _(ttl_exceeded, "routed NAT reply whose TTL would reach 0")                                    \
    _(no_route, "no route to the destination")                                                     \
    _(too_big, "DF packet too big for the egress MTU (ICMP fragmentation-needed sent back)")       \
    _(frag_failed, "fragmenting or linearising failed (no mbufs, over 8 pieces, over one mbuf)")   \
    _(icmp_no_conn, "ICMP error about a packet of no known connection")                            \
    _(redirect_ring_full, "ring to the owner worker full")                                         \
    _(frag_timeout, "fragment of a datagram not completed within the reassembly timeout")          \
    _(frag_table_full, "fragment of a new datagram while the reassembly table is full")            \
    _(frag_invalid, "fragments that make no datagram (overlap, over 8 pieces, bad lengths)")       \
    _(vip_ping_refused, "ICMP echo request to a virtual address with vips.answer_ping false")      \
    _(frame_cut, "over the MTU and short of its IP length: a sender's TSO/GSO via a packet "       \
                 "socket")                                                                         \
    _(police_sync, "connection sync datagrams over the sync policer (fwd/xmit.h sync_police)")

enum class drop : uint8_t {
#define ULVS_DROP_ENUM(name, text) name,
    ULVS_FOREACH_DROP(ULVS_DROP_ENUM)
#undef ULVS_DROP_ENUM
        count,
    none = count, // parse verdict: not dropped
};

std::string_view drop_name(drop d);        // "ip_bad_ihl"
std::string_view drop_description(drop d); // human text

struct worker_counters {
    uint64_t rx_pkts = 0;
    uint64_t rx_bytes = 0;
    uint64_t tx_pkts = 0;
    uint64_t tx_bytes = 0;
    // Every received packet (rx_pkts, summed over workers) ends as exactly one of: forwarded,
    // to_control, ctrl_ring_full, a drop other than tx_full (tx_full counts forwarded packets
    // a full TX queue refused), or merged into a reassembled datagram (frags_merged: a datagram
    // of k fragments ends once, as one packet, and counts k - 1 here). Packets crossing to their
    // owner worker (redirected) are counted once, where they end; fragments waiting for the rest
    // of their datagram (frag_table.h, at most its timeout) are in flight. scripts/soak checks
    // that sum.
    uint64_t forwarded = 0;  // sent on along a connection (a packet cut into fragments: once)
    uint64_t to_control = 0; // handed to the control lcore (ARP, ICMP to us, local traffic)
                             // through either of its rings
    uint64_t conns_created = 0;
    uint64_t conns_expired = 0;
    uint64_t conns_reclaimed = 0;      // half-open or closed entries ended to admit a new one
    uint64_t conns_expired_nodest = 0; // ended at a packet: their real server left (IPVS'
                                       // expire_nodest_conn; also counted in conns_expired)
    uint64_t templates_created = 0;    // persistence templates (not counted in conns_*)
    uint64_t templates_expired = 0;
    uint64_t redirected = 0;   // handed to the owner worker over its ring
    uint64_t fragments = 0;    // fragments sent (non-DF packets over the egress MTU)
    uint64_t frags_in = 0;     // IPv4 fragments received for reassembly
    uint64_t reassembled = 0;  // datagrams reassembled from them
    uint64_t frags_merged = 0; // fragments ended inside a reassembled datagram (k - 1 of k)
    uint64_t icmp_sent = 0;    // ICMP errors generated (fragmentation needed)
    // Partial TCP/UDP checksums (a sender's checksum offload, seen through af_packet or pcap)
    // completed before forwarding (pkt/l4_csum.h). Not an end: the packet goes on as usual.
    uint64_t csum_completed = 0;
    // lblc/lblcr (sched/locality.h): destinations forgotten before their expiration to make room
    // in a full bucket, and lblcr set members dropped from a full set.
    uint64_t locality_evicted = 0;
    // Connection sync (fwd/sync_msg.h), records not packets: put on the ring to the control
    // lcore, lost there because it was full (or this burst's stage was), received records
    // installed or updated in the table, and refused by reason (sync_refusal).
    uint64_t sync_queued = 0;
    uint64_t sync_dropped = 0;
    uint64_t sync_applied = 0;
    std::array<uint64_t, 4> sync_refused{};
    std::array<uint64_t, static_cast<size_t>(drop::count)> drops{};

    void count_drop(drop d) { ++drops[static_cast<size_t>(d)]; }
};

// Per virtual server and per real server, indexed by their stable stats_id (see snapshot.h).
struct traffic_counters {
    uint64_t conns = 0; // connections scheduled (ipvsadm "Conns")
    uint64_t in_pkts = 0;
    uint64_t in_bytes = 0;
    uint64_t out_pkts = 0;
    uint64_t out_bytes = 0;
};

// Live connection counts of a real server as IPVS keeps them (ESTABLISHED = active).
struct dest_conn_counts {
    int64_t active = 0; // signed: a worker may see more removals than additions of its own part
    int64_t inactive = 0;
    int64_t persistent = 0; // persistence templates naming it (ipvsadm "PersistConn")
};

} // namespace ulvs::dp
