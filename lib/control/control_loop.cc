#include "ulvs/control/control_loop.h"

#include "ulvs/control/sched/tables.h"
#include "ulvs/dataplane/mbuf_budget.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

namespace ulvs::ctl {

namespace {

constexpr unsigned ring_burst = dp::ctrl_ring_burst; // counted in dataplane/mbuf_budget.h
// Per pass and worker: up to this many bursts of the priority ring, one of the exception ring.
constexpr unsigned prio_bursts_per_pass = 4;
constexpr uint64_t neigh_period_ms = 100;
constexpr uint64_t loads_period_ms = 10; // the staleness bound of sched/load.h

void transmit(control_env& env, uint8_t port, rte_mbuf* m) {
    const control_port& p = env.ports[port];
    if (p.own_tx_queue) {
        if (rte_eth_tx_burst(p.dpdk_port, p.tx_queue, &m, 1) == 1)
            return;
    } else {
        m->port = port; // worker 0 reads the port index from here
        if (rte_ring_sp_enqueue(env.proxy_tx, m) == 0) {
            if (env.proxy_wake)
                dp::wake_sleeper(*env.proxy_wake);
            return;
        }
    }
    rte_pktmbuf_free(
        m); // a full queue: ARP retries and ping retransmit, nothing else depends on it
}

// One burst from `r`: each packet to VRRP, the neighbour manager, the responder or the kernel.
unsigned drain_ring(control_env& env, const dp::snapshot& snap, rte_ring* r, uint64_t now) {
    rte_mbuf* pkts[ring_burst];
    const unsigned n =
        rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts), ring_burst, nullptr);
    for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (handle_resolve_request(*env.neigh, m)) {
            if (env.unres != nullptr)
                env.unres->take(m, now); // held until the host answers (unres_queue.h)
            else
                rte_pktmbuf_free(m);
            continue;
        }
        if (env.on_packet && env.on_packet(m, static_cast<uint8_t>(m->port), now)) {
            rte_pktmbuf_free(m);
            continue;
        }
        // The worker that received it left the port index in the mbuf (dp::flush_stages).
        const uint8_t in_port = static_cast<uint8_t>(m->port);
        if (handle_exception(snap, env.addrs, *env.neigh, m, in_port, now) ==
            exception_verdict::reply) {
            transmit(env, in_port, m);
            continue;
        }
        if (env.taps != nullptr) // the kernel exception path (exception/kernel_tap.h)
            env.taps->to_kernel(snap, m, in_port);
        rte_pktmbuf_free(m);
    }
    return n;
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

std::expected<std::shared_ptr<dp::ctrl_wake>, std::string> make_wake() {
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0)
        return std::unexpected(std::string("cannot create a wake-up eventfd: ") +
                               std::strerror(errno));
    std::shared_ptr<dp::ctrl_wake> w(new dp::ctrl_wake, [](dp::ctrl_wake* p) {
        ::close(p->fd);
        delete p;
    });
    w->fd = fd;
    return w;
}

