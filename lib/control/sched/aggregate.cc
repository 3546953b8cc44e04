#include "ulvs/control/sched/tables.h"

namespace ulvs::ctl {

void aggregate_loads(dp::load_board& board, const dp::snapshot& s,
                     std::span<const dp::dest_conn_counts* const> counts) {
    const size_t n = std::min<size_t>(counts.size(), board.workers());
    // One read per worker and dest, so every row is derived from the same values.
    std::vector<int64_t> act(n), inact(n);
    for (const dp::dest& d : s.dests) {
        const uint32_t id = d.stats_id;
        if (id >= dp::max_stats_ids)
            continue;
        int64_t sum_a = 0, sum_i = 0;
        for (size_t w = 0; w < n; ++w) {
            act[w] = counts[w][id].active;
            inact[w] = counts[w][id].inactive;
            sum_a += act[w];
            sum_i += inact[w];
        }
        for (size_t w = 0; w < n; ++w) {
            dp::shared_counts& o = board.others(static_cast<uint32_t>(w))[id];
            o.active.store(sum_a - act[w], std::memory_order_relaxed);
            o.inactive.store(sum_i - inact[w], std::memory_order_relaxed);
        }
    }
}

} // namespace ulvs::ctl
