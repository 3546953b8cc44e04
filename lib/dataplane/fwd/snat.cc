// Routed forwarding and SNAT (snat.h; docs/architecture.md "A routed or SNAT packet's way").
#include "snat.h"

#include "conn_life.h"
#include "fragments.h"
#include "mtu.h"
#include "nat.h"
#include "xmit.h"

#include <rte_byteorder.h>
#include <rte_mbuf.h>

namespace ulvs::dp::detail {

namespace {

constexpr uint8_t icmp_echo_reply = 0, icmp_unreach = 3, icmp_echo_request = 8,
                  icmp_time_exceeded = 11;

// ICMP errors the routed path sends (time exceeded, unreachable) per worker: Linux's
// icmp_msgs_per_sec (1000) and burst (50) for the whole host, here per worker; past it the
// packet is still dropped and counted, only the error is not sent.
constexpr police_rate icmp_error_police{1000, 50};

inline bool is_icmp_error_type(uint8_t t) noexcept {
    return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
}

inline uint32_t host(uint32_t be) noexcept {
    return rte_be_to_cpu_32(be);
}

// An ICMP error about `m` (received on `in_port`) from that port's address. Never about an ICMP
// error (RFC 1812 4.3.2.7) nor a non-first fragment (a reassembled datagram has none).
void icmp_about(worker_ctx& w, const rte_mbuf* m, uint8_t in_port, uint8_t type,
                uint8_t code) noexcept {
    const auto* l3 = rte_pktmbuf_mtod(m, const uint8_t*) + sizeof(rte_ether_hdr);
    const uint16_t ihl = static_cast<uint16_t>((l3[0] & 0x0f) * 4);
    if (l3[9] == proto_icmp && is_icmp_error_type(l3[ihl]))
        return;
    if (!w.police_icmp_error.take(w.now_ms, icmp_error_police))
        return;
    send_icmp_error(w, m, in_port, type, code, 0, w.snap->port_addr[in_port]);
}

const snat_rule* find_snat(const snapshot& s, uint32_t src_be, uint8_t out_port) noexcept {
    for (const snat_rule& r : s.snat)
        if (r.out_port == out_port && in_prefixes(r.sources, host(src_be)))
            return &r;
    return nullptr;
}

bool forward_allowed(const snapshot& s, uint8_t in_port, uint8_t out_port, uint32_t src_be,
                     uint32_t dst_be) noexcept {
    for (const forward_rule& r : s.forwarding)
        if ((r.in_port == any_port || r.in_port == in_port) &&
            (r.out_port == any_port || r.out_port == out_port) &&
            in_prefixes(r.sources, host(src_be)) && in_prefixes(r.dsts, host(dst_be)))
            return true;
    return false;
}

// Whether any rule would forward this source to this destination by some port: a packet of it
// without a route is answered with unreachable; one no rule allows is only dropped.
bool source_allowed(const snapshot& s, uint8_t in_port, uint32_t src_be, uint32_t dst_be) noexcept {
    for (const snat_rule& r : s.snat)
        if (in_prefixes(r.sources, host(src_be)))
            return true;
    for (const forward_rule& r : s.forwarding)
        if ((r.in_port == any_port || r.in_port == in_port) &&
            in_prefixes(r.sources, host(src_be)) && in_prefixes(r.dsts, host(dst_be)))
            return true;
    return false;
}

// Linux's ip_forward order for a packet we route to a port of MTU `mtu`: TTL (time exceeded),
// then the egress MTU (fragmentation needed when DF, else fragments later). True when refused
// (dropped and answered); the caller then decrements the TTL and rewrites. Both come before a
// new SNAT connection too: Linux drops such a packet in FORWARD, before POSTROUTING maps it.
bool refused_routed(worker_ctx& w, rte_mbuf* m, uint8_t in_port, uint16_t ip_len, uint16_t mtu,
                    const uint8_t* l3) noexcept {
    if (l3[ip_ttl] <= 1) {
        icmp_about(w, m, in_port, icmp_time_exceeded, 0);
        drop_pkt(w, m, drop::ttl_exceeded);
        return true;
    }
    return ip_len > mtu && refuse_too_big(w, m, ip_len, mtu, in_port, w.snap->port_addr[in_port]);
}

// The MTU of the port the route to `dst` leaves by, looked up only past the smallest port MTU
// (send_routed_fit looks the route up again, and drops the packet as no_route if it is gone).
uint16_t egress_mtu(const worker_ctx& w, uint32_t dst, uint16_t ip_len) noexcept {
    if (ip_len <= w.min_mtu)
        return w.min_mtu;
    const next_hop* hop = w.snap->route(dst);
    return hop != nullptr ? w.ports[hop->port].mtu : w.min_mtu;
}

// Route an unchanged packet by forwarding_rules, or drop it: `deny` when no rule allows it.
void forward_plain(worker_ctx& w, const snapshot& s, rte_mbuf* m, uint8_t in_port, uint16_t ip_len,
                   drop deny) noexcept {
    uint8_t* l3 = rte_pktmbuf_mtod(m, uint8_t*) + sizeof(rte_ether_hdr);
    const uint32_t src = load32(l3 + ip_src), dst = load32(l3 + ip_dst);
    const next_hop* hop = s.route(dst);
    if (hop == nullptr) {
        if (!source_allowed(s, in_port, src, dst)) {
            drop_pkt(w, m, deny);
            return;
        }
        icmp_about(w, m, in_port, icmp_unreach, 0); // net unreachable, as Linux's ip_error
        drop_pkt(w, m, drop::no_route);
        return;
    }
    if (!forward_allowed(s, in_port, hop->port, src, dst)) {
        drop_pkt(w, m, deny);
        return;
    }
    if (refused_routed(w, m, in_port, ip_len, w.ports[hop->port].mtu, l3))
        return;
    decrement_ttl(l3);
    if (send_routed_fit(w, m, dst, ip_len)) {
        ++w.ctr.routed;
        ++w.ctr.forwarded;
    }
}

// The echo identifier at `icmp` + 4 becomes `id`, the ICMP checksum follows (RFC 1624).
inline void set_echo_id(uint8_t* icmp, uint16_t id) noexcept {
    uint16_t sum = load16(icmp + 2);
    csum_replace2(sum, load16(icmp + 4), id);
    store16(icmp + 2, sum);
    store16(icmp + 4, id);
}

// Replace the source (src) or destination address and port (echo: identifier) of a packet.
// `fix_l4` as rewrite_endpoint: false inside an ICMP error's quote.
void translate(uint8_t* l3, uint8_t* l4, uint8_t proto, bool src, uint32_t ip, uint16_t port,
               bool fix_l4 = true) noexcept {
    if (proto != proto_icmp) {
        rewrite_endpoint(l3, l4, proto, src, ip, port, fix_l4);
        return;
    }
    uint8_t* at = l3 + (src ? ip_src : ip_dst);
    uint16_t sum = load16(l3 + ip_csum);
    csum_replace4(sum, load32(at), ip);
    store16(l3 + ip_csum, sum);
    store32(at, ip);
    set_echo_id(l4, port);
}

// A new SNAT connection for the inside host's packet `key` (inside:port -> remote) by `rule`.
// The translated address is the inside host's own among the rule's (a hash of it: one host
// keeps one address, as Linux's default); the port is the first free one from a hash of the
// 5-tuple, probing at most 128 (Linux's nf_nat attempt bound), so ports spread over the range
// and a full range costs a bounded search. Free: no live connection of this worker has the
// inbound key, and this worker owns every connection with this remote end (snat.h).
uint32_t snat_new(worker_ctx& w, const snapshot& s, const snat_rule& r, const candidate& cd,
                  const conn_key& key, uint64_t now_ms) noexcept {
    const uint32_t inside = key.src_ip, remote = key.dst_ip;
    const uint16_t inside_port = key.src_port, remote_port = key.dst_port;
    const uint32_t h_addr = (host(inside) * 0x9e3779b1u) >> 8;
    const uint32_t addr = rte_cpu_to_be_32(r.addr_first + h_addr % r.addr_count);
    const uint32_t range = uint32_t{r.port_last} - r.port_first + 1;
    const uint32_t h = ((inside ^ remote * 0x85ebca6bu) +
                        (uint32_t{inside_port} << 16 | remote_port) * 0xc2b2ae35u) *
                       0x27d4eb2fu;
    const uint32_t start = (h >> 8) % range;
    const uint32_t attempts = range < 128 ? range : 128;
    conn_key in{remote, addr, remote_port, 0, key.proto, 0, {0, 0}};
    bool found = false;
    for (uint32_t i = 0; i < attempts && !found; ++i) {
        in.dst_port = rte_cpu_to_be_16(static_cast<uint16_t>(r.port_first + (start + i) % range));
        found = !w.conns.lookup(in).found();
    }
    if (!found) {
        drop_pkt(w, cd.m, drop::snat_exhausted);
        return conn_ref::none;
    }
    conn init{};
    init.key = in;
    init.dest_ip = inside;
    init.dest_port = inside_port;
    init.mode = fwd_mode::nat;
    init.flags = conn_flag::snat;
    init.state = tcp_state::none;
    init.expire_ms = now_ms + (cd.proto == proto_tcp   ? s.timeouts.of(tcp_state::none)
                               : cd.proto == proto_udp ? s.timeouts.udp_ms
                                                       : snat_icmp_ms);
    const uint32_t idx = w.conns.insert(in, init, true);
    if (idx == conn_ref::none) {
        drop_pkt(w, cd.m, drop::conn_table_full);
        return idx;
    }
    ++w.ctr.conns_created;
    ++w.ctr.snat_created;
    w.wheel.schedule(idx, init.expire_ms);
    return idx;
}

} // namespace

uint16_t embedded_key(const uint8_t* f, const parsed_pkt& pp, bool echo, conn_key& key,
                      uint8_t& proto) noexcept {
    const uint16_t in = static_cast<uint16_t>(pp.l4_off + 8);
    const uint32_t avail = uint32_t{pp.l3_off} + pp.ip_total_len;
    if (avail < in + 20u)
        return 0;
    const uint8_t* ip = f + in;
    const uint16_t ihl = static_cast<uint16_t>((ip[0] & 0x0f) * 4);
    if ((ip[0] >> 4) != 4 || ihl < 20 || avail < in + ihl + 4u)
        return 0;
    proto = ip[9];
    const uint8_t* l4 = ip + ihl;
    if (proto == proto_icmp && echo && avail >= in + ihl + 8u &&
        (l4[0] == icmp_echo_request || l4[0] == icmp_echo_reply)) {
        // A request went out translated ({remote, snat, 0, id}), a reply went in to the inside
        // host ({inside, remote, id, 0}).
        const uint16_t id = load16(l4 + 4);
        const bool req = l4[0] == icmp_echo_request;
        key = conn_key{load32(ip + ip_dst),
                       load32(ip + ip_src),
                       static_cast<uint16_t>(req ? 0 : id),
                       static_cast<uint16_t>(req ? id : 0),
                       proto,
                       0,
                       {0, 0}};
        return in;
    }
    if (proto != proto_tcp && proto != proto_udp)
        return 0;
    key = conn_key{load32(ip + ip_dst),
                   load32(ip + ip_src),
                   load16(l4 + l4_dport),
                   load16(l4 + l4_sport),
                   proto,
                   0,
                   {0, 0}};
    return in;
}

bool snat_inbound(const snapshot& s, uint32_t rule, const uint8_t* f, const parsed_pkt& pp,
                  bool icmp_error, candidate& cd, conn_key& key) noexcept {
    const snat_rule& r = s.snat[rule];
    auto in_range = [&r](uint16_t port_be) {
        const uint16_t p = rte_be_to_cpu_16(port_be);
        return p >= r.port_first && p <= r.port_last;
    };
    if (pp.ip_proto == proto_tcp || pp.ip_proto == proto_udp) {
        if (!in_range(pp.dst_port))
            return false;
        cd.way = path::request;
    } else if (pp.ip_proto == proto_icmp && f[pp.l4_off] == icmp_echo_reply) {
        const uint16_t id = load16(f + pp.l4_off + 4);
        if (!in_range(id))
            return false;
        key = conn_key{pp.src_ip, pp.dst_ip, 0, id, proto_icmp, 0, {0, 0}};
        cd.way = path::request;
    } else if (icmp_error) {
        conn_key k; // cd and key stay as they were unless it is ours
        uint8_t proto = 0;
        const uint16_t inner = embedded_key(f, pp, true, k, proto);
        if (inner == 0 || !in_range(k.dst_port))
            return false;
        key = k;
        cd.proto = proto;
        cd.inner_off = inner;
        cd.way = path::icmp_in;
    } else {
        return false;
    }
    cd.snat = true;
    return true;
}

bool routed_candidate(worker_ctx& w, const snapshot& s, const uint8_t* f, const parsed_pkt& pp,
                      candidate& cd, conn_key& key) noexcept {
    if (pp.ip_proto == proto_icmp && f[pp.l4_off] == icmp_echo_request) {
        key = conn_key{pp.src_ip, pp.dst_ip, load16(f + pp.l4_off + 4), 0, proto_icmp, 0, {0, 0}};
        cd.way = path::reply;
        return true;
    }
    if (cd.m->nb_segs > 1) { // a reassembled datagram of another protocol: not ours to route
        drop_pkt(w, cd.m, drop::ip_fragment);
        return false;
    }
    forward_plain(w, s, cd.m, cd.in_port, cd.ip_len, drop::forward_denied);
    return false;
}

uint32_t route_miss(worker_ctx& w, const snapshot& s, const candidate& cd, const conn_key& key,
                    uint64_t now_ms) noexcept {
    const uint8_t* l3 = rte_pktmbuf_mtod(cd.m, const uint8_t*) + cd.l3_off;
    const uint32_t src = load32(l3 + ip_src), dst = load32(l3 + ip_dst);
    const next_hop* hop = s.route(dst);
    const snat_rule* r = hop != nullptr ? find_snat(s, src, hop->port) : nullptr;
    if (r != nullptr) {
        // Its connection, if any, lives on the remote end's worker (snat.h); the burst path
        // steered this one by another rule (a persistent NAT service's real server).
        // key: inside:port -> remote:port (an echo's remote port is 0), either way.
        const uint32_t owner = snat_owner(key.dst_ip, key.dst_port, w.owners);
        if (w.n_workers > 1 && !cd.steered && owner != w.id) {
            cd.m->port = cd.in_port;
            w.redirect[owner].pkts[w.redirect[owner].n++] = cd.m;
            ++w.ctr.redirected;
            return conn_ref::none;
        }
        if (cd.way == path::reply) {
            // Only a connection's first packet opens one (IPVS' rule; a stray segment from a
            // NAT real server must not leave with our address either).
            if (cd.proto == proto_tcp && !tcp_starts_conn(cd.tcp_flags)) {
                drop_pkt(w, cd.m, drop::no_conn);
                return conn_ref::none;
            }
            if (refused_routed(w, cd.m, cd.in_port, cd.ip_len, w.ports[hop->port].mtu, l3))
                return conn_ref::none;
            return snat_new(w, s, *r, cd, key, now_ms);
        }
    }
    forward_plain(w, s, cd.m, cd.in_port, cd.ip_len,
                  cd.way == path::icmp_reply ? drop::icmp_no_conn : drop::forward_denied);
    return conn_ref::none;
}

bool snat_forward(worker_ctx& w, const conn& c, const candidate& cd) noexcept {
    auto* f = rte_pktmbuf_mtod(cd.m, uint8_t*);
    uint8_t* l3 = f + cd.l3_off;
    uint8_t* l4 = f + cd.l4_off;
    const bool out = cd.way == path::reply || cd.way == path::icmp_reply;
    const uint32_t dst = out ? c.key.src_ip : c.dest_ip; // the remote end, or the inside host
    if (refused_routed(w, cd.m, cd.in_port, cd.ip_len, egress_mtu(w, dst, cd.ip_len), l3))
        return false;
    decrement_ttl(l3);
    switch (cd.way) {
    case path::reply: // inside:port -> remote becomes SNAT address:port -> remote
        translate(l3, l4, cd.proto, true, c.key.dst_ip, c.key.dst_port);
        break;
    case path::request: // remote -> SNAT address:port becomes remote -> inside:port
        translate(l3, l4, cd.proto, false, c.dest_ip, c.dest_port);
        break;
    case path::icmp_in:
    case path::icmp_reply: {
        // The quoted packet and the outer address on the inside host's side, as NAT does.
        uint8_t* in = f + cd.inner_off;
        uint8_t* in_l4 = in + (in[0] & 0x0f) * 4;
        const bool to_inside = cd.way == path::icmp_in;
        // Inbound: the quote went out as SNAT address:port -> remote: its source is the inside
        // host's. Outbound: it came in as remote -> inside: its destination becomes ours.
        if (to_inside)
            translate(in, in_l4, cd.proto, true, c.dest_ip, c.dest_port, false);
        else
            translate(in, in_l4, cd.proto, false, c.key.dst_ip, c.key.dst_port, false);
        set_ip_checksum(in, static_cast<uint8_t>((in[0] & 0x0f) * 4));
        const size_t outer = to_inside ? ip_dst : ip_src;
        const uint32_t addr = to_inside ? c.dest_ip : c.key.dst_ip;
        uint16_t sum = load16(l3 + ip_csum);
        csum_replace4(sum, load32(l3 + outer), addr);
        store16(l3 + ip_csum, sum);
        store32(l3 + outer, addr);
        store16(l4 + 2, 0);
        store16(l4 + 2,
                inet_checksum(l4, static_cast<uint32_t>(cd.ip_len - (cd.l4_off - cd.l3_off))));
        break;
    }
    }
    return send_routed_fit(w, cd.m, dst, cd.ip_len);
}

} // namespace ulvs::dp::detail
