// One entry point for the packet path: the pick of the service's scheduler, then IPVS' bind-time
// threshold check for the dest it returns (the caller binds the new connection to it).
#pragma once

#include "ulvs/dataplane/sched/load.h"

namespace ulvs::dp {

int32_t sched_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                   sched_cursor& cur) noexcept;

} // namespace ulvs::dp
