// The worker's burst path: classify, steer to the owner worker, connection lookup in bulk,
// schedule new connections, rewrite and stage. See worker.h for the contract and
// docs/architecture.md "A packet's way".
#include "burst.h"
#include "conn_life.h"
#include "fragments.h"
#include "mtu.h"
#include "nat.h"
#include "sync_out.h"
#include "tunnel.h"
#include "ulvs/dataplane/fwd/worker.h"
#include "ulvs/dataplane/pkt/l4_csum.h"
#include "ulvs/dataplane/pkt/parse.h"
#include "xmit.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
namespace ulvs::dp {

namespace {

using namespace detail;

inline bool is_multicast_or_broadcast_ip(uint32_t dst_be) noexcept {
    const uint32_t d = rte_be_to_cpu_32(dst_be);
    return (d & 0xf0000000u) == 0xe0000000u || d == 0xffffffffu;
}

inline bool is_icmp_error(uint8_t type) noexcept {
    return type == 3 || type == 11 || type == 12;
}

// Which way to the control lcore a packet for it takes (xmit.h ctrl_class). VRRP gets priority
// only with TTL 255, which no routed packet has: the engine refuses any other (RFC 5798 7.1), so
// a host off the link cannot fill the priority ring with fake adverts.
inline ctrl_class control_class(const parsed_pkt& pp, const uint8_t* f) noexcept {
    if (pp.kind == frame_kind::arp || (pp.ip_proto == proto_vrrp && f[pp.l3_off + 8] == 255))
        return ctrl_class::priority;
    if (pp.ip_proto == proto_icmp && f[pp.l4_off] == 8) // echo request
        return ctrl_class::icmp_echo;
    return ctrl_class::exception;
}

// A connection sync datagram for the control lcore (docs/architecture.md "Connection sync"): UDP
// to the sync port at the group (multicast) or at one of our addresses (a unicast peer), only
// with a receiving role. It is policed apart from the other exception traffic.
inline bool is_sync(const worker_ctx& w, const parsed_pkt& pp, bool multicast) noexcept {
    return w.sync.rx_port != 0 && pp.kind == frame_kind::ipv4 && pp.ip_proto == proto_udp &&
           pp.dst_port == w.sync.rx_port && (!multicast || pp.dst_ip == w.sync.group);
}

// The embedded header of an ICMP error: its offset when it holds a TCP/UDP packet's addresses
// and ports, else 0. `key` gets the 5-tuple of the connection it belongs to, seen from the side
// that would have sent it: the embedded packet went the other way, so its ends are swapped.
uint16_t embedded_key(const uint8_t* f, const parsed_pkt& pp, conn_key& key,
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
    if (proto != proto_tcp && proto != proto_udp)
        return 0;
    const uint8_t* l4 = ip + ihl;
    key = conn_key{load32(ip + ip_dst),
                   load32(ip + ip_src),
                   load16(l4 + l4_dport),
                   load16(l4 + l4_sport),
                   proto,
                   0,
                   {0, 0}};
    return in;
}

// Send a client-side packet (request or ICMP error about one) to the connection's real server.
bool to_real_server(worker_ctx& w, const conn& c, const candidate& cd) noexcept {
    auto* f = rte_pktmbuf_mtod(cd.m, uint8_t*);
    // Too big for the real server's port with DF: ICMP frag-needed from the VIP, quoting the
    // packet as the client sent it (IPVS ip_vs_dr_xmit/ip_vs_nat_xmit); TUN has its own check.
    if (cd.ip_len > w.ports[c.out_port].mtu && c.mode != fwd_mode::tun &&
        refuse_too_big(w, cd.m, cd.ip_len, w.ports[c.out_port].mtu, cd.in_port,
                       load32(f + cd.l3_off + ip_dst)))
        return false;
    switch (c.mode) {
    case fwd_mode::dr:
        return send_fit(w, cd.m, c.out_port, c.neigh, cd.ip_len);
    case fwd_mode::tun:
        return forward_tun(w, c, cd.m, cd.ip_len, cd.in_port);
    case fwd_mode::nat:
        break;
    }
    uint8_t* l3 = f + cd.l3_off;
    if (cd.way == path::request) {
        rewrite_endpoint(l3, f + cd.l4_off, cd.proto, false, c.dest_ip, c.dest_port);
    } else { // ICMP error about VIP:vport -> client: it becomes about RIP:rport -> client
        uint8_t* in = f + cd.inner_off;
        rewrite_endpoint(in, in + (in[0] & 0x0f) * 4, cd.proto, true, c.dest_ip, c.dest_port,
                         false);
        set_ip_checksum(in, static_cast<uint8_t>((in[0] & 0x0f) * 4));
        uint16_t sum = load16(l3 + ip_csum);
        csum_replace4(sum, load32(l3 + ip_dst), c.dest_ip);
        store16(l3 + ip_csum, sum);
        store32(l3 + ip_dst, c.dest_ip);
        store16(f + cd.l4_off + 2, 0);
        store16(f + cd.l4_off + 2,
                inet_checksum(f + cd.l4_off,
                              static_cast<uint32_t>(cd.ip_len - (cd.l4_off - cd.l3_off))));
    }
    return send_fit(w, cd.m, c.out_port, c.neigh, cd.ip_len);
}

// Send a server-side NAT packet (reply or ICMP error about a request) to the client, as if the
// VIP had sent it; routed, so the TTL drops by one.
bool to_client(worker_ctx& w, const conn& c, const candidate& cd) noexcept {
    auto* f = rte_pktmbuf_mtod(cd.m, uint8_t*);
    uint8_t* l3 = f + cd.l3_off;
    // Too big for the client's way with DF: the real server hears it from the address it sent
    // to us by, about its packet as sent (the kernel's ip_forward order: TTL, MTU, rewrite).
    if (cd.ip_len > w.min_mtu && l3[ip_ttl] > 1 &&
        refuse_too_big_routed(w, cd.m, cd.ip_len, c.key.src_ip, cd.in_port,
                              w.snap->port_addr[cd.in_port]))
        return false;
    if (!decrement_ttl(l3)) {
        drop_pkt(w, cd.m, drop::ttl_exceeded);
        return false;
    }
    if (cd.way == path::reply) {
        rewrite_endpoint(l3, f + cd.l4_off, cd.proto, true, c.key.dst_ip, c.key.dst_port);
    } else { // ICMP error about client -> RIP:rport: it becomes about client -> VIP:vport
        uint8_t* in = f + cd.inner_off;
        rewrite_endpoint(in, in + (in[0] & 0x0f) * 4, cd.proto, false, c.key.dst_ip, c.key.dst_port,
                         false);
        set_ip_checksum(in, static_cast<uint8_t>((in[0] & 0x0f) * 4));
        uint16_t sum = load16(l3 + ip_csum);
        csum_replace4(sum, load32(l3 + ip_src), c.key.dst_ip);
        store16(l3 + ip_csum, sum);
        store32(l3 + ip_src, c.key.dst_ip);
        store16(f + cd.l4_off + 2, 0);
        store16(f + cd.l4_off + 2,
                inet_checksum(f + cd.l4_off,
                              static_cast<uint32_t>(cd.ip_len - (cd.l4_off - cd.l3_off))));
    }
    return send_routed_fit(w, cd.m, c.key.src_ip, cd.ip_len);
}

// A packet whose lookup found nothing: a new connection, or a drop with its reason.
uint32_t on_miss(worker_ctx& w, const snapshot& s, const candidate& cd, const conn_key& key,
                 uint64_t now_ms) noexcept {
    switch (cd.way) {
    case path::request:
        if (cd.proto == proto_tcp && !tcp_starts_conn(cd.tcp_flags)) {
            drop_pkt(w, cd.m, drop::no_conn);
            return conn_ref::none;
        }
        return new_conn(w, s, cd, key, now_ms);
    case path::reply:
        // From one of our NAT real servers: never leak it with the server's address.
        drop_pkt(w, cd.m, s.nat_sources.find(key.src_ip) ? drop::no_conn : drop::not_for_us);
        return conn_ref::none;
    case path::icmp_in:
    case path::icmp_reply:
        drop_pkt(w, cd.m, drop::icmp_no_conn);
        return conn_ref::none;
    }
    return conn_ref::none;
}

// Classify one packet. Returns true when it needs a connection lookup (cd and key filled); the
// other packets are staged for the control lcore or dropped here.
bool classify(worker_ctx& w, const snapshot& s, rte_mbuf* m, uint8_t in_port, uint64_t now_ms,
              candidate& cd, conn_key& key) noexcept {
    const auto* f = rte_pktmbuf_mtod(m, const uint8_t*);
    const bool csum_good =
        (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
    parsed_pkt pp;
    // A chain: a datagram another worker reassembled (or a jumbo frame) continues past the first
    // segment, which holds its headers.
    drop verdict = parse_chain(f, rte_pktmbuf_data_len(m), rte_pktmbuf_pkt_len(m), !csum_good, pp);
    bool reassembled = false;
    if (verdict == drop::ip_fragment) { // the whole datagram, when this piece completes it
        if ((m = fragment_in(w, m, pp, in_port, now_ms)) == nullptr)
            return false;
        f = rte_pktmbuf_mtod(m, const uint8_t*);
        verdict = parse_chain(f, rte_pktmbuf_data_len(m), rte_pktmbuf_pkt_len(m), false, pp);
        reassembled = true;
    }
    if (verdict != drop::none) {
        // A frame longer than the port's MTU yet short of its own IP length, from a packet socket:
        // a local sender's segmentation offload (TSO/GSO) passed a super-frame that the socket's
        // ring frame cut. Its own reason, so the cause shows (README "Checksum and segmentation
        // offloads"); off the common path.
        if (verdict == drop::ip_bad_len && w.ports[in_port].partial_csum &&
            rte_pktmbuf_pkt_len(m) > uint32_t{w.ports[in_port].mtu} + RTE_ETHER_HDR_LEN)
            verdict = drop::frame_cut;
        drop_pkt(w, m, verdict);
        return false;
    }
    // Unicast frames for another station (promiscuous ports, bridged labs) are not ours.
    if (!(f[0] & 1) && std::memcmp(f, w.ports[in_port].mac.data(), 6) != 0) {
        drop_pkt(w, m, drop::not_our_mac);
        return false;
    }
    // A partial TCP/UDP checksum from a local sender's offload (socket-fed ports only): completed
    // before any rewrite or hand-off, so neither a real server nor our own kernel (health check
    // replies) drops the segment. The test is a few additions; the pass over the payload runs
    // only for such packets (pkt/l4_csum.h).
    if (w.ports[in_port].partial_csum && !reassembled && pp.kind == frame_kind::ipv4 &&
        uint32_t{pp.l3_off} + pp.ip_total_len <= rte_pktmbuf_data_len(m) &&
        l4_csum_partial(f, pp)) {
        l4_csum_complete(rte_pktmbuf_mtod(m, uint8_t*), pp);
        ++w.ctr.csum_completed;
    }
    if (pp.kind == frame_kind::arp || is_multicast_or_broadcast_ip(pp.dst_ip)) {
        // ARP, VRRP and other link-local control traffic
        to_control_whole(w, m, in_port,
                         is_sync(w, pp, true) ? ctrl_class::sync : control_class(pp, f));
        return false;
    }
    cd = candidate{m,           nullptr,      pp.l3_off, pp.l4_off,     pp.ip_total_len, 0,
                   pp.ip_proto, pp.tcp_flags, in_port,   path::request, reassembled};
    key = conn_key{pp.src_ip, pp.dst_ip, pp.src_port, pp.dst_port, pp.ip_proto, 0, {0, 0}};
    const bool icmp_error = pp.ip_proto == proto_icmp && is_icmp_error(f[pp.l4_off]);
    const auto info = s.addrs.find(pp.dst_ip);
    if (!info) { // not to us: a NAT reply, or an ICMP error from a real server, or a stray
        if (pp.ip_proto == proto_tcp || pp.ip_proto == proto_udp) {
            cd.way = path::reply;
            return true;
        }
        if (icmp_error && (cd.inner_off = embedded_key(f, pp, key, cd.proto)) != 0) {
            cd.way = path::icmp_reply;
            return true;
        }
        drop_pkt(w, m, drop::not_for_us);
        return false;
    }
    const addr_info ai = unpack_addr_info(*info);
    const addr_kind kind = ai.kind;
    // A VRRP virtual address while we are not MASTER: the master forwards it (these come from
    // neighbours whose ARP cache still names us).
    if (!s.held(ai)) {
        drop_pkt(w, m, drop::vip_not_owned);
        return false;
    }
    if (has(kind, addr_kind::vip) && icmp_error) {
        if ((cd.inner_off = embedded_key(f, pp, key, cd.proto)) != 0) {
            cd.way = path::icmp_in;
            // Its service decides the owner worker (persistence groups clients).
            cd.svc = s.lookup(kind, cd.proto, key.src_ip, key.dst_ip, key.dst_port);
            return true;
        }
    }
    // vips.answer_ping false: no echo from a virtual address (the appliance's own still answer).
    if (!s.answer_ping && has(kind, addr_kind::vip) && !has(kind, addr_kind::local) &&
        pp.ip_proto == proto_icmp && f[pp.l4_off] == 8) {
        drop_pkt(w, m, drop::vip_ping_refused);
        return false;
    }
    if (!has(kind, addr_kind::vip) || pp.ip_proto == proto_icmp) { // ours; pings to VIPs
        to_control_whole(w, m, in_port,
                         is_sync(w, pp, false) ? ctrl_class::sync : control_class(pp, f));
        return false;
    }
    cd.svc = (pp.ip_proto == proto_tcp || pp.ip_proto == proto_udp)
                 ? s.lookup(kind, pp.ip_proto, pp.src_ip, pp.dst_ip, pp.dst_port)
                 : nullptr;
    if (cd.svc == nullptr) {
        if (has(kind, addr_kind::local))
            to_control_whole(w, m, in_port, control_class(pp, f)); // a VIP that is also ours: local
        else
            drop_pkt(w, m, drop::no_service);
        return false;
    }
    return true;
}

// The client end of a connection, from its lookup key: it picks the owner worker. Connections
// of a persistent service belong to the worker of the masked client address (port 0), so that
// the client network's template and all its connections share one table (docs/architecture.md "A
// packet's way", step 3); a NAT reply finds that mask by its real server's address
// (snapshot::persist_rs).
inline uint32_t owner_of_key(const snapshot& s, const candidate& cd, const conn_key& k,
                             uint32_t n) noexcept {
    if (cd.way == path::request || cd.way == path::icmp_in) {
        if (cd.svc != nullptr && cd.svc->persist_ms != 0)
            return owner_of(k.src_ip & cd.svc->persist_mask, 0, n);
        return owner_of(k.src_ip, k.src_port, n);
    }
    if (s.persist_rs.size() != 0)
        if (auto mask = s.persist_rs.find(k.src_ip))
            return owner_of(k.dst_ip & *mask, 0, n);
    return owner_of(k.dst_ip, k.dst_port, n);
}

uint16_t run_burst(worker_ctx& w, rte_mbuf** pkts, uint16_t n, uint64_t now_ms, int in_port,
                   bool steered) noexcept {
    const snapshot& s = *w.snap;
    w.now_ms = now_ms; // the policers' clock (xmit.h to_control)
    candidate cand[max_burst];
    conn_key keys[max_burst];
    const conn_key* key_ptrs[max_burst];
    uint16_t nc = 0;

    // Stage 1: classify the whole burst; steer packets other workers own; collect the rest.
    // Headers arrive by DMA, not in the cache: keep several of their misses in flight (issue 4:
    // one packet ahead left each miss exposed).
    constexpr uint16_t prefetch_ahead = 8;
    for (uint16_t i = 0; i < n && i < prefetch_ahead; ++i)
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
    for (uint16_t i = 0; i < n; ++i) {
        if (i + prefetch_ahead < n)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + prefetch_ahead], void*));
        rte_mbuf* m = pkts[i];
        const auto port = static_cast<uint8_t>(in_port >= 0 ? in_port : m->port);
        if (!steered) {
            ++w.ctr.rx_pkts;
            w.ctr.rx_bytes += m->pkt_len;
        }
        if (!classify(w, s, m, port, now_ms, cand[nc], keys[nc]))
            continue;
        // A datagram reassembled here may belong to another worker's connection (frag_table.h).
        if ((!steered || cand[nc].reassembled) && w.n_workers > 1) {
            const uint32_t owner = owner_of_key(s, cand[nc], keys[nc], w.n_workers);
            if (owner != w.id) {
                m = cand[nc].m;
                m->port = port; // the owner needs the port index
                w.redirect[owner].pkts[w.redirect[owner].n++] = m;
                ++w.ctr.redirected;
                continue;
            }
        }
        key_ptrs[nc] = &keys[nc];
        ++nc;
    }

