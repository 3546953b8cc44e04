// Internal to lib/dataplane/fwd: the last steps of the burst path — staging, dropping, handing to
// the control lcore, MAC resolution and routing — shared by the forwarding modes.
#pragma once

#include "ulvs/dataplane/fwd/worker.h"

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstring>

namespace ulvs::dp::detail {

inline void drop_pkt(worker_ctx& w, rte_mbuf* m, drop why) noexcept {
    w.ctr.count_drop(why);
    rte_pktmbuf_free(m);
}

inline void stage(worker_ctx& w, tx_stage& s, rte_mbuf* m) noexcept {
    if (s.n == tx_stage_size) {
        drop_pkt(w, m, drop::tx_full);
        return;
    }
    s.pkts[s.n++] = m;
}

// What the control lcore gets from a worker, by what losing it costs (police.h, worker_loop.h).
enum class ctrl_class : uint8_t {
    priority,  // ARP and VRRP (TTL 255): lost, they cost neighbours and split brain; not policed
    icmp_echo, // pings to our addresses and VIPs: policed
    exception, // everything else for us (TCP/UDP/other to our addresses, multicast): policed
    sync,      // connection sync datagrams (UDP to sync.port at the group or our address):
               // policed apart, so a flood of them neither starves nor is starved by the rest
};

// A next-hop resolution request rides the priority ring, so a flood of pings cannot delay the
// first packets to a new host; its own bucket keeps a burst of packets to unresolved hosts (which
// the control lcore dedups only once it has seen the first) from crowding VRRP out. Per worker.
constexpr police_rate resolve_police{1000, 64};

// Received connection sync datagrams (docs/architecture.md "Connection sync"), per worker: the
// peer's flow arrives on one queue; 5000 datagrams of ~40 records each are 200k connections a
// second. The depth (100) with the other policers' (900) fits one exception ring (1024).
constexpr police_rate sync_police{5000, 100};

// The control lcore answers on the port a packet came in on: it reads the index from mbuf->port.
// Policed classes are checked against this worker's bucket at the burst's clock (w.now_ms).
inline void to_control(worker_ctx& w, rte_mbuf* m, uint8_t in_port, ctrl_class c) noexcept {
    m->port = in_port;
    switch (c) {
    case ctrl_class::priority:
        stage(w, w.to_ctrl_prio, m);
        return;
    case ctrl_class::icmp_echo:
        if (!w.police_icmp_echo.take(w.now_ms, w.snap->police_icmp_echo)) {
            drop_pkt(w, m, drop::police_icmp_echo);
            return;
        }
        break;
    case ctrl_class::exception:
        if (!w.police_exception.take(w.now_ms, w.snap->police_exception)) {
            drop_pkt(w, m, drop::police_exception);
            return;
        }
        break;
    case ctrl_class::sync:
        if (!w.police_sync.take(w.now_ms, sync_police)) {
            drop_pkt(w, m, drop::police_sync);
            return;
        }
        break;
    }
    stage(w, w.to_ctrl, m);
}

// Write the Ethernet header for port `out` towards neighbour `slot` and stage the frame.
inline bool send_to(worker_ctx& w, rte_mbuf* m, uint8_t out, uint32_t slot) noexcept {
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    if (slot == neigh_table::no_slot || !w.neigh->get(slot, eth->dst_addr.addr_bytes)) {
        drop_pkt(w, m, drop::neigh_unresolved);
        return false;
    }
    std::memcpy(eth->src_addr.addr_bytes, w.ports[out].mac.data(), 6);
    stage(w, w.tx[out], m);
    return true;
}

// Route `m` (an IPv4 frame) to `dst` (network order): longest-prefix match, then the gateway's
// MAC, or for a connected destination its own. A connected host whose MAC is not known yet (no
// slot, or a slot still resolving) is handed to the control lcore to be resolved. The packet is
// the request's carrier: when it is one whole frame that fits the port, the control lcore holds
// it until the host answers ARP and sends it then (control/neigh/unres_queue.h, Linux's
// unres_qlen), and it is counted as to_control when the ring takes it; otherwise it is dropped
// (neigh_unresolved) and only asks. The holding area is the control lcore's, not the worker's:
// the carrier already goes there, the ARP reply that releases it arrives there, and the worker
// keeps no state, timer or scan for it.
inline bool send_routed(worker_ctx& w, rte_mbuf* m, uint32_t dst) noexcept {
    const next_hop* hop = w.snap->route(dst);
    if (hop == nullptr) {
        drop_pkt(w, m, drop::no_route);
        return false;
    }
    if (hop->gateway != 0)
        return send_to(w, m, hop->port, hop->neigh);
    const uint32_t slot = w.neigh->find(dst);
    if (slot != neigh_table::no_slot && w.neigh->valid(slot))
        return send_to(w, m, hop->port, slot);
    const bool holdable =
        m->nb_segs == 1 && rte_pktmbuf_pkt_len(m) <= uint32_t{w.ports[hop->port].mtu} + 14u;
    if (!w.police_resolve.take(w.now_ms, resolve_police)) {
        drop_pkt(w, m, drop::neigh_unresolved); // the next packet to that host asks again
        return false;
    }
    if (!holdable)
        w.ctr.count_drop(drop::neigh_unresolved);
    m->port = static_cast<uint16_t>(mbuf_port_resolve_request | (holdable ? mbuf_port_hold : 0) |
                                    hop->port);
    m->hash.usr = dst;
    stage(w, w.to_ctrl_prio, m);
    return false;
}

} // namespace ulvs::dp::detail
