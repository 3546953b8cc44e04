// Connection sync (issue 18) as the workers see it: the record a worker hands to the control lcore
// when one of its connections or persistence templates is worth telling the peer about, and the
// same record back from the control lcore when the peer told us (docs/architecture.md
// "Connection sync"). The control lcore turns these into IPVS sync protocol v1 records
// (ulvs/sync/wire.h) and back; the workers never see the wire format.
//
// Both directions travel over per-worker rte_rings of fixed-size elements (rte_ring_elem), so a
// record costs no allocation: worker -> control (`worker_runtime::sync_out`, single producer: the
// worker; a full ring drops the record and counts it, worker_counters::sync_dropped) and control
// -> worker (`sync_in`, single producer: the control lcore).
#pragma once

#include "ulvs/dataplane/conn/tcp_state.h"
#include "ulvs/dataplane/sched/sched.h"

#include <cstdint>

namespace ulvs::dp {

struct snapshot;

// One connection or template, as of the moment it was sent. Addresses and ports in network
// order, as the connection table keeps them.
struct sync_msg {
    uint32_t caddr; // client (a template: the client address masked by the granularity)
    uint32_t vaddr; // virtual address
    uint32_t daddr; // real server
    uint16_t cport; // 0 for a template
    uint16_t vport;
    uint16_t dport; // a template: the real server's configured port (0: the client's)
    uint8_t proto;  // IPPROTO_TCP / IPPROTO_UDP
    uint8_t kind;   // key_kind::packet (a connection) or key_kind::addr_template
    fwd_mode mode;
    tcp_state state;
    uint8_t pad[2];
    uint32_t timeout_ms; // the life it has left
    uint32_t reserved;
};
static_assert(sizeof(sync_msg) == 32);

// Ring sizes (elements; an rte_ring of N holds N - 1). Worker -> control: the control lcore
// drains every millisecond, so 16k records cover 16 M records/s of bursts per worker; control ->
// worker: what one received datagram burst fans out to one worker.
constexpr unsigned sync_out_ring_size = 16384;
constexpr unsigned sync_in_ring_size = 8192;
// Records a worker applies per loop iteration (bounded: its packets wait meanwhile).
constexpr unsigned sync_apply_per_iteration = 64;

// Why a received record was not applied (worker_counters::sync_refused).
#define ULVS_FOREACH_SYNC_APPLY_REFUSAL(_)                                                         \
    _(no_service, "no virtual server for its address, port and protocol here")                     \
    _(no_dest, "its real server is not in that virtual server here")                               \
    _(table_full, "the connection table is full")                                                  \
    _(bad_record, "neither a connection nor an address template, or an unknown forwarding method")

enum class sync_refusal : uint8_t {
#define ULVS_SYNC_REFUSAL_ENUM(name, text) name,
    ULVS_FOREACH_SYNC_APPLY_REFUSAL(ULVS_SYNC_REFUSAL_ENUM)
#undef ULVS_SYNC_REFUSAL_ENUM
        count
};

const char* sync_refusal_name(sync_refusal r) noexcept;
const char* sync_refusal_description(sync_refusal r) noexcept;

// The worker that owns the connection or template of `m` (worker.h owner_of, as the burst path's
// owner_of_key picks it for a packet of the same flow): a persistent service's connections and
// templates belong to the worker of the masked client address. UINT32_MAX when `s` has no
// service for it (the record cannot be applied anywhere). Control lcore (any thread with a
// snapshot).
uint32_t sync_owner(const snapshot& s, const sync_msg& m, uint32_t n_workers) noexcept;

} // namespace ulvs::dp
