// Round-robin (IPVS ip_vs_rr.c): the next dest after the last one picked with weight > 0.
#pragma once

#include "ulvs/dataplane/fwd/snapshot.h"

namespace ulvs::dp {

int32_t rr_pick(const dest* dests, uint32_t n, const service& svc, sched_cursor& cur) noexcept;

} // namespace ulvs::dp
