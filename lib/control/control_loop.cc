#include "ulvs/control/control_loop.h"

#include "ulvs/control/sched/tables.h"
#include "ulvs/dataplane/mbuf_budget.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <spdlog/spdlog.h>

#include <time.h>

namespace ulvs::ctl {

namespace {

constexpr unsigned ring_burst = dp::ctrl_ring_burst; // counted in dataplane/mbuf_budget.h
constexpr uint64_t neigh_period_ms = 100;
constexpr uint64_t loads_period_ms = 10; // the staleness bound of sched/load.h

void transmit(control_env& env, uint8_t port, rte_mbuf* m) {
    const control_port& p = env.ports[port];
    if (p.own_tx_queue) {
        if (rte_eth_tx_burst(p.dpdk_port, p.tx_queue, &m, 1) == 1)
            return;
    } else {
        m->port = port; // worker 0 reads the port index from here
        if (rte_ring_sp_enqueue(env.proxy_tx, m) == 0)
            return;
    }
    rte_pktmbuf_free(
        m); // a full queue: ARP retries and ping retransmit, nothing else depends on it
}

unsigned drain_exceptions(control_env& env, uint64_t now) {
    const dp::snapshot* snap = env.pub->current();
    unsigned total = 0;
    rte_mbuf* pkts[ring_burst];
    for (rte_ring* r : env.from_workers) {
        const unsigned n =
            rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts), ring_burst, nullptr);
        total += n;
        for (unsigned i = 0; i < n; ++i) {
            rte_mbuf* m = pkts[i];
            if (handle_resolve_request(*env.neigh, m)) {
                rte_pktmbuf_free(m);
                continue;
            }
            if (env.on_packet && env.on_packet(m, static_cast<uint8_t>(m->port), now)) {
                rte_pktmbuf_free(m);
                continue;
            }
            // The worker that received it left the port index in the mbuf (dp::flush_stages).
            const uint8_t in_port = static_cast<uint8_t>(m->port);
            if (handle_exception(*snap, env.addrs, *env.neigh, m, in_port, now) ==
                exception_verdict::reply) {
                transmit(env, in_port, m);
                continue;
            }
            if (env.taps != nullptr) // the kernel exception path (exception/kernel_tap.h)
                env.taps->to_kernel(*snap, m, in_port);
            rte_pktmbuf_free(m);
        }
    }
    return total;
}

void resolve_neighbours(control_env& env, uint64_t now) {
    for (const arp_request& r : env.neigh->due(now)) {
        if (rte_mbuf* m = make_arp_request(env.pool, env.addrs[r.port], r.target))
            transmit(env, r.port, m);
    }
}

bool idle_too_long(const control_env& env, uint64_t now) {
    if (env.exit_idle_ms == 0)
        return false;
    uint64_t last = 0;
    for (const dp::worker_runtime* w : env.workers)
        last = std::max(last, w->last_rx_ms.load(std::memory_order_relaxed));
    return now > last && now - last >= env.exit_idle_ms;
}

} // namespace

void control_transmit(control_env& env, uint8_t port, rte_mbuf* m) {
    transmit(env, port, m);
}

stop_reason run_control_loop(control_env& env) {
    uint64_t next_neigh = 0;
    uint64_t next_loads = 0;
    for (;;) {
        if (*env.stop_signal != 0)
            return stop_reason::signal;
        const uint64_t now = dp::clock_ms();
        if (idle_too_long(env, now))
            return stop_reason::idle;
        if (env.hup_signal != nullptr && *env.hup_signal != 0) {
            *env.hup_signal = 0;
            if (env.on_reload)
                env.on_reload();
        }
        unsigned work = drain_exceptions(env, now);
        if (env.on_poll) // management plane (lib/mgmt)
            work += env.on_poll(now);
        if (env.loads != nullptr && now >= next_loads) {
            aggregate_loads(*env.loads, *env.pub->current(), env.dest_counts);
            next_loads = now + loads_period_ms;
        }
        if (now >= next_neigh) {
            resolve_neighbours(env, now);
            next_neigh = now + neigh_period_ms;
        }
        if (work == 0) {
            timespec nap{0, 100000};
            nanosleep(&nap, nullptr);
        }
    }
}

} // namespace ulvs::ctl
