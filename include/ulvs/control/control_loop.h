// The control lcore's event loop (docs/architecture.md "Threads and what runs where"): exception
// packets from the workers, VRRP timers, ARP resolution, the management plane, health checks,
// signals, --exit-idle. Work with deadlines comes first: every pass serves the priority work (the
// workers' priority and exception rings, VRRP timers, the kernel's frames) before and after every
// best-effort task, and best-effort tasks run in slices (deadline.h) within a budget per pass,
// taking turns. When a pass found nothing to do it sleeps (issue 16: polling burnt a core on an
// idle box) until the next task or priority event is due, at most max_sleep_us, or until work
// arrives: a worker hands it packets (dp::ctrl_wake, an eventfd the worker writes only when the
// loop said it sleeps), a kernel TAP has a frame or a management client knocks (sleep_fds).
#pragma once

#include "ulvs/control/deadline.h"
#include "ulvs/control/exception/kernel_tap.h"
#include "ulvs/control/exception/responder.h"
#include "ulvs/control/loop_timing.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/control/neigh/unres_queue.h"
#include "ulvs/dataplane/fwd/publisher.h"
#include "ulvs/dataplane/fwd/worker_loop.h"
#include "ulvs/dataplane/sched/load.h"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
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

// Best-effort work of the control lcore, called at most once per pass (every `period_ms` if
// set) with a deadline (`control_env::slice_us` from the call): it should stop when the deadline
// has passed and carry on at its next call. Returns how much it did (0 lets the loop nap).
struct control_task {
    std::string name; // in the timing summary (loop_timing.h)
    uint64_t period_ms = 0;
    std::function<unsigned(uint64_t now_ms, const deadline& d)> run;
    uint64_t next_ms = 0; // the loop's
    // Due at once when one of control_env::sleep_fds ended the loop's sleep (the management
    // socket's task: a client knocked).
    bool on_fds = false;
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
    // Packets for next hops still resolving, sent when they answer; null: such packets are
    // dropped (the workers already counted them to_control).
    unres_queue* unres = nullptr;
    rte_mempool* pool = nullptr;
    uint64_t exit_idle_ms = 0; // 0: never
    const volatile std::sig_atomic_t* stop_signal = nullptr;
    volatile std::sig_atomic_t* hup_signal = nullptr;
    std::function<void()> on_reload; // SIGHUP
    // lc/wlc/sed/nq and thresholds: the workers' connection counts summed into `loads` every
    // 10 ms (dp/sched/load.h explains the staleness bound); worker i's counts at dest_counts[i].
    dp::load_board* loads = nullptr;
    std::vector<const dp::dest_conn_counts*> dest_counts;
    // Priority work besides the rings, served first in every pass and between best-effort
    // tasks (VRRP timers and adverts, the kernel TAPs' frames): microseconds, never more.
    std::function<unsigned(uint64_t now_ms)> on_timers;
    // Best-effort work, taking turns (management socket and requests, metrics, health checks,
    // snapshot builds; the loop adds the neighbour rounds): each call gets `slice_us`, and no
    // task starts once a pass has spent `pass_budget_us` on them (the rest run next pass).
    std::vector<control_task> tasks;
    uint64_t slice_us = 2'000;
    uint64_t pass_budget_us = 5'000;
    // When the next priority event is due (clock_ms; VRRP's next advert), or UINT64_MAX when
    // nothing is. A task is not started when its longest call of the last 5-10 s (at most
    // hold_max_ms of it), plus hold_margin_ms, would reach past that: a job that cannot be
    // sliced yet (a snapshot build, a reload, a listing) then runs just after the advert
    // instead of across it. Null: no event is known.
    std::function<uint64_t()> next_due_ms;
    uint64_t hold_max_ms = 500;
    uint64_t hold_margin_ms = 5;
    loop_timing timing; // filled by run_control_loop; logged when it returns
    uint64_t (*clock_ms)() noexcept = dp::clock_ms; // the loop's `now` (tests inject theirs)
    // VRRP (control/vrrp/engine.h) sees every exception packet first: true = it was VRRP and is
    // consumed (the loop frees the mbuf).
    std::function<bool(const rte_mbuf* m, uint8_t in_port, uint64_t now_ms)> on_packet;
    // What the responder leaves is offered to the kernel (TAPs); their frames come back through
    // on_timers (daemon.cc). Null: consumed.
    kernel_taps* taps = nullptr;
    // Sleeping when a pass found nothing to do: file descriptors whose readiness means work (the
    // kernel TAPs, the management server's epoll set), asked before each sleep; the sleep ends
    // when one is readable, when a worker wakes the loop, or after at most max_sleep_us (the next
    // task or priority event due comes sooner). Deadlines here are milliseconds.
    std::function<void(std::vector<int>& fds)> sleep_fds;
    uint64_t max_sleep_us = 1'000;
    uint64_t min_sleep_us = 100;         // a task held for an event, or due at once: the old nap
    std::shared_ptr<dp::ctrl_wake> wake; // the workers' wake-up, created by connect_worker
    // Worker 0's, when it carries proxy_tx and may sleep (lcores.idle: adaptive): written when
    // a frame is queued for it.
    std::shared_ptr<dp::ctrl_wake> proxy_wake;
};

// A wake-up (dp::ctrl_wake) with its eventfd, closed with the last reference.
std::expected<std::shared_ptr<dp::ctrl_wake>, std::string> make_wake();

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

// Runs until a stop signal or the idle limit. SIGHUP's reload runs as a best-effort task.
// Control lcore only.
stop_reason run_control_loop(control_env& env);

// The loop's timing (loop_timing.h) as log lines: the priority gap, then one line per task.
std::vector<std::string> timing_summary(const control_env& env);

} // namespace ulvs::ctl
