// The worker lcore's poll loop around process_burst(): RX from its queue of every port, TX of the
// staged packets on its own TX queue, hand-off to the control lcore, connection expiry and the RCU
// quiescent report. Never blocks, never allocates, never logs.
#pragma once

#include "ulvs/dataplane/fwd/conn_dump.h"
#include "ulvs/dataplane/fwd/id_check.h"
#include "ulvs/dataplane/fwd/publisher.h"
#include "ulvs/dataplane/fwd/worker.h"

#include <array>
#include <atomic>
#include <cstdint>

struct rte_ring;

namespace ulvs::dp {

// Milliseconds from the TSC: the clock workers and the control lcore share.
uint64_t clock_ms() noexcept;

// A sleeping lcore's wake-up. The control lcore sleeps when idle (control_loop.cc), and worker 0
// does under lcores.idle: adaptive while it carries the control lcore's frames (ctrl_tx): the
// sleeper sets `sleeping` before its last look at what it consumes and sleeps on `fd` (an
// eventfd); a producer that queued something then calls wake_sleeper, which writes the eventfd
// only when the flag was set, once per sleep. A busy consumer costs producers a fence and a read.
struct alignas(64) ctrl_wake {
    std::atomic<bool> sleeping{false};
    int fd = -1;
};

// After queuing for the owner of `w`: wake it if it sleeps.
void wake_sleeper(ctrl_wake& w) noexcept;

struct alignas(64) worker_runtime {
    worker_ctx* ctx = nullptr;
    publisher* pub = nullptr;
    // SP/SC rings from this worker to the control lcore (ctl::connect_worker says why two):
    rte_ring* to_ctrl_prio = nullptr; // ARP, VRRP, next-hop resolution requests
    rte_ring* to_ctrl = nullptr;      // the rest, policed (ICMP echo, traffic to our addresses)
    rte_ring* ctrl_tx = nullptr; // set on worker 0 when some port lacks a TX queue for control:
                                 // control's packets (mbuf->port = port index) sent from here
    const std::atomic<bool>* stop = nullptr;
    uint16_t rx_queue = 0;
    // SP/SC rings between workers, by the other worker's id (null for itself): packets of
    // connections another worker owns go out through redirect_out[owner]; redirect_in[w] brings
    // those worker w found for us.
    std::array<rte_ring*, max_workers> redirect_out{};
    std::array<rte_ring*, max_workers> redirect_in{};
    conn_dump_channel* conn_dump = nullptr; // ulvsadm -c: listings served a bounded step a loop
    id_check_channel* id_check = nullptr;   // may a stats id be reused? (id_check.h)
    ctrl_wake* wake = nullptr;              // the control lcore's; set by ctl::connect_worker
    ctrl_wake* tx_wake = nullptr;           // this worker's, when it carries ctrl_tx (adaptive)
    // Connection sync (fwd/sync_msg.h), rings of sync_msg: records this worker sends (set with a
    // sending role) and records the control lcore routed here to apply (a receiving role).
    rte_ring* sync_out = nullptr;
    rte_ring* sync_in = nullptr;
    bool adaptive_idle = false;                      // lcores.idle: adaptive (idle_backoff.h)
    alignas(64) std::atomic<uint64_t> last_rx_ms{0}; // read by the control lcore for --exit-idle
};

// Apply at most sync_apply_per_iteration records from `rt.sync_in` (worker.h apply_sync).
// Returns how many. Worker lcore only.
unsigned drain_sync_in(worker_ctx& w, const worker_runtime& rt, uint64_t now_ms) noexcept;

// rte_eal_remote_launch entry point; `arg` is a worker_runtime*.
int worker_main(void* arg);

// Transmit everything staged in `w`: TX stages to the ports, to_ctrl_prio and to_ctrl to the
// control lcore's rings, redirect stages to the owners' rings, sync records to sync_out. What a
// queue or ring refuses is freed and counted (records: worker_counters::sync_dropped).
void flush_stages(worker_ctx& w, const worker_runtime& rt) noexcept;

} // namespace ulvs::dp
