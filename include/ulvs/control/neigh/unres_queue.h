// Packets waiting for their next hop's MAC (issue 16: the first packet to a new on-link client
// was dropped while ARP resolved it). Linux keeps a few packets per unresolved neighbour
// (unres_qlen) and sends them once the neighbour answers; so do we.
//
// Who holds them: the control lcore. A worker that finds a connected host unresolved already
// hands that packet to the control lcore as the carrier of its resolution request (dp/fwd/xmit.h
// send_routed, over the priority ring); the ARP reply that resolves the host arrives there too.
// Holding the carrier where both meet keeps the worker free of any queue, timer or scan, and
// leaves the per-packet path as it was: one ring enqueue, no allocation, lock or syscall. A held
// packet is sent like any frame of the control lcore (control_transmit: its own TX queue or
// through worker 0).
//
// Bounds: at most per_host packets per neighbour (Linux's classic unres_qlen of 3) and total in
// all, in a fixed array made once; a packet past a bound is dropped (dropped_full), one whose
// host has not answered within timeout_ms (Linux gives up after 3 probes a second apart) is
// dropped (dropped_failed). Those mbufs are counted in dp/mbuf_budget.h.
//
// Thread safety: control lcore only. Counters are plain: the management plane reads them on the
// control lcore too.
#pragma once

#include "ulvs/control/exception/responder.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/dataplane/mbuf_budget.h"

#include <array>
#include <cstdint>
#include <functional>
#include <span>

struct rte_mbuf;

namespace ulvs::ctl {

class unres_queue {
public:
    static constexpr uint32_t per_host = dp::neigh_hold_per_host;
    static constexpr uint32_t total = dp::neigh_hold_total;
    static constexpr uint64_t timeout_ms = 3000;

    struct counters {
        uint64_t queued = 0;         // held until their neighbour resolves
        uint64_t sent = 0;           // sent once it did
        uint64_t dropped_full = 0;   // over per_host or total
        uint64_t dropped_failed = 0; // their neighbour did not answer within timeout_ms
    };

    unres_queue() = default;
    unres_queue(const unres_queue&) = delete;
    unres_queue& operator=(const unres_queue&) = delete;
    ~unres_queue() { clear(); }

    // A resolution request's carrier (handle_resolve_request returned true for it): held when
    // the worker marked it holdable (dp::mbuf_port_hold) and the bounds allow, else freed
    // (counted dropped_full when a bound refused it). Takes `m` in every case.
    void take(rte_mbuf* m, uint64_t now_ms);

    // Send what waits for a neighbour that resolved since the last call (ports[port].mac as
    // source, the neighbour's as destination) through `send`, which takes the mbuf; drop what
    // waited past timeout_ms. Cheap when nothing is held or nothing changed: call it every pass.
    using sender = std::function<void(uint8_t port, rte_mbuf* m)>;
    void service(const neigh_manager& neigh, std::span<const port_addrs> ports, uint64_t now_ms,
                 const sender& send);

    uint32_t held() const { return m_n; }
    const counters& stats() const { return m_ctr; }
    void clear(); // frees what is held (not counted): at stop

private:
    struct item {
        rte_mbuf* m;
        uint32_t ip; // host order
        uint8_t port;
        uint64_t since_ms;
    };
    std::array<item, total> m_items{}; // in arrival order: a host's packets leave in order
    uint32_t m_n = 0;
    uint64_t m_seen_changes = 0; // neigh_manager::changes() at the last release
    bool m_recheck = false;      // a packet was taken since
    counters m_ctr;
};

} // namespace ulvs::ctl
