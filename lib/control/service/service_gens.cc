#include "ulvs/control/service/service_gens.h"

#include <algorithm>
#include <set>

namespace ulvs::ctl {

uint32_t service_gens::of(const dp::service& svc, const std::vector<dp::dest>& dests) {
    std::vector<uint64_t> input;
    input.reserve(svc.dest_count + 1);
    input.push_back(uint64_t{static_cast<uint8_t>(svc.sched)} << 8 | svc.sched_flags);
    for (uint32_t i = svc.dest_first; i < svc.dest_first + svc.dest_count; ++i)
        input.push_back(uint64_t{dests[i].stats_id} << 32 | dests[i].weight);
    std::vector<known>& ks = m_by_service[svc.stats_id];
    auto it = std::find_if(ks.begin(), ks.end(), [&](const known& k) { return k.input == input; });
    if (it != ks.end())
        return it->gen;
    if (ks.size() == history)
        ks.erase(ks.begin());
    // Never 0: a worker's fresh cursor has generation 0 and must see a change.
    if (++m_next == 0)
        ++m_next;
    ks.push_back({std::move(input), m_next});
    return m_next;
}

void service_gens::retain(const dp::snapshot& s) {
    std::set<uint32_t> live;
    for (const dp::service& svc : s.services_v)
        live.insert(svc.stats_id);
    std::erase_if(m_by_service, [&](const auto& e) { return !live.contains(e.first); });
}

} // namespace ulvs::ctl
