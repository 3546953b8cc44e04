#include "ulvs/control/exception/responder.h"

#include "ulvs/dataplane/fwd/worker.h"
#include "ulvs/dataplane/pkt/parse.h"

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <arpa/inet.h>
#include <cstring>

namespace ulvs::ctl {

namespace {

constexpr uint8_t icmp_echo_request = 8, icmp_echo_reply = 0;
constexpr uint8_t reply_ttl = 64; // as Linux answers pings

// Ours to answer for: our addresses and the VIPs we hold (a VRRP backup leaves its virtual
// addresses to the master).
bool is_ours(const dp::snapshot& snap, uint32_t ip_be) {
    auto info = snap.addrs.find(ip_be);
    return info && snap.held(dp::unpack_addr_info(*info));
}

bool is_ours_on(const dp::snapshot& snap, uint32_t ip_be, uint8_t port) {
    auto info = snap.addrs.find(ip_be);
    return is_ours(snap, ip_be) && dp::unpack_addr_info(*info).port == port;
}

exception_verdict handle_arp(const dp::snapshot& snap, const std::vector<port_addrs>& ports,
                             neigh_manager& neigh, rte_mbuf* m, uint8_t in_port, uint64_t now_ms) {
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
    if (arp->arp_hardware != htons(RTE_ARP_HRD_ETHER) ||
        arp->arp_protocol != htons(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 || arp->arp_plen != 4)
        return exception_verdict::consumed;
    rte_arp_ipv4& a = arp->arp_data;
    mac_addr sender;
    std::memcpy(sender.b.data(), a.arp_sha.addr_bytes, 6);
    neigh.learn(ip_addr::from_v4(ntohl(a.arp_sip)), in_port, sender, now_ms);

    if (arp->arp_opcode != htons(RTE_ARP_OP_REQUEST) || !is_ours_on(snap, a.arp_tip, in_port))
        return exception_verdict::consumed;

    // Turn the request into the reply in place.
    const auto& mac = ports[in_port].mac;
    std::memcpy(eth->dst_addr.addr_bytes, a.arp_sha.addr_bytes, 6);
    std::memcpy(eth->src_addr.addr_bytes, mac.data(), 6);
    arp->arp_opcode = htons(RTE_ARP_OP_REPLY);
    a.arp_tha = a.arp_sha;
    std::memcpy(a.arp_sha.addr_bytes, mac.data(), 6);
    const uint32_t requested = a.arp_tip; // packed fields: no std::swap on references
    a.arp_tip = a.arp_sip;
    a.arp_sip = requested;
    // Drop any Ethernet padding of the request: the reply is exactly Ethernet + ARP.
    const uint16_t len = sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr);
    rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - len));
    return exception_verdict::reply;
}

exception_verdict handle_icmp(const std::vector<port_addrs>& ports, const dp::parsed_pkt& pp,
                              rte_mbuf* m, uint8_t in_port) {
    auto* base = rte_pktmbuf_mtod(m, uint8_t*);
    auto* icmp = reinterpret_cast<rte_icmp_hdr*>(base + pp.l4_off);
    if (icmp->icmp_type != icmp_echo_request || icmp->icmp_code != 0)
        return exception_verdict::consumed;
    auto* eth = reinterpret_cast<rte_ether_hdr*>(base);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(base + pp.l3_off);

    eth->dst_addr = eth->src_addr;
    std::memcpy(eth->src_addr.addr_bytes, ports[in_port].mac.data(), 6);
    const uint32_t src = ip->src_addr;
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = src;
    ip->time_to_live = reply_ttl;
    ip->hdr_checksum = 0;
    ip->hdr_checksum = dp::inet_checksum(ip, pp.ip_hdr_len);
    icmp->icmp_type = icmp_echo_reply;
    icmp->icmp_cksum = 0;
    icmp->icmp_cksum = dp::inet_checksum(icmp, pp.l4_len);
    // Reply with exactly the IP packet, without the request's Ethernet padding.
    const uint32_t len = pp.l3_off + pp.ip_total_len;
    rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - len));
    return exception_verdict::reply;
}

} // namespace

exception_verdict handle_exception(const dp::snapshot& snap, const std::vector<port_addrs>& ports,
                                   neigh_manager& neigh, rte_mbuf* m, uint8_t in_port,
                                   uint64_t now_ms) {
    if (in_port >= ports.size() || rte_pktmbuf_data_len(m) != rte_pktmbuf_pkt_len(m))
        return exception_verdict::consumed;
    dp::parsed_pkt pp;
    // Workers already validated the frame; parse again for offsets (cheap, control path only).
    if (dp::parse_frame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), true, pp) !=
        dp::drop::none)
        return exception_verdict::consumed;
    if (pp.kind == dp::frame_kind::arp)
        return handle_arp(snap, ports, neigh, m, in_port, now_ms);
    if (pp.ip_proto == IPPROTO_ICMP && is_ours(snap, pp.dst_ip))
        return handle_icmp(ports, pp, m, in_port);
    return exception_verdict::consumed;
}

bool handle_resolve_request(neigh_manager& neigh, const rte_mbuf* m) {
    if (!(m->port & dp::mbuf_port_resolve_request))
        return false;
    neigh.slot_for(ip_addr::from_v4(ntohl(m->hash.usr)), static_cast<uint8_t>(m->port & 0xff));
    return true;
}

rte_mbuf* make_arp_request(rte_mempool* pool, const port_addrs& port, ip_addr target) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr)
        return nullptr;
    const uint16_t len = sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr);
    auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_append(m, len));
    if (eth == nullptr) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
    std::memset(eth->dst_addr.addr_bytes, 0xff, 6);
    std::memcpy(eth->src_addr.addr_bytes, port.mac.data(), 6);
    eth->ether_type = htons(RTE_ETHER_TYPE_ARP);
    arp->arp_hardware = htons(RTE_ARP_HRD_ETHER);
    arp->arp_protocol = htons(RTE_ETHER_TYPE_IPV4);
    arp->arp_hlen = 6;
    arp->arp_plen = 4;
    arp->arp_opcode = htons(RTE_ARP_OP_REQUEST);
    std::memcpy(arp->arp_data.arp_sha.addr_bytes, port.mac.data(), 6);
    ip_addr src = port.addresses.empty() ? ip_addr{} : port.addresses.front().addr;
    for (const ip_prefix& p : port.addresses)
        if (p.contains(target))
            src = p.addr;
    arp->arp_data.arp_sip = htonl(src.v4);
    std::memset(arp->arp_data.arp_tha.addr_bytes, 0, 6);
    arp->arp_data.arp_tip = htonl(target.v4);
    return m;
}

} // namespace ulvs::ctl
