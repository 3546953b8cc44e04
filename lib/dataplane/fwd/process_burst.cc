// The worker's burst path: classify, connection lookup in bulk, schedule new connections, rewrite
// and stage. See worker.h for the contract and ARCHITECTURE.md "A packet's way".
#include "ulvs/dataplane/fwd/worker.h"
#include "ulvs/dataplane/pkt/parse.h"
#include "ulvs/dataplane/sched/rr.h"
#include "ulvs/dataplane/sched/wrr.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <cstring>

namespace ulvs::dp {

namespace {

constexpr uint8_t proto_icmp = 1, proto_tcp = 6, proto_udp = 17;

// A packet to a VIP:port with a service, waiting for its connection lookup.
struct candidate {
    rte_mbuf* m;
    const service* svc;
    uint8_t tcp_flags;
    uint16_t ip_len; // IPVS counts bytes at the IP layer
};

inline void stage(tx_stage& s, rte_mbuf* m) noexcept {
    s.pkts[s.n++] = m;
}

// The control lcore answers on the port a packet came in on: it reads the index from mbuf->port.
inline void to_control(worker_ctx& w, rte_mbuf* m, uint8_t in_port) noexcept {
    m->port = in_port;
    stage(w.to_ctrl, m);
}

inline void drop_pkt(worker_ctx& w, rte_mbuf* m, drop why) noexcept {
    w.ctr.count_drop(why);
    rte_pktmbuf_free(m);
}

inline bool is_multicast_or_broadcast_ip(uint32_t dst_be) noexcept {
    const uint32_t d = rte_be_to_cpu_32(dst_be);
    return (d & 0xf0000000u) == 0xe0000000u || d == 0xffffffffu;
}

int32_t pick_dest(worker_ctx& w, const snapshot& s, const service& svc) noexcept {
    const uint32_t svc_idx = static_cast<uint32_t>(&svc - s.services_v.data());
    sched_cursor& cur = w.cursors[svc_idx];
    const dest* d = s.dests.data() + svc.dest_first;
    switch (svc.sched) {
    case sched_kind::rr:
        return rr_pick(d, svc.dest_count, svc, cur);
    case sched_kind::wrr:
        return wrr_pick(d, svc.dest_count, svc, cur);
    default:
        return -1; // the config loader refuses schedulers this version does not implement
    }
}

// A new connection for `key`: schedule, insert, initialise. Returns the entry or -1 (dropped).
int32_t new_conn(worker_ctx& w, const snapshot& s, const service& svc, const conn_key& key,
                 rte_mbuf* m, uint64_t now_ms) noexcept {
    const int32_t pick = pick_dest(w, s, svc);
    if (pick < 0) {
        drop_pkt(w, m, drop::no_dest);
        return -1;
    }
    const int32_t idx = w.conns.insert(key);
    if (idx < 0) {
        drop_pkt(w, m, drop::conn_table_full);
        return -1;
    }
    const dest& d = s.dests[svc.dest_first + static_cast<uint32_t>(pick)];
    conn& c = w.conns.at(static_cast<uint32_t>(idx));
    c.dest_ip = d.ip;
    c.dest_port = d.port == 0 ? key.dst_port : d.port;
    c.mode = d.mode;
    c.out_port = d.out_port;
    c.neigh = d.neigh;
    c.dest_stats_id = d.stats_id;
    c.svc_stats_id = svc.stats_id;
    c.state = tcp_state::none;
    c.flags = 0;
    c.expire_ms = now_ms + s.timeouts.of(tcp_state::none);
    // IPVS binds every new connection as inactive; it becomes active on reaching ESTABLISHED.
    ++w.dest_conns[d.stats_id].inactive;
    ++w.dest_ctr[d.stats_id].conns;
    ++w.svc_ctr[svc.stats_id].conns;
    ++w.ctr.conns_created;
    w.wheel.schedule(static_cast<uint32_t>(idx), c.expire_ms);
    return idx;
}

// Advance the IPVS state and idle timeout of `c` for one client-to-server packet.
inline void refresh(worker_ctx& w, const snapshot& s, uint32_t idx, uint8_t proto,
                    uint8_t tcp_flags, uint64_t now_ms) noexcept {
    conn& c = w.conns.at(idx);
    if (proto == proto_udp) {
        c.expire_ms = now_ms + s.timeouts.udp_ms;
        return;
    }
    // DR and TUN never see replies: IPVS' input-only table.
    const tcp_dir dir = c.mode == fwd_mode::nat ? tcp_dir::input : tcp_dir::input_only;
    const tcp_state next = tcp_next_state(c.state, tcp_flags, dir);
    const bool changed = next != c.state;
    c.state = next;
    // IPVS moves a connection between ActiveConn and InActConn on state changes; which states
    // count as active is tcp_state_active (ESTABLISHED and the handshake states).
    const bool active = tcp_state_active(c.state);
    if (active != ((c.flags & conn_flag::active) != 0)) {
        dest_conn_counts& dc = w.dest_conns[c.dest_stats_id];
        dc.active += active ? 1 : -1;
        dc.inactive += active ? -1 : 1;
        c.flags ^= conn_flag::active;
    }
    const uint64_t expire = now_ms + s.timeouts.of(c.state);
    // A shorter timeout than the one the wheel holds (e.g. FIN after ESTABLISHED) must not wait
    // for the old, later slot. Only state changes can shorten it, so only they pay for the check.
    if (changed && expire < c.expire_ms)
        w.wheel.advance_to(idx, expire);
    c.expire_ms = expire;
}

// DR: only the MACs change; the IP packet leaves exactly as it came.
inline bool forward_dr(worker_ctx& w, const conn& c, rte_mbuf* m) noexcept {
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    if (!w.neigh->get(c.neigh, eth->dst_addr.addr_bytes)) {
        drop_pkt(w, m, drop::neigh_unresolved);
        return false;
    }
    std::memcpy(eth->src_addr.addr_bytes, w.ports[c.out_port].mac.data(), 6);
    stage(w.tx[c.out_port], m);
    return true;
}

} // namespace

uint16_t process_burst(worker_ctx& w, uint8_t in_port, rte_mbuf** pkts, uint16_t n,
                       uint64_t now_ms) noexcept {
    const snapshot& s = *w.snap;
    const port_view& port = w.ports[in_port];
    candidate cand[max_burst];
    conn_key keys[max_burst];
    const conn_key* key_ptrs[max_burst];
    uint16_t nc = 0;

    // Stage 1: parse and classify the whole burst; collect packets that need a connection.
    for (uint16_t i = 0; i < n; ++i) {
        if (i + 1 < n)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
        rte_mbuf* m = pkts[i];
        const auto* frame = rte_pktmbuf_mtod(m, const uint8_t*);
        const uint16_t len = rte_pktmbuf_data_len(m);
        ++w.ctr.rx_pkts;
        w.ctr.rx_bytes += m->pkt_len;

        const bool csum_good =
            (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
        parsed_pkt pp;
        const drop verdict = parse_frame(frame, len, !csum_good, pp);
        if (verdict != drop::none) {
            drop_pkt(w, m, verdict);
            continue;
        }
        // Unicast frames for another station (promiscuous ports, bridged labs) are not ours.
        if (!(frame[0] & 1) && std::memcmp(frame, port.mac.data(), 6) != 0) {
            drop_pkt(w, m, drop::not_our_mac);
            continue;
        }
        if (pp.kind == frame_kind::arp || is_multicast_or_broadcast_ip(pp.dst_ip)) {
            to_control(w, m, in_port); // ARP, VRRP and other link-local control traffic
            continue;
        }
        const auto info = s.addrs.find(pp.dst_ip);
        if (!info) {
            drop_pkt(w, m, drop::not_for_us);
            continue;
        }
        const addr_kind kind = unpack_addr_info(*info).kind;
        if (!has(kind, addr_kind::vip) || pp.ip_proto == proto_icmp) {
            to_control(w, m, in_port); // our own addresses, and ICMP to a VIP (ping)
            continue;
        }
        const service* svc = (pp.ip_proto == proto_tcp || pp.ip_proto == proto_udp)
                                 ? s.find_service(pp.dst_ip, pp.dst_port, pp.ip_proto)
                                 : nullptr;
        if (svc == nullptr) {
            if (has(kind, addr_kind::local))
                to_control(w, m, in_port); // a VIP that is also our address: local traffic
            else
                drop_pkt(w, m, drop::no_service);
            continue;
        }
        conn_key& k = keys[nc];
        k = conn_key{pp.src_ip, pp.dst_ip, pp.src_port, pp.dst_port, pp.ip_proto, {0, 0, 0}};
        key_ptrs[nc] = &k;
        cand[nc++] = candidate{m, svc, pp.tcp_flags, pp.ip_total_len};
    }

    // Stage 2: one bulk lookup for the burst.
    int32_t pos[max_burst];
    if (nc > 0)
        w.conns.lookup_bulk(key_ptrs, nc, pos);

    // Stage 3: create or refresh connections, rewrite, stage for TX.
    uint16_t staged = 0;
    bool inserted = false;
    for (uint16_t j = 0; j < nc; ++j) {
        const candidate& c = cand[j];
        int32_t idx = pos[j];
        // A connection created earlier in this very burst is not in the bulk result.
        if (idx < 0 && inserted)
            idx = w.conns.lookup(keys[j]);
        if (idx < 0) {
            if (keys[j].proto == proto_tcp && !tcp_starts_conn(c.tcp_flags)) {
                drop_pkt(w, c.m, drop::no_conn);
                continue;
            }
            idx = new_conn(w, s, *c.svc, keys[j], c.m, now_ms);
            if (idx < 0)
                continue;
            inserted = true;
        }
        refresh(w, s, static_cast<uint32_t>(idx), keys[j].proto, c.tcp_flags, now_ms);
        const conn& cn = w.conns.at(static_cast<uint32_t>(idx));

        traffic_counters& dc = w.dest_ctr[cn.dest_stats_id];
        traffic_counters& sc = w.svc_ctr[cn.svc_stats_id];
        ++dc.in_pkts;
        dc.in_bytes += c.ip_len;
        ++sc.in_pkts;
        sc.in_bytes += c.ip_len;

        // NAT and TUN arrive with their issue; the config loader refuses them until then.
        if (forward_dr(w, cn, c.m))
            ++staged;
    }
    return staged;
}

} // namespace ulvs::dp
