// Control-plane side of the schedulers: everything a pick needs that can be computed when the
// service changes rather than per new connection.
#pragma once

#include "ulvs/dataplane/fwd/snapshot.h"

#include <optional>
#include <string_view>

namespace ulvs::ctl {

// ipvsadm name -> kind; nullopt for unknown names.
std::optional<dp::sched_kind> sched_from_name(std::string_view name);
std::string_view sched_name(dp::sched_kind k);

// Fill svc.wrr from the weights of dests[svc.dest_first .. +dest_count).
void build_wrr(dp::service& svc, const std::vector<dp::dest>& dests);

} // namespace ulvs::ctl
