// A worker's IPv4 reassembly table (issue 12: LVS balances fragments because the kernel
// reassembles before IPVS; UDP services with large datagrams - DNS with EDNS, SIP, games -
// depend on it).
//
// Bounded and preallocated, made once at start-up (rte_ip_frag_table_create): at most
// `max_datagrams` datagrams in reassembly per worker, each of at most `max_pieces` fragments
// (DPDK's RTE_LIBRTE_IP_FRAG_MAX_FRAG), each completed within `timeout_ms` of its first fragment
// or dropped. Memory per worker: the table, 2 x hash_buckets x hash_ways = 1024 entries of about
// 256 bytes (256 KB; a quarter full at most, so a new datagram practically never finds both of
// its buckets full), and the mbufs it holds: at most max_datagrams x (max_pieces - 1) = 1792
// from the shared pool. What it cannot take is dropped and counted: frag_table_full (no free
// entry), frag_invalid (overlapping, more than max_pieces, inconsistent lengths), frag_timeout
// (never completed). The data path neither allocates nor locks: entries come from the table,
// dropped mbufs go to its death row, emptied after every call.
//
// Which worker reassembles: fragments after the first carry no ports, so the connection's owner
// (owner_of, worker.h) cannot be computed from them. Every fragment of a datagram goes to the
// worker of frag_owner(src, dst, IP ID): the same for all of them. That worker reassembles and
// then handles the datagram as any packet, redirecting it to its connection's owner if that is
// another worker. Worker lcore only, like the rest of worker_ctx.
//
// What is reassembled: TCP and UDP fragments only (ICMP and other protocols are not forwarded by
// the data path: drop ip_fragment). The datagram is a chain of the fragments' mbufs; the data
// path reads headers from the first segment, so a first fragment too short for them (8 bytes of
// a TCP header, say) has the rest of the headers copied into it (up to 60 bytes of TCP header,
// 8 of UDP): such datagrams are forwarded, not dropped. A datagram for the appliance itself is
// copied into one mbuf for the control lcore, or dropped (ip_fragment) when it does not fit.
#pragma once

#include <cstdint>
#include <memory>

struct rte_ip_frag_tbl;
struct rte_ip_frag_death_row;

namespace ulvs::dp {

class frag_table {
public:
    static constexpr uint32_t max_datagrams = 256;
    static constexpr uint32_t hash_buckets = 128;
    static constexpr uint32_t hash_ways = 4;
    static constexpr uint32_t max_pieces = 8;
    static constexpr uint64_t timeout_ms = 2000; // RFC 791 suggests 15 s; LBs use 1-2 s

    explicit frag_table(int socket);
    ~frag_table();
    frag_table(const frag_table&) = delete;
    frag_table& operator=(const frag_table&) = delete;

    rte_ip_frag_tbl* table() const noexcept { return m_tbl; }
    rte_ip_frag_death_row& death_row() noexcept { return *m_dr; }

private:
    rte_ip_frag_tbl* m_tbl = nullptr; // nullptr when it could not be made: fragments are dropped
    std::unique_ptr<rte_ip_frag_death_row> m_dr;
};

// The worker that reassembles a datagram: a function of fields every fragment carries. All
// arguments in network order.
inline uint32_t frag_owner(uint32_t src_ip, uint32_t dst_ip, uint16_t ip_id,
                           uint32_t n_workers) noexcept {
    const uint32_t h = (src_ip ^ dst_ip * 0x9e3779b1u ^ uint32_t{ip_id} << 7) * 0x85ebca6bu;
    return (h >> 16) % n_workers;
}

} // namespace ulvs::dp
