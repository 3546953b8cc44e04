// The kernel exception path's filter (exception_filter.h).
#include "ulvs/control/exception/exception_filter.h"

#include <algorithm>
#include <netinet/in.h>

namespace ulvs::ctl {

namespace {

constexpr uint8_t icmp_echo_reply = 0, icmp_unreachable = 3, icmp_source_quench = 4,
                  icmp_echo_request = 8, icmp_time_exceeded = 11, icmp_param_problem = 12;
constexpr size_t icmp_hdr_len = 8;
// The longest probe plus time for its close (FIN/ACK or RST) and a late reply to go by.
constexpr uint64_t flow_margin_ms = 5000;
constexpr uint64_t min_flow_idle_ms = 10000;
// BGP (RFC 4271), BFD single hop control (RFC 5881), echo, multihop (RFC 5883).
constexpr uint16_t bgp_port = 179, bfd_port = 3784, bfd_echo_port = 3785, bfd_multihop_port = 4784;

uint16_t rd16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t rd32(const uint8_t* p) {
    return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

bool icmp_error(uint8_t type) {
    return type == icmp_unreachable || type == icmp_source_quench || type == icmp_time_exceeded ||
           type == icmp_param_problem;
}

uint64_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
}

} // namespace

exception_policy exception_policy::from_config(const config::config& c) {
    exception_policy p;
    uint64_t longest = 0;
    for (const auto& vs : c.virtual_servers)
        for (const auto& rs : vs.real_servers) {
            // As checker::sync: the real server's own checks, else its service's; each one's
            // address, else the real server's; its port, else the real server's, else the
            // service's.
            for (const auto& chk : rs.health.effective(vs.health)) {
                longest =
                    std::max<uint64_t>(longest, static_cast<uint64_t>(chk.connect_timeout.count()));
                const ip_addr to = chk.address.v4 != 0 ? chk.address : rs.address;
                if (chk.type == config::check_type::misc) {
                    p.misc.push_back(rs.address.v4);
                    continue;
                }
                const uint16_t port = chk.port != 0 ? chk.port : rs.port != 0 ? rs.port : vs.port;
                const uint8_t proto =
                    chk.type == config::check_type::udp ? IPPROTO_UDP : IPPROTO_TCP;
                p.checks.push_back(target_key(proto, to.v4, port));
            }
        }
    std::sort(p.checks.begin(), p.checks.end());
    p.checks.erase(std::unique(p.checks.begin(), p.checks.end()), p.checks.end());
    std::sort(p.misc.begin(), p.misc.end());
    p.misc.erase(std::unique(p.misc.begin(), p.misc.end()), p.misc.end());
    p.flow_idle_ms = std::max(min_flow_idle_ms, longest + flow_margin_ms);
    for (const ip_addr& peer : c.announce.peers)
        p.peers.push_back(peer.v4);
    std::sort(p.peers.begin(), p.peers.end());
    for (const config::exception_allow_cfg& a : c.exception_path.allow) {
        rule r;
        for (size_t i = 0; i < c.ports.size(); ++i)
            if (c.ports[i].name == a.port)
                r.port = static_cast<int>(i);
        r.proto = static_cast<uint8_t>(a.protocol);
        r.ports = a.ports;
        r.sources = a.sources;
        p.allow.push_back(std::move(r));
    }
    return p;
}

size_t exception_filter::flow_hash::operator()(const flow_key& k) const noexcept {
    return mix((uint64_t{k.local_ip} << 32 | k.remote_ip) ^
               mix(uint64_t{k.local_port} << 24 | uint64_t{k.remote_port} << 8 | k.proto));
}

bool exception_filter::is_target(uint8_t proto, uint32_t addr, uint16_t port) const {
    if (std::binary_search(m_policy.misc.begin(), m_policy.misc.end(), addr))
        return true;
    return std::binary_search(m_policy.checks.begin(), m_policy.checks.end(),
                              exception_policy::target_key(proto, addr, port));
}

void exception_filter::rotate(uint64_t now) {
    if (now < m_rotate_at)
        return;
    // The flows untouched for a whole period go (touched ones were moved to m_cur); after a
    // longer silence, all of them.
    if (now >= m_rotate_at + m_policy.flow_idle_ms)
        m_cur.clear();
    m_old = std::move(m_cur);
    m_cur = flow_map{};
    m_rotate_at = now + m_policy.flow_idle_ms;
}

bool exception_filter::known(const flow_key& k, uint64_t now, bool refresh) {
    auto it = m_cur.find(k);
    if (it != m_cur.end()) {
        if (now - it->second >= m_policy.flow_idle_ms)
            return false;
        if (refresh)
            it->second = now;
        return true;
    }
    it = m_old.find(k);
    if (it == m_old.end() || now - it->second >= m_policy.flow_idle_ms)
        return false;
    if (refresh) {
        m_old.erase(it);
        m_cur.emplace(k, now);
    }
    return true;
}

void exception_filter::outbound(const uint8_t* f, uint32_t len, uint64_t now) {
    dp::parsed_pkt pp;
    if (dp::parse_frame(f, len, false, pp) != dp::drop::none || pp.kind != dp::frame_kind::ipv4)
        return;
    rotate(now);
    flow_key k{ntohl(pp.src_ip), ntohl(pp.dst_ip), ntohs(pp.src_port), ntohs(pp.dst_port),
               pp.ip_proto};
    if (pp.ip_proto == IPPROTO_ICMP) {
        // A misc check's script may ping its server: the echo's identifier stands for a port.
        if (f[pp.l4_off] != icmp_echo_request || pp.l4_len < icmp_hdr_len)
            return;
        k.local_port = rd16(f + pp.l4_off + 4);
        k.remote_port = 0;
        if (!std::binary_search(m_policy.misc.begin(), m_policy.misc.end(), k.remote_ip))
            return;
    } else if (pp.ip_proto != IPPROTO_TCP && pp.ip_proto != IPPROTO_UDP) {
        return;
    } else if (!is_target(pp.ip_proto, k.remote_ip, k.remote_port)) {
        return;
    }
    if (known(k, now, true))
        return;
    if (flows() >= max_flows) {
        ++m_full; // the probe will time out; counted so the cause shows
        return;
    }
    m_cur.insert_or_assign(k, now);
}

bool exception_filter::allowed(uint8_t in_port, uint8_t proto, uint32_t src, uint16_t dport) const {
    for (const exception_policy::rule& r : m_policy.allow) {
        if ((r.port >= 0 && r.port != in_port) || (r.proto != 0 && r.proto != proto))
            continue;
        if (!r.ports.empty() && std::find(r.ports.begin(), r.ports.end(), dport) == r.ports.end())
            continue;
        if (!r.sources.empty() &&
            std::none_of(r.sources.begin(), r.sources.end(),
                         [&](const ip_prefix& p) { return p.contains(ip_addr::from_v4(src)); }))
            continue;
        return true;
    }
    return false;
}

bool exception_filter::routing_peer(uint8_t proto, uint32_t src, uint16_t sport,
                                    uint16_t dport) const {
    if (!std::binary_search(m_policy.peers.begin(), m_policy.peers.end(), src))
        return false;
    if (proto == IPPROTO_TCP) // the session either side opened
        return sport == bgp_port || dport == bgp_port;
    return proto == IPPROTO_UDP &&
           (dport == bfd_port || dport == bfd_echo_port || dport == bfd_multihop_port);
}

exception_filter::verdict exception_filter::inbound(const uint8_t* f, const dp::parsed_pkt& pp,
                                                    uint8_t in_port, uint64_t now) {
    rotate(now);
    const uint32_t src = ntohl(pp.src_ip), dst = ntohl(pp.dst_ip);
    if (pp.ip_proto == IPPROTO_TCP || pp.ip_proto == IPPROTO_UDP) {
        const uint16_t sport = ntohs(pp.src_port), dport = ntohs(pp.dst_port);
        if (known({dst, src, dport, sport, pp.ip_proto}, now, true))
            return verdict::check_reply;
        if (routing_peer(pp.ip_proto, src, sport, dport))
            return verdict::allowed;
        return allowed(in_port, pp.ip_proto, src, dport) ? verdict::allowed : verdict::refused;
    }
    if (pp.ip_proto != IPPROTO_ICMP || pp.l4_len < icmp_hdr_len)
        return allowed(in_port, pp.ip_proto, src, 0) ? verdict::allowed : verdict::refused;
    const uint8_t* icmp = f + pp.l4_off;
    const uint8_t type = icmp[0];
    if (type == icmp_echo_request)
        return verdict::refused; // the responder answers those: the kernel must not answer twice
    if (type == icmp_echo_reply && known({dst, src, rd16(icmp + 4), 0, IPPROTO_ICMP}, now, true))
        return verdict::check_reply;
    if (icmp_error(type)) {
        // The quoted packet is one we sent: its source is ours, its destination the peer.
        const uint8_t* q = icmp + icmp_hdr_len;
        const size_t room = pp.l4_len - icmp_hdr_len;
        const size_t q_ihl = room >= 20 ? (q[0] & 0x0f) * 4u : 0;
        if (q_ihl >= 20 && room >= q_ihl + 8 && (q[0] >> 4) == 4) {
            const uint8_t q_proto = q[9];
            const uint32_t q_src = rd32(q + 12), q_dst = rd32(q + 16);
            const uint8_t* q4 = q + q_ihl;
            if (q_proto == IPPROTO_TCP || q_proto == IPPROTO_UDP) {
                const uint16_t q_sport = rd16(q4), q_dport = rd16(q4 + 2);
                if (known({q_src, q_dst, q_sport, q_dport, q_proto}, now, false))
                    return verdict::check_reply;
                // About a reply of allowed traffic: as if the peer had sent to that port.
                if (allowed(in_port, q_proto, q_dst, q_sport))
                    return verdict::allowed;
            } else if (q_proto == IPPROTO_ICMP && q4[0] == icmp_echo_request &&
                       known({q_src, q_dst, rd16(q4 + 4), 0, IPPROTO_ICMP}, now, false)) {
                return verdict::check_reply;
            }
        }
    }
    return allowed(in_port, IPPROTO_ICMP, src, 0) ? verdict::allowed : verdict::refused;
}

} // namespace ulvs::ctl
