#include "ulvs/dataplane/fwd/snapshot.h"

#include <rte_byteorder.h>
#include <rte_lpm.h>

namespace ulvs::dp {

void rte_lpm_deleter::operator()(rte_lpm* l) const noexcept {
    rte_lpm_free(l);
}

const next_hop* snapshot::route(uint32_t dst) const noexcept {
    uint32_t hop = 0;
    if (lpm && rte_lpm_lookup(lpm.get(), rte_be_to_cpu_32(dst), &hop) == 0)
        return &hops[hop];
    return default_hop == no_index ? nullptr : &hops[default_hop];
}

} // namespace ulvs::dp
