#include "ulvs/control/sched/tables.h"

#include <array>
#include <numeric>
#include <utility>

namespace ulvs::ctl {

namespace {

using dp::sched_kind;

// ipvsadm -s names, in sched_kind order.
constexpr std::array<std::pair<std::string_view, sched_kind>, 11> names = {{
    {"rr", sched_kind::rr},
    {"wrr", sched_kind::wrr},
    {"lc", sched_kind::lc},
    {"wlc", sched_kind::wlc},
    {"sh", sched_kind::sh},
    {"dh", sched_kind::dh},
    {"sed", sched_kind::sed},
    {"nq", sched_kind::nq},
    {"mh", sched_kind::mh},
    {"lblc", sched_kind::lblc},
    {"lblcr", sched_kind::lblcr},
}};

} // namespace

std::optional<sched_kind> sched_from_name(std::string_view name) {
    for (const auto& [n, k] : names)
        if (n == name)
            return k;
    return std::nullopt;
}

std::optional<uint8_t> sched_flag_from_name(std::string_view name) {
    // IPVS: IP_VS_SVC_F_SCHED1 is sh-fallback and mh-fallback, SCHED2 sh-port and mh-port.
    if (name == "sh-fallback" || name == "mh-fallback")
        return dp::sched_flag::fallback;
    if (name == "sh-port" || name == "mh-port")
        return dp::sched_flag::port;
    return std::nullopt;
}

std::string_view sched_name(sched_kind k) {
    for (const auto& [n, kind] : names)
        if (kind == k)
            return n;
    return "?";
}

void build_wrr(dp::service& svc, const std::vector<dp::dest>& dests) {
    // As IPVS ip_vs_wrr_max_weight / ip_vs_wrr_gcd_weight: the max over all dests, the gcd over
    // the non-zero weights, 1 when there is none (so the pick's step is never 0).
    int32_t max_w = 0, g = 0;
    const size_t end = std::min<size_t>(dests.size(), size_t{svc.dest_first} + svc.dest_count);
    for (size_t i = svc.dest_first; i < end; ++i) {
        const auto w = static_cast<int32_t>(dests[i].weight);
        if (w <= 0)
            continue;
        max_w = std::max(max_w, w);
        g = std::gcd(g, w);
    }
    svc.wrr.max_weight = max_w;
    svc.wrr.gcd = g ? g : 1;
}

} // namespace ulvs::ctl
