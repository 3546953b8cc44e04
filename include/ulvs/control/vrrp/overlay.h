// VIP ownership in the workers' snapshot: every VRRP virtual address is a VIP of the snapshot,
// marked dp::addr_kind::unowned while no instance holding it is MASTER here. Workers then drop its
// traffic (drop::vip_not_owned) and the control lcore answers neither ARP nor ping for it. VIPs in
// no VRRP instance are always owned (no VRRP configured: the behaviour without VRRP).
//
// Thread safety: control lcore only (called by build_snapshot).
#pragma once

#include "ulvs/control/vrrp/engine.h"
#include "ulvs/dataplane/fwd/snapshot.h"

namespace ulvs::ctl::vrrp {

void overlay_ownership(const engine& e, dp::snapshot& s);

} // namespace ulvs::ctl::vrrp
