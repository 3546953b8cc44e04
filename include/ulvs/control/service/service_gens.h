// Scheduler generations (dp::service::gen) across snapshot builds.
//
// A worker keeps a scheduling cursor per service (rr/wrr position, dataplane/sched/sched.h) and
// resets or moves it when the service's generation changes. A generation therefore names one
// scheduler input — scheduler, flags, and the dests (stats ids) with their weights, in order —
// of one service: every build of that same input gets the same generation, so a republish for a
// VRRP or health change of another service, or of nothing this service schedules over, leaves
// its cursors where they are (IPVS only touches a scheduler's state when its own dests change).
// A service keeps the generations of its last few inputs (commit builds the configuration, the
// publication its health overlay: the two alternate).
//
// Thread safety: control lcore only (one per snapshot_inputs).
#pragma once

#include "ulvs/dataplane/fwd/snapshot.h"

#include <cstdint>
#include <map>
#include <vector>

namespace ulvs::ctl {

class service_gens {
public:
    // Inputs remembered per service (a generation is never given to another input).
    static constexpr size_t history = 4;

    // The generation of `svc` (stats_id, sched, sched_flags set) over `dests`.
    uint32_t of(const dp::service& svc, const std::vector<dp::dest>& dests);
    // Forget services that are not in `s` any more (after a successful build).
    void retain(const dp::snapshot& s);

private:
    struct known {
        std::vector<uint64_t> input;
        uint32_t gen;
    };
    std::map<uint32_t, std::vector<known>> m_by_service; // by service stats id, newest last
    uint32_t m_next = 0;
};

} // namespace ulvs::ctl
