#include "tunnel.h"

#include "nat.h"
#include "xmit.h"

#include <rte_ip.h>
#include <rte_ip_frag.h>

namespace ulvs::dp::detail {

namespace {

constexpr uint16_t outer_len = sizeof(rte_ipv4_hdr); // IPIP adds one option-less header
constexpr uint8_t proto_ipip = 4, ttl = 64;
constexpr uint8_t icmp_unreach = 3, icmp_frag_needed = 4;
constexpr uint16_t eth_len = sizeof(rte_ether_hdr);

// RFC 792/1191: the error quotes the offending IP header and the first 8 bytes of its payload.
void send_frag_needed(worker_ctx& w, const rte_mbuf* orig, uint8_t in_port, uint16_t mtu) {
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
    store32(ip + ip_src, w.snap->port_addr[in_port]);
    store32(ip + ip_dst, load32(oip + ip_src));
    set_ip_checksum(ip, 20);
    uint8_t* icmp = ip + 20;
    icmp[0] = icmp_unreach;
    icmp[1] = icmp_frag_needed;
    store16(icmp + 6, rte_cpu_to_be_16(mtu));
    std::memcpy(icmp + 8, oip, quote);
    store16(icmp + 2, inet_checksum(icmp, 8u + quote));
    ++w.ctr.icmp_sent;
    stage(w, w.tx[in_port], m);
}

// Turn Ethernet + inner IP into Ethernet + outer IP + inner IP, in place (mbuf headroom).
bool encapsulate(const conn& c, rte_mbuf* m, uint16_t ip_len) {
    auto* front = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, outer_len));
    if (front == nullptr)
        return false;
    std::memmove(front, front + outer_len, eth_len);
    uint8_t* outer = front + eth_len;
    const uint8_t* inner = outer + outer_len;
    outer[0] = 0x45;
    outer[1] = inner[1]; // TOS copied
    store16(outer + 2, rte_cpu_to_be_16(static_cast<uint16_t>(ip_len + outer_len)));
    store16(outer + 4, load16(inner + 4)); // id
    store16(outer + 6, load16(inner + 6) & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG));
    outer[8] = ttl;
    outer[9] = proto_ipip;
    store32(outer + ip_src, c.tun_src);
    store32(outer + ip_dst, c.dest_ip);
    set_ip_checksum(outer, 20);
    return true;
}

// Non-DF and too big: IP-fragment the encapsulated packet (RFC 791), each piece with its own
// Ethernet header and outer checksum.
bool fragment_and_send(worker_ctx& w, const conn& c, rte_mbuf* m, uint16_t mtu) {
    rte_pktmbuf_adj(m, eth_len);
    rte_mbuf* frags[4];
    const int32_t n = rte_ipv4_fragment_packet(m, frags, 4, mtu, w.pool, w.pool);
    rte_pktmbuf_free(m); // the fragments hold their own references to the data
    if (n <= 0) {
        w.ctr.count_drop(drop::frag_failed);
        return false;
    }
    for (int32_t i = 0; i < n; ++i) {
        rte_mbuf* f = frags[i];
        auto* eth = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(f, eth_len));
        if (eth == nullptr) {
            drop_pkt(w, f, drop::frag_failed);
            continue;
        }
        store16(eth + 12, rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4));
        set_ip_checksum(eth + eth_len, 20);
        if (send_to(w, f, c.out_port, c.neigh))
            ++w.ctr.fragments;
    }
    return true;
}

} // namespace

bool forward_tun(worker_ctx& w, const conn& c, rte_mbuf* m, uint16_t ip_len,
                 uint8_t in_port) noexcept {
    // The tunnel carries the IP packet only: no Ethernet padding inside it.
    if (rte_pktmbuf_pkt_len(m) > uint32_t{eth_len} + ip_len)
        rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - eth_len - ip_len));
    const uint16_t mtu = w.ports[c.out_port].mtu;
    const bool fits = ip_len + outer_len <= mtu;
    const uint8_t* inner = rte_pktmbuf_mtod(m, const uint8_t*) + eth_len;
    if (!fits && (load16(inner + 6) & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))) {
        send_frag_needed(w, m, in_port, static_cast<uint16_t>(mtu - outer_len));
        drop_pkt(w, m, drop::too_big);
        return false;
    }
    if (!encapsulate(c, m, ip_len)) {
        drop_pkt(w, m, drop::frag_failed);
        return false;
    }
    return fits ? send_to(w, m, c.out_port, c.neigh) : fragment_and_send(w, c, m, mtu);
}

} // namespace ulvs::dp::detail
