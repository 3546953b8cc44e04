#include "mtu.h"

#include "nat.h"
#include "xmit.h"

#include <rte_ip.h>
#include <rte_ip_frag.h>

namespace ulvs::dp::detail {

namespace {

constexpr uint16_t eth_len = sizeof(rte_ether_hdr);
constexpr uint8_t ttl = 64;
constexpr uint8_t icmp_unreach = 3, icmp_frag_needed = 4;
// Pieces one packet may become: a 9216-byte packet over a 1280-byte MTU needs 8; smaller MTUs
// that cut more are refused (frag_failed) rather than flooding the TX stage.
constexpr uint16_t max_pieces_out = 8;

inline bool has_df(const uint8_t* l3) noexcept {
    return (load16(l3 + 6) & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG)) != 0;
}

// IP-fragment the packet in `m` (RFC 791) to `mtu` and stage each piece with its own Ethernet
// header and header checksum. rte_ipv4_fragment_packet gives each piece a direct mbuf for the
// headers chained to indirect mbufs over the original data.
bool fragment_and_send(worker_ctx& w, rte_mbuf* m, uint8_t out, uint32_t slot,
                       uint16_t mtu) noexcept {
    rte_pktmbuf_adj(m, eth_len);
    rte_mbuf* frags[max_pieces_out];
    const int32_t n = rte_ipv4_fragment_packet(m, frags, max_pieces_out, mtu, w.pool, w.pool);
    rte_pktmbuf_free(m); // the fragments hold their own references to the data
    if (n <= 0) {
        w.ctr.count_drop(drop::frag_failed);
        return false;
    }
    bool any = false;
    for (int32_t i = 0; i < n; ++i) {
        rte_mbuf* f = frags[i];
        auto* eth = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(f, eth_len));
        if (eth == nullptr) {
            drop_pkt(w, f, drop::frag_failed);
            continue;
        }
        store16(eth + 12, rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4));
        set_ip_checksum(eth + eth_len, static_cast<uint8_t>((eth[eth_len] & 0x0f) * 4));
        if (send_whole(w, f, out, slot)) {
            ++w.ctr.fragments;
            any = true;
        }
    }
    return any;
}

} // namespace

// RFC 792/1191: the error quotes the offending IP header and the first 8 bytes of its payload.
void send_icmp_error(worker_ctx& w, const rte_mbuf* orig, uint8_t in_port, uint8_t type,
                     uint8_t code, uint32_t word, uint32_t src) noexcept {
    const auto* o = rte_pktmbuf_mtod(orig, const uint8_t*);
    const uint8_t* oip = o + eth_len;
    const uint16_t oihl = static_cast<uint16_t>((oip[0] & 0x0f) * 4);
    const uint16_t olen = rte_be_to_cpu_16(load16(oip + 2));
    const uint16_t quote = static_cast<uint16_t>(oihl + (olen - oihl < 8 ? olen - oihl : 8));
    rte_mbuf* m = rte_pktmbuf_alloc(w.pool);
    auto* f = m ? reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, eth_len + 28 + quote)) : nullptr;
    if (f == nullptr) {
        if (m)
            rte_pktmbuf_free(m);
        w.ctr.count_drop(drop::frag_failed);
        return;
    }
    std::memcpy(f, o + 6, 6); // back to whoever sent it to us
    std::memcpy(f + 6, w.ports[in_port].mac.data(), 6);
    store16(f + 12, rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4));
    uint8_t* ip = f + eth_len;
    std::memset(ip, 0, 28);
    ip[0] = 0x45;
    store16(ip + 2, rte_cpu_to_be_16(static_cast<uint16_t>(28 + quote)));
    ip[8] = ttl;
    ip[9] = IPPROTO_ICMP;
    store32(ip + ip_src, src);
    store32(ip + ip_dst, load32(oip + ip_src));
    set_ip_checksum(ip, 20);
    uint8_t* icmp = ip + 20;
    icmp[0] = type;
    icmp[1] = code;
    store32(icmp + 4, rte_cpu_to_be_32(word));
    std::memcpy(icmp + 8, oip, quote);
    store16(icmp + 2, inet_checksum(icmp, 8u + quote));
    ++w.ctr.icmp_sent;
    stage(w, w.tx[in_port], m);
}

uint16_t ip_total_len(const rte_mbuf* m) noexcept {
    return rte_be_to_cpu_16(load16(rte_pktmbuf_mtod(m, const uint8_t*) + eth_len + 2));
}

bool send_whole(worker_ctx& w, rte_mbuf* m, uint8_t out, uint32_t slot) noexcept {
    // rte_pktmbuf_linearize copies the chain into the first segment's tailroom: a direct mbuf
    // (received, or the header mbuf of a fragment) has a whole data room, enough for any frame
    // up to it; a bigger one cannot leave such a port.
    if (m->nb_segs > 1 && !w.ports[out].multi_seg && rte_pktmbuf_linearize(m) != 0) {
        drop_pkt(w, m, drop::frag_failed);
        return false;
    }
    return send_to(w, m, out, slot);
}

bool send_sized(worker_ctx& w, rte_mbuf* m, uint8_t out, uint32_t slot) noexcept {
    const uint16_t ip_len = ip_total_len(m);
    const uint16_t mtu = w.ports[out].mtu;
    if (ip_len <= mtu)
        return m->nb_segs == 1 ? send_to(w, m, out, slot) : send_whole(w, m, out, slot);
    // Ethernet padding is no part of the IP packet (fragments carry only IP data).
    if (rte_pktmbuf_pkt_len(m) > uint32_t{eth_len} + ip_len)
        rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - eth_len - ip_len));
    if (slot == neigh_table::no_slot) { // nothing to send to: no need to cut it first
        drop_pkt(w, m, drop::neigh_unresolved);
        return false;
    }
    return fragment_and_send(w, m, out, slot, mtu);
}

bool send_routed_sized(worker_ctx& w, rte_mbuf* m, uint32_t dst) noexcept {
    if (m->nb_segs == 1 && ip_total_len(m) <= w.min_mtu)
        return send_routed(w, m, dst);
    const next_hop* hop = w.snap->route(dst);
    if (hop == nullptr) {
        drop_pkt(w, m, drop::no_route);
        return false;
    }
    const uint32_t slot = hop->gateway != 0 ? hop->neigh : w.neigh->find(dst);
    if (slot == neigh_table::no_slot && hop->gateway == 0)
        return send_routed(w, m, dst); // asks the control lcore to resolve it
    return send_sized(w, m, hop->port, slot);
}

bool refuse_too_big(worker_ctx& w, rte_mbuf* m, uint16_t ip_len, uint16_t mtu, uint8_t in_port,
                    uint32_t icmp_src) noexcept {
    const auto* l3 = rte_pktmbuf_mtod(m, const uint8_t*) + eth_len;
    if (ip_len <= mtu || !has_df(l3))
        return false;
    send_icmp_error(w, m, in_port, icmp_unreach, icmp_frag_needed, mtu, icmp_src);
    drop_pkt(w, m, drop::too_big);
    return true;
}

bool refuse_too_big_routed(worker_ctx& w, rte_mbuf* m, uint16_t ip_len, uint32_t dst,
                           uint8_t in_port, uint32_t icmp_src) noexcept {
    if (ip_len <= w.min_mtu)
        return false;
    const next_hop* hop = w.snap->route(dst);
    return hop != nullptr &&
           refuse_too_big(w, m, ip_len, w.ports[hop->port].mtu, in_port, icmp_src);
}

} // namespace ulvs::dp::detail
