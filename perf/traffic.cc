#include "traffic.h"

#include "frames.h"
#include "harness.h"
#include "ulvs/dataplane/pkt/csum.h"

#include <rte_mbuf.h>

#include <arpa/inet.h>

#include <cmath>
#include <cstring>

namespace ulvs::perf {

namespace {

constexpr double zipf_s = 0.99;
constexpr uint8_t fin = 0x01, syn = 0x02, ack = 0x10;
constexpr size_t ip_at = 14, l4_at = 34;
constexpr size_t payload = 6; // 14 + 20 + 20 + 6 = 60 bytes, the Ethernet minimum without FCS

const test::mac6 router = {2, 0, 0, 0, 0, 1};

// splitmix64: packet k's random choice, stateless so any batch can be regenerated.
uint64_t mix(uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// The mixed stream's special packets: two per client burst (at these offsets), in cycles of six.
constexpr uint64_t special_at[2] = {0, 16};
constexpr uint64_t special_cycle = 6;

// Packet index of special packet q.
uint64_t special_packet(uint64_t q) noexcept {
    return q / 2 * traffic::burst + special_at[q % 2];
}

uint32_t get32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
uint16_t get16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}

} // namespace

// Flow i: client 198.18.0.0 + i mod 2^17 (the whole /15), port 1024 + i / 2^17 (network order).
uint32_t traffic::client_ip(uint32_t flow) noexcept {
    return htonl((198u << 24 | 18u << 16) + (flow & 0x1ffff));
}
uint16_t traffic::client_port(uint32_t flow) noexcept {
    return htons(static_cast<uint16_t>(1024 + (flow >> 17)));
}

traffic::traffic(const traffic_params& p) : m_p(p) {
    const test::mac6 wan = test::pcap_port_mac(0), lan = test::pcap_port_mac(1);
    m_request = test::make_frame({"198.18.0.0", vip, 1024, vport, 6}, router, wan, ack, payload);
    if (p.snat) { // the real server opens the connections; the remote ends answer on wan
        const test::mac6 rs_mac = {2, 0, 0, 0, 0, 0x11};
        m_request = test::make_frame({"198.51.100.11", "198.18.0.0", 34000, 1024, 6}, rs_mac, lan,
                                     ack, payload);
        m_replies.push_back(test::make_frame({"198.18.0.0", "203.0.113.10", 1024, 40000, 6}, router,
                                             wan, ack, payload));
        m_zipf_a = std::pow(double(p.flows) + 1, 1 - zipf_s) - 1;
        return;
    }
    for (uint32_t r = 0; r < p.n_rs; ++r) {
        const std::string rs = "198.51.100." + std::to_string(11 + r);
        const test::mac6 rs_mac = {2, 0, 0, 0, 0, static_cast<uint8_t>(0x11 + r)};
        m_replies.push_back(
            test::make_frame({rs, "198.18.0.0", vport, 1024, 6}, rs_mac, lan, ack, payload));
    }
    m_zipf_a = std::pow(double(p.flows) + 1, 1 - zipf_s) - 1;
}

uint32_t traffic::flow_of(uint64_t k) const noexcept {
    const uint64_t h = mix(k);
    if (m_p.dist == flow_dist::uniform)
        return static_cast<uint32_t>((unsigned __int128){h} * m_p.flows >> 64);
    // Inverse CDF of the continuous approximation of Zipf(s) over ranks 1..N; ranks are then
    // scattered over the flows (multiplication by a prime is a bijection modulo N) so the popular
    // flows are not neighbours in the table.
    const double u = double(h >> 11) * 0x1.0p-53;
    auto rank = static_cast<uint64_t>(std::pow(1 + u * m_zipf_a, 1 / (1 - zipf_s))) - 1;
    if (rank >= m_p.flows)
        rank = m_p.flows - 1;
    return static_cast<uint32_t>(rank * 2654435761ull % m_p.flows);
}

void traffic::write(rte_mbuf* m, const test::frame& tmpl, uint32_t flow, bool reply,
                    uint8_t flags) const {
    auto* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(tmpl.size())));
    std::memcpy(f, tmpl.data(), tmpl.size());
    // The client end moves; the checksums follow incrementally from the template's.
    uint8_t* ip = f + ip_at;
    uint8_t* l4 = f + l4_at;
    const size_t ip_off = reply ? 16 : 12, port_off = reply ? 2 : 0;
    const uint32_t new_ip = client_ip(flow);
    const uint16_t new_port = client_port(flow);
    uint16_t ipsum = get16(ip + 10), tcpsum = get16(l4 + 16);
    dp::csum_replace4(ipsum, get32(ip + ip_off), new_ip);
    dp::csum_replace4(tcpsum, get32(ip + ip_off), new_ip);
    dp::csum_replace2(tcpsum, get16(l4 + port_off), new_port);
    dp::csum_replace2(tcpsum, uint16_t{l4[13]}, uint16_t{flags}); // flags: low byte, same word
    std::memcpy(ip + 10, &ipsum, 2);
    std::memcpy(ip + ip_off, &new_ip, 4);
    std::memcpy(l4 + port_off, &new_port, 2);
    l4[13] = flags;
    std::memcpy(l4 + 16, &tcpsum, 2);
    // What a NIC with IP checksum offload reports; the parser then skips its own check.
    m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD;
}

uint32_t traffic::mixed_flow(uint64_t k, uint8_t& flags) const noexcept {
    flags = ack;
    const uint64_t at = k % burst;
    if (at != special_at[0] && at != special_at[1])
        return flow_of(k);
    const uint64_t q = k / burst * 2 + (at == special_at[0] ? 0 : 1);
    const uint64_t phase = q % special_cycle;
    // Phases 0-2 act on the flow picked at phase 0, 3-5 on the one picked at phase 3.
    const uint32_t subject = flow_of(special_packet(q - phase % 3));
    constexpr uint8_t rst = 0x04;
    constexpr uint8_t flags_of[special_cycle] = {fin | ack, syn, ack, rst | ack, syn, ack};
    flags = flags_of[phase];
    return subject;
}

bool traffic::fill(stream_kind s, uint64_t k, uint16_t n, rte_mempool* pool, rte_mbuf** out) const {
    if (rte_pktmbuf_alloc_bulk(pool, out, n) != 0)
        return false;
    const bool reply = reply_burst(s, k);
    // write() moves the flow's end: the client (the source of requests), or for SNAT the remote
    // end (the destination of requests).
    const bool req_moves_dst = m_p.snat;
    for (uint16_t i = 0; i < n; ++i) {
        const uint64_t pk = k + i;
        if (s == stream_kind::handshake) {
            // Burst 2m: SYNs of flows 32m.., burst 2m+1: their ACKs.
            const uint64_t b = pk / burst;
            const auto flow = static_cast<uint32_t>((b / 2) * burst + pk % burst);
            write(out[i], m_request, flow % m_p.flows, req_moves_dst, (b & 1) ? ack : syn);
            continue;
        }
        uint8_t flags = ack;
        const uint32_t flow =
            s == stream_kind::mixed && !reply ? mixed_flow(pk, flags) : flow_of(pk);
        const uint32_t rs = m_p.snat ? 0 : m_p.rs_of != nullptr ? m_p.rs_of[flow] : flow % m_p.n_rs;
        write(out[i], reply ? m_replies[rs] : m_request, flow, reply != req_moves_dst, flags);
    }
    return true;
}

} // namespace ulvs::perf
