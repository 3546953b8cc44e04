#include "ulvs/dataplane/sched/dispatch.h"
#include "ulvs/dataplane/sched/hashing.h"
#include "ulvs/dataplane/sched/least_conn.h"
#include "ulvs/dataplane/sched/locality.h"
#include "ulvs/dataplane/sched/rr.h"
#include "ulvs/dataplane/sched/wrr.h"

namespace ulvs::dp {

int32_t sched_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                   sched_cursor& cur) noexcept {
    int32_t pick = -1;
    switch (svc.sched) {
    case sched_kind::rr:
        pick = rr_pick(a, dests, n, svc, cur);
        break;
    case sched_kind::wrr:
        pick = wrr_pick(a, dests, n, svc, cur);
        break;
    case sched_kind::lc:
        pick = lc_pick(a, dests, n, svc, cur);
        break;
    case sched_kind::wlc:
        pick = wlc_pick(a, dests, n, svc, cur);
        break;
    case sched_kind::sh:
        pick = sh_pick(a, dests, n, svc, cur);
        break;
    case sched_kind::dh:
        pick = dh_pick(a, dests, n, svc, cur);
        break;
    case sched_kind::sed:
        pick = sed_pick(a, dests, n, svc, cur);
        break;
    case sched_kind::nq:
        pick = nq_pick(a, dests, n, svc, cur);
        break;
    case sched_kind::mh:
        pick = mh_pick(a, dests, n, svc, cur);
        break;
    case sched_kind::lblc:
        pick = lblc_pick(a, dests, n, svc, cur);
        break;
    case sched_kind::lblcr:
        pick = lblcr_pick(a, dests, n, svc, cur);
        break;
    }
    if (pick >= 0)
        a.load.bound(dests[pick]); // IPVS ip_vs_bind_dest(): may set OVERLOAD at once
    return pick;
}

} // namespace ulvs::dp
