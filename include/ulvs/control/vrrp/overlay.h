// VIP ownership in the workers' snapshot: every VRRP virtual address is a VIP of the snapshot,
// marked dp::addr_kind::vrrp with its slot in a dp::vip_owners table, which says whether an
// instance holding it is MASTER here. While none is, workers drop its traffic
// (drop::vip_not_owned) and the control lcore answers neither ARP nor ping for it. VIPs in no
// VRRP instance are always owned (no VRRP configured: the behaviour without VRRP).
//
// A VRRP transition only writes the table (publish_ownership): it takes effect at the workers'
// next packet, whatever a snapshot build or publication is doing (docs/architecture.md, "A
// change's way": a takeover owns its VIPs at once). Addresses past the table's capacity are marked
// at build time instead (dp::addr_kind::unowned), so for them an ownership change still needs a
// republish.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/control/vrrp/engine.h"
#include "ulvs/dataplane/fwd/snapshot.h"
#include "ulvs/dataplane/fwd/vip_owners.h"

namespace ulvs::ctl::vrrp {

// Mark e's virtual addresses in `s` (called by build_snapshot), with their slots in `owners`,
// whose flags it sets to the engine's current states.
void overlay_ownership(const engine& e, dp::vip_owners& owners, dp::snapshot& s);

// The engine's current ownership into `owners` (after engine::take_ownership_change()).
void publish_ownership(const engine& e, dp::vip_owners& owners);

} // namespace ulvs::ctl::vrrp
