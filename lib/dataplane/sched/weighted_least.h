// wlc and sed differ only in the overhead: the scan they share, IPVS' two-stage loop. Private to
// lib/dataplane/sched.
#pragma once

#include "ulvs/dataplane/sched/least_conn.h"

namespace ulvs::dp::detail {

template <class Overhead>
int32_t weighted_least(sched_args& a, const dest* dests, uint32_t n, Overhead overhead) noexcept {
    uint32_t i = 0;
    // The first available dest with weight > 0 is the initial choice.
    for (; i < n; ++i)
        if (!a.load.overloaded(dests[i]) && dests[i].weight > 0)
            break;
    if (i == n)
        return -1;
    uint32_t least = i;
    int64_t loh = overhead(dests[i]);
    for (++i; i < n; ++i) {
        if (a.load.overloaded(dests[i]))
            continue;
        const int64_t doh = overhead(dests[i]);
        // loh/lw > doh/dw without division; overheads < 2^40 and weights < 2^16: no overflow.
        if (loh * int64_t{dests[i].weight} > doh * int64_t{dests[least].weight}) {
            least = i;
            loh = doh;
        }
    }
    return static_cast<int32_t>(least);
}

} // namespace ulvs::dp::detail
