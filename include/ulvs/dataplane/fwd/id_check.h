// Asking a worker whether any of its connections or templates still names a real server's stats
// id, so the control plane may reuse the id (control/service/stats_ids.h, condition 3).
//
// Why the worker answers: dest_conns[id] is three plain counters a worker moves a connection
// between (active <-> inactive) with two separate stores; another core summing them can read
// one before and one after the move and see 0 for a live connection. The worker's counts are
// exact at the end of its loop iteration, where it calls id_check_step().
//
// The control lcore owns one channel per worker. To ask, it fills `ids`/`n`/`busy` (busy has n
// bytes), then bumps `request` (release). The worker, once per loop iteration, when it sees a new
// request, sets busy[i] = 1 when ids[i] still has connections or templates, at most
// id_check_per_step ids per call (bounded work per iteration), and finally sets `done` to the
// request it served (release). The control lcore polls `done` (acquire) and never waits.
//
// Header-only, as conn_dump.h. Thread safety: as described per field.
#pragma once

#include "ulvs/dataplane/counters.h"

#include <atomic>
#include <cstdint>

namespace ulvs::dp {

struct alignas(64) id_check_channel {
    // Control lcore writes before bumping `request`; the worker reads after seeing it.
    const uint32_t* ids = nullptr;
    uint8_t* busy = nullptr;
    uint32_t n = 0;
    std::atomic<uint32_t> request{0};
    // Worker writes; control reads after `done == request`.
    alignas(64) std::atomic<uint32_t> done{0};
    // Worker-private progress.
    uint32_t serving = 0;
    uint32_t cursor = 0;
};

constexpr uint32_t id_check_per_step = 256;

// Worker lcore, where its counts are exact (between bursts): advance the pending question.
inline void id_check_step(const dest_conn_counts* counts, id_check_channel& ch) noexcept {
    const uint32_t req = ch.request.load(std::memory_order_acquire);
    if (req == ch.done.load(std::memory_order_relaxed))
        return;
    if (req != ch.serving) { // a new request (or one that replaced an unfinished one)
        ch.serving = req;
        ch.cursor = 0;
    }
    const uint32_t end =
        ch.cursor + id_check_per_step < ch.n ? ch.cursor + id_check_per_step : ch.n;
    for (; ch.cursor < end; ++ch.cursor) {
        const dest_conn_counts& c = counts[ch.ids[ch.cursor]];
        ch.busy[ch.cursor] = (c.active | c.inactive | c.persistent) != 0;
    }
    if (ch.cursor >= ch.n)
        ch.done.store(req, std::memory_order_release);
}

} // namespace ulvs::dp