// Two rings from every worker to the control lcore, and why (issue 12: 5000 pings read in one go
// filled the single FIFO ring, the peer's VRRP adverts were dropped with them, and the BACKUP
// made itself MASTER):
// - the priority ring carries only what the appliance breaks without: ARP (neighbours, who-has
//   for our addresses and VIPs), VRRP adverts (TTL 255 only), and the workers' next-hop
//   resolution requests (bounded per worker). Nothing from beyond the link reaches it, pings and
//   SYNs never; it is drained first, several bursts a pass, so a VRRP advert waits at most for
//   the ARP and VRRP frames ahead of it;
// - the exception ring carries the rest (ICMP echo to our addresses and VIPs, TCP/UDP/other to
//   our addresses, multicast): the workers police it with token buckets (dp/fwd/police.h, config
//   `control_policing`, drops counted as police_icmp_echo / police_exception), and the control
//   lcore takes one burst of it per ring and pass, so a full ring never delays the next pass.
// A full ring drops and counts (ctrl_prio_ring_full, ctrl_ring_full) on the worker: the worker
// never waits for the control lcore.
std::expected<void, std::string> connect_worker(control_env& env, dp::worker_runtime& wrt,
                                                uint32_t id, std::vector<rte_ring*>& created) {
    if (!env.wake) {
        auto w = make_wake();
        if (!w)
            return std::unexpected(w.error());
        env.wake = std::move(*w);
    }
    wrt.wake = env.wake.get();
    auto make = [&](const char* kind, unsigned size) -> rte_ring* {
        const std::string name = std::string("ulvs_") + kind + "_w" + std::to_string(id);
        rte_ring* r =
            rte_ring_create(name.c_str(), size, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (r != nullptr)
            created.push_back(r);
        return r;
    };
    wrt.to_ctrl_prio = make("prio", dp::ctrl_prio_ring_size);
    wrt.to_ctrl = make("exc", dp::ctrl_exception_ring_size);
    if (wrt.to_ctrl_prio == nullptr || wrt.to_ctrl == nullptr)
        return std::unexpected("cannot create the rings from worker " + std::to_string(id) +
                               " to the control lcore: " + rte_strerror(rte_errno));
    env.from_workers_prio.push_back(wrt.to_ctrl_prio);
    env.from_workers.push_back(wrt.to_ctrl);
    return {};
}

unsigned drain_exceptions(control_env& env, uint64_t now) {
    if (env.from_workers_prio.empty() && env.from_workers.empty())
        return 0; // no worker (unit tests of the loop)
    const dp::snapshot* snap = env.pub->current();
    unsigned total = 0;
    for (rte_ring* r : env.from_workers_prio)
        for (unsigned b = 0; b < prio_bursts_per_pass; ++b) {
            const unsigned n = drain_ring(env, *snap, r, now);
            total += n;
            if (n < ring_burst)
                break;
        }
    for (rte_ring* r : env.from_workers)
        total += drain_ring(env, *snap, r, now);
    if (env.unres != nullptr) // what waited for a host that answered in these packets
        env.unres->service(*env.neigh, env.addrs, now,
                           [&env](uint8_t port, rte_mbuf* m) { transmit(env, port, m); });
    return total;
}

void control_transmit(control_env& env, uint8_t port, rte_mbuf* m) {
    transmit(env, port, m);
}

namespace {

constexpr uint64_t slow_call_warn_us = 20'000;
constexpr uint64_t slow_call_warn_every_ms = 10'000;

// The priority work of a pass: the workers' rings (priority first), then VRRP timers and the
// kernel's frames. Records how long it was since the last serve.
unsigned serve_priority(control_env& env, uint64_t& last_serve_ns) {
    const uint64_t ns = mono_ns();
    if (last_serve_ns != 0)
        env.timing.priority_gap.add((ns - last_serve_ns) / 1000);
    last_serve_ns = ns;
    const uint64_t now = env.clock_ms();
    unsigned work = drain_exceptions(env, now);
    if (env.on_timers)
        work += env.on_timers(now);
    return work;
}

// True when `t`'s next call, if it takes as long as its recent longest (capped), would still run
// when the next priority event is due.
bool would_cross_due(const control_env& env, const task_timing& t, uint64_t now) {
    if (!env.next_due_ms)
        return false;
    const uint64_t due = env.next_due_ms();
    if (due == UINT64_MAX || now >= due)
        return false; // nothing due, or due now: the priority work after this task serves it
    const uint64_t expect_ms = std::min(t.expected_us() / 1000, env.hold_max_ms);
    if (expect_ms == 0)
        return false; // sub-millisecond tasks never wait
    return now + expect_ms + env.hold_margin_ms >= due;
}

void record_call(task_timing& t, uint64_t us, uint64_t now_ms, uint64_t slice_us) {
    t.add(us, now_ms);
    if (us < slow_call_warn_us || now_ms < t.last_warn_ms + slow_call_warn_every_ms)
        return;
    t.last_warn_ms = now_ms;
    spdlog::warn("control loop: {} took {} ms in one call (slice {} us): VRRP and ARP waited for "
                 "it",
                 t.name, us / 1000, slice_us);
}

bool rings_empty(const control_env& env) {
    for (const auto* list : {&env.from_workers_prio, &env.from_workers})
        for (rte_ring* r : *list)
            if (rte_ring_count(r) != 0)
                return false;
    return true;
}

// How long the loop may sleep after a pass without work: until the next periodic task, load
// aggregation or priority event is due, within [min_sleep_us, max_sleep_us].
uint64_t sleep_budget_us(const control_env& env, uint64_t now, uint64_t next_loads) {
    uint64_t due = env.loads != nullptr ? next_loads : UINT64_MAX;
    for (const control_task& t : env.tasks)
        if (t.period_ms != 0)
            due = std::min(due, t.next_ms);
    if (env.next_due_ms)
        due = std::min(due, env.next_due_ms());
    const uint64_t us = due <= now ? 0 : std::min(due - now, uint64_t{1'000'000}) * 1000;
    return std::clamp(us, env.min_sleep_us, std::max(env.min_sleep_us, env.max_sleep_us));
}

// Sleep at most `us`, or until a worker hands over packets (ctrl_wake) or one of sleep_fds is
// readable (unless !with_fds). Returns true when a sleep_fd woke it (its task should run now). The
// flag is set before the last look at the rings, as the workers enqueue before they read it
// (worker_loop.cc wake_control), so a packet is either seen here or wakes the sleep.
bool sleep_for_work(control_env& env, uint64_t us, bool with_fds, std::vector<int>& fds,
                    std::vector<pollfd>& pfds) {
    fds.clear();
    if (env.sleep_fds && with_fds)
        env.sleep_fds(fds);
    pfds.clear();
    for (int fd : fds)
        if (fd >= 0)
            pfds.push_back({fd, POLLIN, 0});
    if (env.wake) {
        pfds.push_back({env.wake->fd, POLLIN, 0});
        env.wake->sleeping.store(true, std::memory_order_seq_cst);
        if (!rings_empty(env)) {
            env.wake->sleeping.store(false, std::memory_order_relaxed);
            return false;
        }
    }
    const timespec ts{static_cast<time_t>(us / 1'000'000),
                      static_cast<long>(us % 1'000'000) * 1000};
    const int n = ::ppoll(pfds.data(), pfds.size(), &ts, nullptr);
    bool fd_ready = false;
    if (env.wake) {
        env.wake->sleeping.store(false, std::memory_order_relaxed);
        if (n > 0 && (pfds.back().revents & POLLIN) != 0) {
            uint64_t count;
            [[maybe_unused]] const ssize_t r = ::read(env.wake->fd, &count, sizeof count);
        }
    }
    const size_t own = env.wake ? 1 : 0;
    for (size_t i = 0; n > 0 && i + own < pfds.size(); ++i)
        fd_ready |= pfds[i].revents != 0;
    return fd_ready;
}

} // namespace

stop_reason run_control_loop(control_env& env) {
    uint64_t next_loads = 0;
    bool reload_due = false;
    // The loop's own best-effort tasks after the caller's: SIGHUP's reload and the neighbour
    // rounds.
    env.tasks.push_back({"reload", 0, [&](uint64_t, const deadline&) -> unsigned {
                             if (!reload_due)
                                 return 0;
                             reload_due = false;
                             if (env.on_reload)
                                 env.on_reload();
                             return 1;
                         }});
    if (env.neigh != nullptr)
        env.tasks.push_back({"neighbours", neigh_period_ms, [&](uint64_t now, const deadline&) {
                                 resolve_neighbours(env, now);
                                 return 0u;
                             }});
    env.timing.tasks.clear();
    for (const control_task& t : env.tasks)
        env.timing.tasks.push_back({t.name, {}, 0});
    size_t next_task = 0; // tasks take turns: a pass out of budget resumes here
    uint64_t last_serve_ns = 0;
    std::vector<int> fds;
    std::vector<pollfd> pfds;
    bool fd_woke = false; // the last sleep ended on one of sleep_fds
    for (;;) {
        if (*env.stop_signal != 0)
            return stop_reason::signal;
        uint64_t now = env.clock_ms();
        if (idle_too_long(env, now))
            return stop_reason::idle;
        if (env.hup_signal != nullptr && *env.hup_signal != 0) {
            *env.hup_signal = 0;
            reload_due = true;
        }
        ++env.timing.passes;
        unsigned work = serve_priority(env, last_serve_ns);
        if (env.loads != nullptr && now >= next_loads) {
            // Microseconds (a sum per real server and worker): with the priority work.
            aggregate_loads(*env.loads, *env.pub->current(), env.dest_counts);
            next_loads = now + loads_period_ms;
        }
        const deadline pass = deadline::after_us(env.pass_budget_us);
        for (size_t k = 0; k < env.tasks.size(); ++k) {
            if (pass.passed()) {
                ++env.timing.deferred;
                break;
            }
            const size_t i = next_task;
            next_task = (next_task + 1) % env.tasks.size();
            control_task& t = env.tasks[i];
            now = env.clock_ms();
            if (t.period_ms != 0) {
                if (now < t.next_ms)
                    continue;
                t.next_ms = now + t.period_ms;
            }
            task_timing& tt = env.timing.tasks[i];
            if (would_cross_due(env, tt, now)) {
                ++tt.held;
                ++env.timing.held;
                if (t.period_ms != 0)
                    t.next_ms = now; // its turn comes again right after the event
                continue;
            }
            const uint64_t t0 = mono_ns();
            work += t.run(now, deadline::after_us(env.slice_us));
            record_call(tt, (mono_ns() - t0) / 1000, now, env.slice_us);
            work += serve_priority(env, last_serve_ns);
        }
        if (work != 0)
            fd_woke = false;
        if (work == 0 && *env.stop_signal == 0) {
            const uint64_t us = sleep_budget_us(env, env.clock_ms(), next_loads);
            const uint64_t start_ns = mono_ns();
            // A descriptor that woke the loop and stays readable after the pass it made due found
            // nothing to do (a frame left for the next pass, an event its task does not take)
            // is left out of the next sleep: at most one such pass per sleep, no spinning.
            fd_woke = sleep_for_work(env, us, !fd_woke, fds, pfds);
            if (fd_woke)
                for (control_task& t : env.tasks)
                    if (t.on_fds)
                        t.next_ms = 0; // a client knocked: serve it now
            // The priority gap counts from when the sleep was due to end (or ended): sleeping
            // with nothing to serve delays nothing, oversleeping does.
            if (last_serve_ns != 0)
                last_serve_ns = std::min(mono_ns(), start_ns + us * 1000);
        }
    }
}

std::vector<std::string> timing_summary(const control_env& env) {
    std::vector<std::string> lines;
    lines.push_back(format_timing("priority gap", env.timing.priority_gap) +
                    fmt::format(" ({} passes, {} with tasks deferred, {} task calls held for a "
                                "due event)",
                                env.timing.passes, env.timing.deferred, env.timing.held));
    for (const task_timing& t : env.timing.tasks)
        lines.push_back(format_timing(t.name, t.calls) +
                        (t.held ? fmt::format(" ({} calls held for a due event)", t.held) : ""));
    return lines;
}

} // namespace ulvs::ctl
