// The data path's side of the schedulers: picks that read tables the control plane built (see
// lib/control/sched) and cursors kept per worker. One file per scheduler, one small interface:
//
//   int32_t <name>_pick(const dest* dests, uint32_t n, const service& svc, sched_cursor& cur)
//
// returns an index in [0, n) or -1 when no real server is available (IPVS "no destination").
// A dest with weight 0 never gets a new connection.
#pragma once

#include <cstdint>

namespace ulvs::dp {

enum class sched_kind : uint8_t { rr, wrr, lc, wlc, sh, dh, sed, nq, mh };

// Parameters the control plane precomputes for wrr (IPVS ip_vs_wrr.c mark): the largest weight
// and the gcd of all non-zero weights.
struct wrr_params {
    int32_t max_weight = 0;
    int32_t gcd = 1;
};

// Per worker, per service scheduling position. Reset when the service's generation changes.
struct sched_cursor {
    uint32_t gen = 0;
    int32_t index = -1; // last picked dest (rr, wrr); -1 = before the first
    int32_t cw = 0;     // wrr current weight
};

} // namespace ulvs::dp
