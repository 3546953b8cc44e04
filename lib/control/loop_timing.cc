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

} // namespace ulvs::ctl
