// The data path's side of the schedulers: picks that read tables the control plane built (see
// lib/control/sched) and cursors kept per worker. One file per scheduler, one small interface:
//
//   int32_t <name>_pick(sched_args& a, const dest* dests, uint32_t n, const service& svc,
//                       sched_cursor& cur) noexcept
//
// returns an index in [0, n) or -1 when no real server is available (IPVS "no destination").
// `a` carries what IPVS reads from the packet (addresses and ports for the hashing schedulers)
// and the worker's view of every real server's load (load.h) for lc/wlc/sed/nq and thresholds.
// A dest with weight 0 never gets a new connection, and an OVERLOADED one (upper threshold) is
// skipped exactly where IPVS skips it. sched_pick() (dispatch.h) switches over service::sched.
//
// Thread safety: picks run on a worker lcore; they never allocate, lock or wait.
#pragma once

#include <cstdint>

namespace ulvs::dp {

enum class sched_kind : uint8_t { rr, wrr, lc, wlc, sh, dh, sed, nq, mh, lblc, lblcr };

// ipvsadm -b flags, as IPVS' IP_VS_SVC_F_SCHED1/2 bits: sh-fallback and mh-fallback share bit 1,
// sh-port and mh-port bit 2 (the config only accepts each with its own scheduler).
namespace sched_flag {
constexpr uint8_t fallback = 0x01; // sh-fallback / mh-fallback: rehash past unavailable servers
constexpr uint8_t port = 0x02;     // sh-port / mh-port: hash the source port too
} // namespace sched_flag

// Parameters the control plane precomputes for wrr (IPVS ip_vs_wrr.c mark): the largest weight
// and the gcd of all non-zero weights.
struct wrr_params {
    int32_t max_weight = 0;
    int32_t gcd = 1;
};

// Per worker, per service scheduling position (IPVS' svc->sched_data), kept across snapshots
// while the service's generation (service::gen) stays. When it changes the pick moves the cursor
// as IPVS moves its position on an edit: rr stays at the dest it last picked (found again by
// stats id) or, that dest being gone, at its predecessor (ip_vs_rr_del_dest); wrr restarts at the
// head with its current weight kept (ip_vs_wrr_dest_changed).
struct sched_cursor {
    uint32_t gen = 0;
    int32_t index = -1;   // last picked dest (rr, wrr); -1 = before the first
    int32_t cw = 0;       // wrr current weight
    uint32_t last_id = 0; // stats id of dests[index] (rr: found again after a change)
};

// What IPVS' schedulers read from the packet of a new connection (network byte order): sh hashes
// the source address (and port with sh-port), dh the destination, mh as sh.
struct sched_input {
    uint32_t src_ip = 0;
    uint32_t dst_ip = 0;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
};

// Bucket count of IPVS' sh and dh tables (IP_VS_SH_TAB_BITS / IP_VS_DH_TAB_BITS = 8).
constexpr uint32_t hash_tab_bits = 8;
constexpr uint32_t hash_tab_size = 1u << hash_tab_bits;

// An empty slot of an sh/dh/mh table (IPVS' NULL bucket: no server).
constexpr uint16_t no_slot = UINT16_MAX;
// Dests per service a table can name (slots are uint16_t, no_slot excluded).
constexpr uint32_t max_table_dests = no_slot;

// Maglev table size when the config names none (a prime, 65537 by default as in IPVS).
constexpr uint32_t mh_default_table_size = 65537;

} // namespace ulvs::dp
