// IPVS ip_vs_wrr.c semantics over an array: the cursor's index is IPVS' mark->cl (-1 = the list
// head) and cw its current weight; mw and di are derived from svc.wrr.
#include "ulvs/dataplane/sched/wrr.h"

namespace ulvs::dp {

int32_t wrr_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
                 sched_cursor& cur) noexcept {
    const int32_t di = svc.wrr.gcd > 0 ? svc.wrr.gcd : 1;
    // IPVS lowers mw by di - 1 so that the last pass runs at cw = 1 and still catches a dest whose
    // weight is below di. With weights that are multiples of di it picks exactly the same dests.
    const int32_t mw = svc.wrr.max_weight - (di - 1);
    if (cur.gen != svc.gen) {
        // The dests or weights changed (or the cursor is fresh): as ip_vs_wrr_dest_changed, back
        // to the head, the current weight kept when it is still in range (rounded to the new
        // gcd's grid), else restarted at mw.
        cur.gen = svc.gen;
        cur.index = -1;
        if (cur.cw > mw || cur.cw <= 0)
            cur.cw = mw;
        else if (di > 1)
            cur.cw = (cur.cw / di) * di + 1;
    }
    if (mw <= 0 || n == 0)
        return -1; // all weights 0
    if (cur.cw <= 0 || cur.cw > mw)
        cur.cw = mw; // fresh cursor (IPVS init_svc / dest_changed)

    const int32_t n_i = static_cast<int32_t>(n);
    int32_t i = cur.index < n_i ? cur.index : -1;
    const int32_t last = i;
    int32_t stop = -2; // none yet; -1 would be the head
    bool last_pass = false, restarted = false;
    // Each round scans the dests after i for weight >= cw, then lowers cw by di. Stop conditions
    // as IPVS: every dest was checked at cw <= di (the last pass) without a hit, which happens
    // when every dest of weight > 0 is OVERLOADED (or svc.wrr disagrees with the weights).
    for (;;) {
        for (++i; i < n_i; ++i) {
            if (!a.load.overloaded(dests[i]) && static_cast<int64_t>(dests[i].weight) >= cur.cw) {
                cur.index = i;
                return i;
            }
            if (i == stop) {
                cur.index = i;
                return -1;
            }
        }
        i = -1;
        cur.cw -= di;
        if (cur.cw <= 0) {
            cur.cw = mw;
            if (last_pass || last == -1) {
                cur.index = -1;
                return -1;
            }
            restarted = true;
        }
        last_pass = cur.cw <= di;
        // The pass at cw <= di started after `last`: finish it over the dests up to `last`.
        if (last_pass && restarted && last != -1)
            stop = last;
    }
}

} // namespace ulvs::dp
