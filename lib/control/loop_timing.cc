#include "ulvs/control/loop_timing.h"

#include <fmt/format.h>

namespace ulvs::ctl {

namespace {

std::string bound_name(uint64_t us) {
    if (us >= 1'000'000)
        return fmt::format("{}s", us / 1'000'000);
    if (us >= 1'000)
        return fmt::format("{}ms", us / 1'000);
    return fmt::format("{}us", us);
}

} // namespace

std::string format_timing(const std::string& name, const timing_hist& h) {
    std::string s = fmt::format("{}: {} calls, mean {} us, max {} us", name, h.count,
                                h.count ? h.total_us / h.count : 0, h.max_us);
    for (size_t b = 0; b < h.buckets.size(); ++b) {
        if (h.buckets[b] == 0)
            continue;
        if (b < timing_bounds_us.size())
            s += fmt::format(", <={} {}", bound_name(timing_bounds_us[b]), h.buckets[b]);
        else
            s += fmt::format(", >{} {}", bound_name(timing_bounds_us.back()), h.buckets[b]);
    }
    return s;
}

namespace {

void histogram(std::string& out, const char* name, const std::string& labels,
               const timing_hist& h) {
    const std::string sep = labels.empty() ? "" : ",";
    uint64_t cumulative = 0;
    for (size_t b = 0; b < timing_bounds_us.size(); ++b) {
        cumulative += h.buckets[b];
        out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep,
                           static_cast<double>(timing_bounds_us[b]) / 1e6, cumulative);
    }
    out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, h.count);
    const std::string braces = labels.empty() ? "" : "{" + labels + "}";
    out += fmt::format("{}_sum{} {}\n", name, braces, static_cast<double>(h.total_us) / 1e6);
    out += fmt::format("{}_count{} {}\n", name, braces, h.count);
}

} // namespace

std::string timing_metrics(const loop_timing& t) {
    std::string out;
    out += "# HELP ulvs_control_priority_gap_seconds Time between two serves of the control "
           "lcore's priority work (rings, VRRP timers): what an advert due at the worst moment "
           "waited.\n# TYPE ulvs_control_priority_gap_seconds histogram\n";
    histogram(out, "ulvs_control_priority_gap_seconds", "", t.priority_gap);
    out += "# HELP ulvs_control_task_seconds Time of one call of a best-effort task of the "
           "control lcore.\n# TYPE ulvs_control_task_seconds histogram\n";
    for (const task_timing& task : t.tasks) {
        std::string name;
        for (char c : task.name)
            name += c == '"' || c == '\\' ? '_' : c;
        histogram(out, "ulvs_control_task_seconds", "task=\"" + name + "\"", task.calls);
    }
    out += fmt::format("# HELP ulvs_control_passes_total Passes of the control loop.\n"
                       "# TYPE ulvs_control_passes_total counter\nulvs_control_passes_total {}\n"
                       "# HELP ulvs_control_deferred_total Passes that left tasks for the next "
                       "one (pass budget spent).\n# TYPE ulvs_control_deferred_total counter\n"
                       "ulvs_control_deferred_total {}\n"
                       "# HELP ulvs_control_held_total Task calls put off until after a due "
                       "priority event (a VRRP advert).\n# TYPE ulvs_control_held_total counter\n"
                       "ulvs_control_held_total {}\n",
                       t.passes, t.deferred, t.held);
    return out;
}

} // namespace ulvs::ctl
