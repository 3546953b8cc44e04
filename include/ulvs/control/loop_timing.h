// How long the control loop's work takes (control_loop.h): per best-effort task, the time of
// each call in a few buckets, and for the priority work the longest wait between two serves
// (what a VRRP advert due at the worst moment waited). Written by the control lcore only; read
// on the same lcore (the stop summary, metrics).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ulvs::ctl {

// Upper bounds (us) of the buckets; the last bucket is everything longer.
inline constexpr std::array<uint64_t, 7> timing_bounds_us{100,    1'000,   5'000,    10'000,
                                                          50'000, 100'000, 1'000'000};

struct timing_hist {
    uint64_t count = 0;
    uint64_t total_us = 0;
    uint64_t max_us = 0;
    std::array<uint64_t, timing_bounds_us.size() + 1> buckets{}; // non-cumulative

    void add(uint64_t us) noexcept {
        ++count;
        total_us += us;
        max_us = us > max_us ? us : max_us;
        size_t b = 0;
        while (b < timing_bounds_us.size() && us > timing_bounds_us[b])
            ++b;
        ++buckets[b];
    }
};

struct task_timing {
    std::string name;
    timing_hist calls;
    uint64_t last_warn_ms = 0; // a slow call is logged at most every 10 s per task
    // The longest call of the current and the previous 5 s window: what the loop expects the
    // next call may take (control_env::next_due_ms).
    uint64_t window_max_us[2] = {0, 0};
    uint64_t window_start_ms = 0;
    uint64_t held = 0; // calls put off until after a due priority event

    void add(uint64_t us, uint64_t now_ms) noexcept {
        calls.add(us);
        if (now_ms >= window_start_ms + 5'000) {
            window_max_us[1] = window_max_us[0];
            window_max_us[0] = 0;
            window_start_ms = now_ms;
        }
        window_max_us[0] = us > window_max_us[0] ? us : window_max_us[0];
    }
    uint64_t expected_us() const noexcept {
        return window_max_us[0] > window_max_us[1] ? window_max_us[0] : window_max_us[1];
    }
};

struct loop_timing {
    std::vector<task_timing> tasks; // as control_env::tasks
    // The time between two serves of the priority work (the longest a VRRP advert or an ARP
    // reply waited for the loop).
    timing_hist priority_gap;
    uint64_t passes = 0;
    uint64_t deferred = 0; // tasks left for the next pass because the pass budget was spent
    uint64_t held = 0;     // task calls put off until after a due priority event
};

// One line per histogram: "name: N calls, mean X us, max Y us, <=100us A, <=1ms B, ...".
std::string format_timing(const std::string& name, const timing_hist& h);

// Prometheus text (appended to /metrics): ulvs_control_task_seconds{task} and
// ulvs_control_priority_gap_seconds histograms, ulvs_control_passes_total,
// ulvs_control_deferred_total.
std::string timing_metrics(const loop_timing& t);

} // namespace ulvs::ctl
