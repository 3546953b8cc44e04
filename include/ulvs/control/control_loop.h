// The control lcore's event loop (docs/architecture.md "Threads and what runs where"): exception
// packets from the workers, ARP resolution, signals, --exit-idle. It never blocks: when a pass
// found nothing to do it naps 100 us, which bounds ARP/ping latency while leaving the core mostly
// idle.
#pragma once

#include "ulvs/control/exception/kernel_tap.h"
#include "ulvs/control/exception/responder.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/dataplane/fwd/publisher.h"
#include "ulvs/dataplane/fwd/worker_loop.h"
#include "ulvs/dataplane/sched/load.h"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <vector>

struct rte_mempool;
struct rte_ring;

namespace ulvs::ctl {

struct control_port {
    uint16_t dpdk_port = 0;
    bool own_tx_queue = false; // else through worker 0 (dp::worker_runtime::ctrl_tx)
    uint16_t tx_queue = 0;
};

struct control_env {
    std::vector<control_port> ports;
    std::vector<port_addrs> addrs;            // by port index
    std::vector<rte_ring*> from_workers_prio; // per worker: ARP, VRRP, resolution (first)
    std::vector<rte_ring*> from_workers;      // per worker: the policed rest (connect_worker)
    rte_ring* proxy_tx = nullptr;             // to worker 0, when some port needs it
    std::vector<dp::worker_runtime*> workers; // for --exit-idle
    dp::publisher* pub = nullptr;
    neigh_manager* neigh = nullptr;
    rte_mempool* pool = nullptr;
    uint64_t exit_idle_ms = 0; // 0: never
    const volatile std::sig_atomic_t* stop_signal = nullptr;
    volatile std::sig_atomic_t* hup_signal = nullptr;
    std::function<void()> on_reload; // SIGHUP
    // lc/wlc/sed/nq and thresholds: the workers' connection counts summed into `loads` every
    // 10 ms (dp/sched/load.h explains the staleness bound); worker i's counts at dest_counts[i].
    dp::load_board* loads = nullptr;
    std::vector<const dp::dest_conn_counts*> dest_counts;
    // Management plane (lib/mgmt: socket, metrics, timers), polled once per pass; it must not
    // block and returns how much it did (0 lets the loop nap).
    std::function<unsigned(uint64_t now_ms)> on_poll;
    // VRRP (control/vrrp/engine.h) sees every exception packet first: true = it was VRRP and is
    // consumed (the loop frees the mbuf).
    std::function<bool(const rte_mbuf* m, uint8_t in_port, uint64_t now_ms)> on_packet;
    // What the responder leaves is offered to the kernel (TAPs); their frames come back through
    // on_poll (daemon.cc). Null: consumed.
    kernel_taps* taps = nullptr;
};

// Send `m` on port index `port` from the control lcore (its own TX queue, or through worker 0);
// frees it when the queue is full. Control lcore only.
void control_transmit(control_env& env, uint8_t port, rte_mbuf* m);

// Create the rings that carry worker `id`'s packets to the control lcore and wire them into
// `wrt` (producer side) and `env` (consumer side). The rings are appended to `created`, which the
// caller frees after the lcores stopped. Start-up only.
std::expected<void, std::string> connect_worker(control_env& env, dp::worker_runtime& wrt,
                                                uint32_t id, std::vector<rte_ring*>& created);

// One pass over the workers' rings: every priority ring first (up to 4 bursts each), then one
// burst of every exception ring; each packet goes to VRRP, the neighbour manager, the responder
// or the kernel. Returns how many packets it took. Control lcore only (the loop calls it every
// iteration).
unsigned drain_exceptions(control_env& env, uint64_t now_ms);

enum class stop_reason { signal, idle };

// Runs until a stop signal or the idle limit. Control lcore only.
stop_reason run_control_loop(control_env& env);

} // namespace ulvs::ctl
