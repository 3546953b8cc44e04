#include "ulvs/dataplane/fwd/snapshot.h"

#include <rte_byteorder.h>
#include <rte_lpm.h>

#include <algorithm>

namespace ulvs::dp {

void rte_lpm_deleter::operator()(rte_lpm* l) const noexcept {
    rte_lpm_free(l);
}

const next_hop* snapshot::route(uint32_t dst) const noexcept {
    const route_table* r = routes.get();
    if (r == nullptr)
        return nullptr;
    uint32_t hop = 0;
    if (r->lpm && rte_lpm_lookup(r->lpm.get(), rte_be_to_cpu_32(dst), &hop) == 0)
        return &r->hops[hop];
    return r->default_hop == no_index ? nullptr : &r->hops[r->default_hop];
}

} // namespace ulvs::dp

namespace ulvs::dp {

const service* snapshot::find_match(uint8_t proto, uint32_t src, uint32_t dst,
                                    uint16_t dport) const noexcept {
    const uint32_t src_host = rte_be_to_cpu_32(src);
    for (const match_rule& r : matches) {
        if (r.proto != proto || std::find(r.dsts.begin(), r.dsts.end(), dst) == r.dsts.end())
            continue;
        if (!r.ports.empty() && std::find(r.ports.begin(), r.ports.end(), dport) == r.ports.end())
            continue;
        if (!r.sources.empty() && std::none_of(r.sources.begin(), r.sources.end(), [&](uint64_t p) {
                const auto mask = static_cast<uint32_t>(p);
                return (src_host & mask) == static_cast<uint32_t>(p >> 32);
            }))
            continue;
        return &services_v[r.svc];
    }
    return nullptr;
}

} // namespace ulvs::dp
