// Real servers' connection counts as a worker sees them, for lc/wlc/sed/nq and the thresholds.
//
// IPVS keeps one activeconns/inactconns pair per real server shared by every CPU. ulvs keeps them
// per worker (worker_ctx::dest_conns, written only by its worker: no shared cache line is written
// per packet) and a worker schedules on
//
//     its own live counts + the other workers' counts as the control lcore last aggregated them
//
// (load_board below, filled by ctl::aggregate_loads() every aggregation period, 10 ms in ulvsd).
// With one worker this is exactly IPVS. With W workers the other workers' part is at most one
// period (plus one aggregation pass) old, so a worker misses at most the connections the others
// bound to or released from a server during that window. Effects: lc/wlc/sed/nq still balance
// every worker's own connections exactly and the others' with that lag, so the totals stay
// balanced up to about (W-1) x (new connections per period per worker) per server; an upper
// threshold may be overshot by at most what the other workers bound to the server in one period
// (each worker alone never passes it); an OVERLOAD flag may clear up to one period late.
//
// OVERLOAD (IPVS IP_VS_DEST_F_OVERLOAD) is evaluated per worker on that view with IPVS' rules:
// set when active + inactive >= upper (upper > 0) after a connection is bound; cleared when the
// total falls below lower, or below 3/4 of upper when lower is 0; cleared when upper becomes 0 or
// is raised. The flag's state is kept per worker in the board (row of that worker only).
#pragma once

#include "ulvs/dataplane/counters.h"
#include "ulvs/dataplane/fwd/snapshot.h"

#include <atomic>
#include <cstdint>
#include <memory>

namespace ulvs::dp {

// Counts written by the control lcore while workers read them: relaxed atomics, which compile to
// plain loads and stores on x86-64 (a reader sees an old or a new value, never a torn one).
struct shared_counts {
    std::atomic<int64_t> active{0};
    std::atomic<int64_t> inactive{0};
};

// One per ulvsd run, created by the control plane before the workers start and kept until they
// stopped; snapshot::loads points at it. Rows are indexed by worker id (0..workers()-1) and by
// dest stats_id (< max_stats_ids).
class load_board {
public:
    explicit load_board(uint32_t workers);

    uint32_t workers() const noexcept { return m_workers; }
    // The other workers' counts as seen by worker `w`. Written by the control lcore only.
    shared_counts* others(uint32_t w) noexcept { return m_others.get() + size_t{w} * row; }
    const shared_counts* others(uint32_t w) const noexcept {
        return m_others.get() + size_t{w} * row;
    }
    // Worker `w`'s OVERLOAD states (see load_view). Written by worker `w` only.
    uint32_t* overload(uint32_t w) noexcept { return m_overload.get() + size_t{w} * row; }

private:
    // Rows padded by one cache line so two workers' OVERLOAD rows never share one.
    static constexpr size_t row = max_stats_ids + 16;
    uint32_t m_workers;
    std::unique_ptr<shared_counts[]> m_others;
    std::unique_ptr<uint32_t[]> m_overload;
};

// A worker's view for one pick. Default: every server idle and no OVERLOAD state kept (a
// threshold then only compares the live counts).
class load_view {
public:
    load_view() = default;
    // `own`: the worker's dest_conns; `others`, `overload`: its board rows, or nullptr.
    load_view(const dest_conn_counts* own, const shared_counts* others, uint32_t* overload) noexcept
        : m_own(own), m_others(others), m_overload(overload) {}

    int64_t active(const dest& d) const noexcept {
        int64_t v = m_own ? m_own[d.stats_id].active : 0;
        if (m_others)
            v += m_others[d.stats_id].active.load(std::memory_order_relaxed);
        return v > 0 ? v : 0; // a stale sum may dip below 0; IPVS' counters never do
    }
    int64_t inactive(const dest& d) const noexcept {
        int64_t v = m_own ? m_own[d.stats_id].inactive : 0;
        if (m_others)
            v += m_others[d.stats_id].inactive.load(std::memory_order_relaxed);
        return v > 0 ? v : 0;
    }
    // IPVS ip_vs_dest_conn_overhead(): ActiveConn weighs 256 InActConn.
    int64_t overhead(const dest& d) const noexcept { return active(d) * 256 + inactive(d); }

    // IP_VS_DEST_F_OVERLOAD as IPVS would have it now.
    bool overloaded(const dest& d) noexcept { return update(d, 0); }
    // A new connection is being bound to `d` (IPVS ip_vs_bind_dest): set OVERLOAD if the total,
    // this connection included, reaches the upper threshold. Call after a pick chose `d`.
    void bound(const dest& d) noexcept { update(d, 1); }

private:
    bool update(const dest& d, int64_t extra) noexcept;

    const dest_conn_counts* m_own = nullptr;
    const shared_counts* m_others = nullptr;
    uint32_t* m_overload = nullptr;
};

inline bool load_view::update(const dest& d, int64_t extra) noexcept {
    const int64_t total = active(d) + inactive(d) + extra;
    const int64_t upper = d.upper;
    if (!m_overload)
        return upper > 0 && total >= upper;
    // The state is the upper threshold the flag was last seen under (0 = clear), so that raising
    // the threshold clears it as IPVS' __ip_vs_update_dest does.
    uint32_t& st = m_overload[d.stats_id];
    if (upper == 0 || (st != 0 && upper > st)) {
        st = 0;
        if (upper == 0)
            return false;
    }
    if (total >= upper) {
        st = d.upper;
    } else if (st != 0) {
        const bool below = d.lower != 0 ? total < int64_t{d.lower} : total * 4 < upper * 3;
        st = below ? 0 : d.upper;
    }
    return st != 0;
}

// Everything a pick reads besides the dests and the service.
struct sched_args {
    sched_input in;
    load_view load;
    // For lblc/lblcr (locality.h): the worker's row of the service's table, its clock for the
    // entries' expiry, and its counter of entries evicted while in use (nullptr: not counted).
    uint32_t worker = 0;
    uint64_t now_ms = 0;
    uint64_t* locality_evicted = nullptr;
};

} // namespace ulvs::dp
