// IPv4 reassembly with DPDK's rte_ip_frag table (see frag_table.h for the bounds). The table is
// given the worker's millisecond clock as its "cycles", so its timeout is in milliseconds and
// tests can inject time.
//
// rte_ip_frag_table_del_expired_entries is still experimental in DPDK 22.11; without it a
// datagram that never completes would wait for another fragment to hash to its bucket.
#define ALLOW_EXPERIMENTAL_API
#include "fragments.h"

#include "nat.h"

#include <rte_ip_frag.h>

namespace ulvs::dp {

namespace {

constexpr uint16_t eth_len = 14;
constexpr uint8_t proto_tcp = 6, proto_udp = 17;
constexpr uint16_t ip_mf = 0x2000, ip_offset_mask = 0x1fff;

// Count what the last table call put on the death row as `why`, and free it.
void bury(worker_ctx& w, drop why) noexcept {
    rte_ip_frag_death_row& dr = w.frags.death_row();
    if (dr.cnt == 0)
        return;
    w.ctr.drops[static_cast<size_t>(why)] += dr.cnt;
    rte_ip_frag_free_death_row(&dr, 0);
}

// Move bytes from the following segments into the first until it holds `want` bytes: the
// headers of a datagram whose first fragment was cut short (a tiny first fragment leaves the
// TCP header split across segments, and the data path reads headers from the first segment).
bool pull_up(rte_mbuf* m, uint32_t want) noexcept {
    while (m->data_len < want && m->next != nullptr) {
        rte_mbuf* n = m->next;
        const uint16_t k = static_cast<uint16_t>(
            want - m->data_len < n->data_len ? want - m->data_len : n->data_len);
        if (rte_pktmbuf_tailroom(m) < k)
            return false;
        std::memcpy(rte_pktmbuf_mtod_offset(m, uint8_t*, m->data_len),
                    rte_pktmbuf_mtod(n, const uint8_t*), k);
        m->data_len = static_cast<uint16_t>(m->data_len + k);
        n->data_off = static_cast<uint16_t>(n->data_off + k);
        n->data_len = static_cast<uint16_t>(n->data_len - k);
        if (n->data_len == 0) {
            m->next = n->next;
            --m->nb_segs;
            n->next = nullptr;
            n->nb_segs = 1;
            rte_pktmbuf_free_seg(n);
        }
    }
    return m->data_len >= want;
}

} // namespace

frag_table::frag_table(int socket)
    : m_tbl(rte_ip_frag_table_create(hash_buckets, hash_ways, max_datagrams, timeout_ms, socket)),
      m_dr(std::make_unique<rte_ip_frag_death_row>()) {
    static_assert(max_pieces == RTE_LIBRTE_IP_FRAG_MAX_FRAG);
}

frag_table::~frag_table() {
    if (m_tbl != nullptr)
        rte_ip_frag_table_destroy(m_tbl); // frees the mbufs it still holds
    if (m_dr->cnt != 0)
        rte_ip_frag_free_death_row(m_dr.get(), 0);
}

void expire_fragments(worker_ctx& w, uint64_t now_ms) noexcept {
    if (w.frags.table() == nullptr)
        return;
    rte_ip_frag_table_del_expired_entries(w.frags.table(), &w.frags.death_row(), now_ms);
    bury(w, drop::frag_timeout);
}

namespace detail {

rte_mbuf* fragment_in(worker_ctx& w, rte_mbuf* m, const parsed_pkt& pp, uint8_t in_port,
                      uint64_t now_ms) noexcept {
    // Only what the data path forwards is worth table space: TCP and UDP to VIPs or from real
    // servers (the rest of the classification happens on the whole datagram).
    if ((pp.ip_proto != proto_tcp && pp.ip_proto != proto_udp) || w.frags.table() == nullptr) {
        drop_pkt(w, m, drop::ip_fragment);
        return nullptr;
    }
    uint8_t* ip = rte_pktmbuf_mtod_offset(m, uint8_t*, eth_len);
    if (w.n_workers > 1) {
        const uint32_t o = frag_owner(pp.src_ip, pp.dst_ip, load16(ip + 4), w.n_workers);
        if (o != w.id) {
            m->port = in_port; // the reassembling worker needs the port index
            w.redirect[o].pkts[w.redirect[o].n++] = m;
            ++w.ctr.redirected;
            return nullptr;
        }
    }
    ++w.ctr.frags_in;
    // One segment per fragment (ports are set up without scattered RX, so a received frame is one
    // mbuf): the reassembled chain then has one segment per fragment, which frags_merged counts.
    if (m->nb_segs != 1 && rte_pktmbuf_linearize(m) != 0) {
        drop_pkt(w, m, drop::frag_failed);
        return nullptr;
    }
    // RFC 791: every fragment but the last carries a multiple of 8 bytes, and a datagram ends
    // below 64 KiB. The table would drop these too, but indistinguishably from a full table.
    const uint16_t word = rte_be_to_cpu_16(load16(ip + 6));
    const uint32_t data = pp.l4_len;
    if (data == 0 || ((word & ip_mf) && data % 8 != 0) ||
        (word & ip_offset_mask) * 8u + data > 0xffffu - pp.ip_hdr_len) {
        drop_pkt(w, m, drop::frag_invalid);
        return nullptr;
    }
    expire_fragments(w, now_ms);
    // Ethernet padding of a short fragment would end up inside the datagram.
    const uint32_t frame_len = uint32_t{eth_len} + pp.ip_total_len;
    if (rte_pktmbuf_pkt_len(m) > frame_len)
        rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - frame_len));
    m->l2_len = eth_len;
    m->l3_len = pp.ip_hdr_len;
    rte_ip_frag_death_row& dr = w.frags.death_row();
    rte_mbuf* d = rte_ipv4_frag_reassemble_packet(w.frags.table(), &dr, m, now_ms,
                                                  reinterpret_cast<rte_ipv4_hdr*>(ip));
    // With the checks above, the only call that drops just the new fragment is one that finds no
    // free entry for a new datagram; dropping a datagram drops at least two fragments (one held
    // and this one).
    bury(w, d == nullptr && dr.cnt == 1 ? drop::frag_table_full : drop::frag_invalid);
    if (d == nullptr)
        return nullptr;
    ++w.ctr.reassembled;
    w.ctr.frags_merged += d->nb_segs - 1u;
    uint8_t* l3 = rte_pktmbuf_mtod_offset(d, uint8_t*, eth_len);
    detail::set_ip_checksum(l3, static_cast<uint8_t>((l3[0] & 0x0f) * 4));
    const uint32_t l4_hdr = pp.ip_proto == proto_tcp ? 60 : 8; // TCP: options up to 40 bytes
    const uint32_t hdrs = uint32_t{eth_len} + pp.ip_hdr_len + l4_hdr;
    if (!pull_up(d, hdrs < d->pkt_len ? hdrs : d->pkt_len)) {
        drop_pkt(w, d, drop::frag_invalid);
        return nullptr;
    }
    return d;
}

} // namespace detail

} // namespace ulvs::dp
