// The configuration the workers read: an immutable snapshot built by the control lcore and
// published with one pointer store (see control/service/publisher.h). Workers fetch the pointer
// once per loop iteration and never write into it.
#pragma once

#include "ulvs/common/flat_map.h"
#include "ulvs/common/inet.h"
#include "ulvs/dataplane/conn/tcp_state.h"
#include "ulvs/dataplane/sched/sched.h"

#include <cstdint>
#include <vector>

namespace ulvs::dp {

constexpr uint32_t no_index = UINT32_MAX;
constexpr uint32_t max_services = 4096;   // per snapshot: sizes the per-worker cursor array
constexpr uint32_t max_stats_ids = 65536; // virtual + real servers ever configured in one run

// A real server as the data path sees it.
struct dest {
    uint32_t ip;       // network order
    uint16_t port;     // network order; 0 = keep the client's destination port
    fwd_mode mode;     // nat | dr | tun
    uint8_t out_port;  // port index the real server (or its gateway) is reached on
    uint32_t neigh;    // neighbour-table slot of the next hop
    uint32_t weight;   // 0 = quiesced: no new connections
    uint32_t stats_id; // stable across snapshots: index of its counters in every worker
};

struct service {
    uint32_t vip;  // network order
    uint16_t port; // network order
    l4_proto proto;
    sched_kind sched;
    uint32_t dest_first = 0; // dests[dest_first, dest_first + dest_count)
    uint32_t dest_count = 0;
    uint32_t stats_id = 0;
    uint32_t gen = 0; // changes when dests or weights change: workers reset their cursors
    wrr_params wrr;
};

// What an IPv4 destination address is to us: bit flags, since an appliance address may also be
// a VIP (traffic to it that matches no service then goes to the control lcore, e.g. ssh).
enum class addr_kind : uint8_t { local = 1, vip = 2, local_vip = 3 };
inline bool has(addr_kind k, addr_kind bit) noexcept {
    return (static_cast<uint8_t>(k) & static_cast<uint8_t>(bit)) != 0;
}

struct addr_info {
    addr_kind kind;
    uint8_t port; // port index whose subnet holds the address (ARP is answered there)
};

inline uint64_t service_key(uint32_t vip, uint16_t port, uint8_t proto) noexcept {
    return uint64_t{vip} << 32 | uint64_t{port} << 8 | proto;
}

inline uint32_t pack_addr_info(addr_info a) noexcept {
    return static_cast<uint32_t>(a.kind) | uint32_t{a.port} << 8;
}
inline addr_info unpack_addr_info(uint32_t v) noexcept {
    return {static_cast<addr_kind>(v & 0xff), static_cast<uint8_t>(v >> 8)};
}

struct snapshot {
    flat_map addrs;    // dst ip (network order) -> pack_addr_info
    flat_map services; // service_key -> index into `services_v`
    std::vector<service> services_v;
    std::vector<dest> dests;
    state_timeouts timeouts = state_timeouts::ipvs_defaults();

    const service* find_service(uint32_t vip, uint16_t port, uint8_t proto) const noexcept {
        auto i = services.find(service_key(vip, port, proto));
        return i ? &services_v[*i] : nullptr;
    }
};

} // namespace ulvs::dp
