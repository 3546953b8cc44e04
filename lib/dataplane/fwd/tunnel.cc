#include "tunnel.h"

#include "mtu.h"
#include "nat.h"
#include "xmit.h"

#include <rte_ip.h>

namespace ulvs::dp::detail {

namespace {

constexpr uint16_t outer_len = sizeof(rte_ipv4_hdr); // IPIP adds one option-less header
constexpr uint8_t proto_ipip = 4, ttl = 64;
constexpr uint16_t eth_len = sizeof(rte_ether_hdr);

// Turn Ethernet + inner IP into Ethernet + outer IP + inner IP, in place (mbuf headroom). The
// outer header copies DF: with it, the outer packet is atomic and its ID may be the inner's;
// without, it may be fragmented (here or on the way) and needs an ID of its own (RFC 6864).
bool encapsulate(worker_ctx& w, const conn& c, rte_mbuf* m, uint16_t ip_len) {
    auto* front = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, outer_len));
    if (front == nullptr)
        return false;
    std::memmove(front, front + outer_len, eth_len);
    uint8_t* outer = front + eth_len;
    const uint8_t* inner = outer + outer_len;
    outer[0] = 0x45;
    outer[1] = inner[1]; // TOS copied
    store16(outer + 2, rte_cpu_to_be_16(static_cast<uint16_t>(ip_len + outer_len)));
    const uint16_t df = load16(inner + 6) & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    store16(outer + 4, df ? load16(inner + 4) : rte_cpu_to_be_16(next_ip_id(w)));
    store16(outer + 6, df);
    outer[8] = ttl;
    outer[9] = proto_ipip;
    store32(outer + ip_src, c.tun_src);
    store32(outer + ip_dst, c.dest_ip);
    set_ip_checksum(outer, 20);
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
    // The error comes from the port it arrived on (the tunnel is ours, not the VIP's).
    if (!fits && refuse_too_big(w, m, ip_len, static_cast<uint16_t>(mtu - outer_len), in_port,
                                w.snap->port_addr[in_port]))
        return false;
    if (!encapsulate(w, c, m, ip_len)) {
        drop_pkt(w, m, drop::frag_failed);
        return false;
    }
    return send_sized(w, m, c.out_port, c.neigh);
}

} // namespace ulvs::dp::detail