    // Stage 2: one bulk lookup for the burst.
    conn_ref refs[max_burst];
    if (nc > 0)
        w.conns.lookup_bulk(key_ptrs, nc, refs);

    // Stage 3: create or refresh connections, rewrite, stage for TX.
    // The bulk result is a picture of the table before this stage. A connection created earlier
    // in the burst is not in it (so a miss is looked up again after an insert), and an entry
    // ended earlier in the burst (conn_reuse, a reclaim) may since have been freed or handed to
    // another connection (so after any erase every packet is looked up again: an index from the
    // bulk lookup is never used after its entry's erase).
    uint16_t staged = 0;
    bool inserted = false;
    const uint64_t erasures = w.conns.erasures();
    for (uint16_t j = 0; j < nc; ++j) {
        const candidate& cd = cand[j];
        conn_ref ref = refs[j];
        if ((!ref.found() && inserted) || w.conns.erasures() != erasures)
            ref = w.conns.lookup(keys[j]);
        // A key seen from the wrong side (a reply key for a request, ...) is not this packet's.
        const bool want_reply = cd.way == path::reply || cd.way == path::icmp_reply;
        if (ref.found() && ref.reply != want_reply)
            ref = conn_ref{};
        if (ref.found() && reuse_as_new(w.conns.at(ref.index), cd)) {
            w.wheel.cancel(ref.index);
            end_conn(w, ref.index);
            ++w.ctr.conns_expired;
            ref = conn_ref{};
        }
        // IPVS' expire_nodest_conn: its real server left the service (a change, or its health
        // check): the client's next packet ends the connection and goes on as a miss (a new
        // connection if it may open one, else dropped as no_conn), as ip_vs_in does without
        // conntrack. Replies and ICMP errors pass as in ip_vs_out, which does not look.
        if (ref.found() && cd.way == path::request && s.expire_nodest_conn &&
            s.dest_gone(w.conns.at(ref.index).dest_stats_id)) {
            w.wheel.cancel(ref.index);
            end_conn(w, ref.index);
            ++w.ctr.conns_expired;
            ++w.ctr.conns_expired_nodest;
            ref = conn_ref{};
        }
        uint32_t idx = ref.index;
        if (!ref.found()) {
            idx = on_miss(w, s, cd, keys[j], now_ms);
            if (idx == conn_ref::none)
                continue;
            inserted = true;
        }
        const bool state_changed = refresh(w, s, idx, cd, now_ms);
        // Connection sync, only with a sending role: created, new state, or another `period`.
        if (w.sync.send) [[unlikely]]
            sync_after_packet(w, idx, !ref.found() || state_changed, cd.way == path::request,
                              now_ms);
        const conn& cn = w.conns.at(idx);
        traffic_counters& dc = w.dest_ctr[cn.dest_stats_id];
        traffic_counters& sc = w.svc_ctr[cn.svc_stats_id];
        if (want_reply) {
            ++dc.out_pkts;
            dc.out_bytes += cd.ip_len;
            ++sc.out_pkts;
            sc.out_bytes += cd.ip_len;
            staged += to_client(w, cn, cd) ? 1 : 0;
        } else {
            ++dc.in_pkts;
            dc.in_bytes += cd.ip_len;
            ++sc.in_pkts;
            sc.in_bytes += cd.ip_len;
            staged += to_real_server(w, cn, cd) ? 1 : 0;
        }
    }
    w.ctr.forwarded += staged;
    return staged;
}

} // namespace

uint16_t process_burst(worker_ctx& w, uint8_t in_port, rte_mbuf** pkts, uint16_t n,
                       uint64_t now_ms) noexcept {
    return run_burst(w, pkts, n, now_ms, in_port, false);
}

uint16_t process_redirected(worker_ctx& w, rte_mbuf** pkts, uint16_t n, uint64_t now_ms) noexcept {
    return run_burst(w, pkts, n, now_ms, -1, true);
}

} // namespace ulvs::dp
