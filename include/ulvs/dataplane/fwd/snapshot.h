// The configuration the workers read: an immutable snapshot built by the control lcore and
// published with one pointer store (see control/service/publisher.h). Workers fetch the pointer
// once per loop iteration and never write into it.
#pragma once

#include "ulvs/common/flat_map.h"
#include "ulvs/common/inet.h"
#include "ulvs/dataplane/conn/tcp_state.h"
#include "ulvs/dataplane/fwd/police.h"
#include "ulvs/dataplane/fwd/sync_msg.h"
#include "ulvs/dataplane/fwd/vip_owners.h"
#include "ulvs/dataplane/sched/sched.h"

#include <cstdint>
#include <memory>
#include <vector>

struct rte_lpm;

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
    uint32_t tun_src;  // TUN outer source: our address on the egress port (network order)
    // IPVS thresholds (ipvsadm -x/-y): OVERLOADED at active + inactive >= upper (0 = none),
    // until below lower (0 = 3/4 of upper). See sched/load.h.
    uint32_t upper = 0;
    uint32_t lower = 0;
};

class locality_table; // sched/locality.h

struct service {
    uint32_t vip;  // network order
    uint16_t port; // network order
    l4_proto proto;
    sched_kind sched;
    uint32_t dest_first = 0; // dests[dest_first, dest_first + dest_count)
    uint32_t dest_count = 0;
    uint32_t stats_id = 0;
    // Identifies the scheduler's input (scheduler, flags, dests and weights): the same in every
    // snapshot while that input is unchanged, so the workers' cursors carry on; when it changes,
    // a cursor is moved as IPVS moves its position on an edit (rr.h, wrr.h).
    uint32_t gen = 0;
    wrr_params wrr;
    uint8_t sched_flags = 0; // sched_flag::* (ipvsadm -b)
    // sh/dh/mh table: slot -> index into this service's dests (no_slot = none). Owned by the
    // snapshot's sched_tables; slot_count is 256 for sh/dh, the prime M for mh, 0 = no table.
    const uint16_t* slots = nullptr;
    uint32_t slot_count = 0;
    // lblc/lblcr: the service's destination -> server(s) table, one row per worker, written by
    // the workers (sched/locality.h). Owned by the snapshot's locality_tables.
    locality_table* locality = nullptr;
    // Persistence (IPVS templates): 0 = not persistent; else the template timeout, and the
    // granularity mask (network order) applied to the client address.
    uint32_t persist_ms = 0;
    uint32_t persist_mask = 0;
    bool expire_quiescent = false; // expire_quiescent_template: weight 0 invalidates templates
    bool is_match = false;         // a `match:` service: vip/port are 0, see match_rule
    // `sloppy: true` (IPVS sloppy_tcp): a TCP segment without SYN of an unknown connection is
    // scheduled as new (ECMP: a flow another node carried until now).
    bool sloppy = false;
};

// A `match:` service's packet filter (the fwmark-style services). Checked in snapshot order,
// before address:port services (IPVS looks fwmark services up first); the first match wins.
struct match_rule {
    uint32_t svc;                  // index into services_v
    uint8_t proto;                 // IPPROTO_TCP / IPPROTO_UDP
    std::vector<uint32_t> dsts;    // destination addresses (network order)
    std::vector<uint16_t> ports;   // destination ports (network order); empty: any
    std::vector<uint64_t> sources; // (net << 32 | mask), host order; empty: any
};

// A scheduler table built by lib/control/sched and shared by every snapshot whose service has
// the same dests and weights (so it is rebuilt only when they change).
struct sched_table {
    std::vector<uint16_t> slots;
};

class load_board; // sched/load.h

// Routing for the real servers' own traffic (issue 19, config `snat:` and `forwarding_rules:`;
// fwd/snat.h). Prefixes as match_rule's sources: (net << 32 | mask), host order.
constexpr uint8_t any_port = 0xff;

// Source NAT for connections from `sources` leaving by `out_port`, to addresses
// addr_first..addr_first + addr_count - 1 and ports port_first..port_last (host order).
struct snat_rule {
    std::vector<uint64_t> sources;
    uint8_t out_port = 0;
    uint32_t addr_first = 0;
    uint32_t addr_count = 1;
    uint16_t port_first = 1024;
    uint16_t port_last = 65535;
};

// Plain routed forwarding from `sources` to `dsts`, in by `in_port`, out by `out_port` (any_port:
// any).
struct forward_rule {
    std::vector<uint64_t> sources;
    std::vector<uint64_t> dsts;
    uint8_t in_port = any_port;
    uint8_t out_port = any_port;
};

inline bool in_prefixes(const std::vector<uint64_t>& v, uint32_t addr_host) noexcept {
    for (uint64_t p : v)
        if ((addr_host & static_cast<uint32_t>(p)) == static_cast<uint32_t>(p >> 32))
            return true;
    return false;
}

// What an IPv4 destination address is to us: bit flags, since an appliance address may also be
// a VIP (traffic to it that matches no service then goes to the control lcore, e.g. ssh).
// `match` marks a destination of some match service (only then are match rules scanned).
// `vrrp`: a VRRP virtual address, held only while its slot of `vip_owners` says so (vip_owners.h:
// a takeover needs no new snapshot); `unowned`: one not held as of this snapshot's build (an
// address without a slot). While not held, workers drop its traffic (drop::vip_not_owned) and the
// control lcore answers no ARP or ping for it. `host`: a VIP of the host view (control/exception/
// tap_plan.h) while `exception_path.allow` has a rule: its traffic that no service takes goes to
// the control lcore's exception ring (its filter decides) instead of being dropped (no_service).
enum class addr_kind : uint8_t {
    local = 1,
    vip = 2,
    local_vip = 3,
    match = 4,
    unowned = 8,
    vrrp = 16,
    host = 32
};
inline bool has(addr_kind k, addr_kind bit) noexcept {
    return (static_cast<uint8_t>(k) & static_cast<uint8_t>(bit)) != 0;
}

struct addr_info {
    addr_kind kind;
    uint8_t port;       // port index whose subnet holds the address (ARP is answered there)
    uint16_t owner = 0; // `vrrp`: its slot in vip_owners
};

inline uint64_t service_key(uint32_t vip, uint16_t port, uint8_t proto) noexcept {
    return uint64_t{vip} << 32 | uint64_t{port} << 8 | proto;
}

inline uint32_t pack_addr_info(addr_info a) noexcept {
    return static_cast<uint32_t>(a.kind) | uint32_t{a.port} << 8 | uint32_t{a.owner} << 16;
}
inline addr_info unpack_addr_info(uint32_t v) noexcept {
    return {static_cast<addr_kind>(v & 0xff), static_cast<uint8_t>(v >> 8),
            static_cast<uint16_t>(v >> 16)};
}

// Where a routed packet goes: out `port`, to `gateway` (network order) whose MAC is in neighbour
// slot `neigh`, or straight to the destination when gateway == 0 (a connected subnet).
struct next_hop {
    uint8_t port;
    uint32_t gateway;
    uint32_t neigh;
};

struct rte_lpm_deleter {
    void operator()(rte_lpm* l) const noexcept;
};

// Connected subnets and static routes, longest prefix first; the LPM's next-hop value indexes
// `hops`. Built once per distinct route set and shared by every snapshot built while the routes
// stay the same (control/service/routing.h): an rte_lpm's tbl24 alone is 64 MiB. Freed with the
// last snapshot holding it, i.e. after the grace period that retired that snapshot.
struct route_table {
    std::unique_ptr<rte_lpm, rte_lpm_deleter> lpm;
    std::vector<next_hop> hops;
    uint32_t default_hop = no_index; // 0.0.0.0/0: rte_lpm takes depths 1..32 only
    // Never 0, and another value for every table built in the process: a connection that cached
    // a next hop of this table (conn::reply_gen) knows by it whether the table is still the one.
    uint32_t gen = 0;
};

struct snapshot {
    flat_map addrs;    // dst ip (network order) -> pack_addr_info
    flat_map services; // service_key -> index into `services_v`
    std::vector<service> services_v;
    std::vector<dest> dests;
    state_timeouts timeouts = state_timeouts::ipvs_defaults();

    // Routing (shared with other snapshots while the routes are unchanged, see route_table).
    std::shared_ptr<const route_table> routes;
    std::vector<uint32_t> port_addr; // per port: its first address (network order), 0 if none
    flat_map nat_sources;            // RIP (network order) of NAT real servers -> 1
    // RIP (network order) of NAT real servers of persistent services -> granularity mask
    // (network order): their replies belong to the worker of the masked client address. The
    // config validator makes the mask unique per RIP.
    flat_map persist_rs;
    std::vector<match_rule> matches;
    // Each worker's share of the policers of traffic for the control lcore (police.h): ICMP echo
    // to our addresses and VIPs, and the other exception traffic (config `control_policing`).
    police_rate police_icmp_echo;
    police_rate police_exception;
    // config `vips.answer_ping`: false drops ICMP echo requests to virtual addresses
    // (drop::vip_ping_refused); the appliance's own addresses still answer.
    bool answer_ping = true;
    // `sync:` (connection sync, fwd/sync_msg.h): send.send = false and rx_port = 0 when unset.
    sync_params sync;
    // config `connections.expire_nodest_conn` (IPVS' sysctl): a connection whose dest (by stats
    // id) is in no service of this snapshot ends at its next packet, which is then handled as a
    // new one. `live_dests`: one bit per stats id of this snapshot's dests, built only when on.
    bool expire_nodest_conn = false;
    std::vector<uint64_t> live_dests;
    bool dest_gone(uint32_t stats_id) const noexcept {
        return (live_dests[stats_id >> 6] >> (stats_id & 63) & 1) == 0;
    }

    // The next hop towards `dst` (network order), or nullptr when there is no route.
    const next_hop* route(uint32_t dst) const noexcept;

    // Tables the services' `slots` point into, and the connection counts of the other workers
    // (set by the daemon; nullptr: a worker sees only its own counts). See sched/load.h.
    std::vector<std::shared_ptr<const sched_table>> sched_tables;
    std::vector<std::shared_ptr<locality_table>> locality_tables;
    load_board* loads = nullptr;
    // Routing and SNAT (issue 19): off while both are empty. `snat_addrs`: each SNAT address
    // (network order) -> index into `snat`; a packet to one of them on a port of its rule's
    // range (or an ICMP echo reply or error) is a reply to an SNAT connection (fwd/snat.h).
    std::vector<snat_rule> snat;
    std::vector<forward_rule> forwarding;
    flat_map snat_addrs;
    bool routing() const noexcept { return !snat.empty() || !forwarding.empty(); }

    // Which VRRP virtual addresses are held now (vip_owners.h); nullptr: no VRRP.
    const vip_owners* owners = nullptr;

    // Is an address of ours (addrs' value `a`) held by this appliance now? False only for a VRRP
    // virtual address whose instance is not MASTER here.
    bool held(addr_info a) const noexcept {
        if (has(a.kind, addr_kind::unowned))
            return false;
        if (has(a.kind, addr_kind::vrrp))
            return owners != nullptr && owners->held(a.owner);
        return true;
    }

    const service* find_service(uint32_t vip, uint16_t port, uint8_t proto) const noexcept {
        auto i = services.find(service_key(vip, port, proto));
        return i ? &services_v[*i] : nullptr;
    }

    // The first match service taking this packet (addresses and port in network order).
    const service* find_match(uint8_t proto, uint32_t src, uint32_t dst,
                              uint16_t dport) const noexcept;

    // The service of a packet to an address of kind `kind`: match services first (IPVS looks
    // fwmark services up before address:port ones), then the address:port service.
    const service* lookup(addr_kind kind, uint8_t proto, uint32_t src, uint32_t dst,
                          uint16_t dport) const noexcept {
        if (has(kind, addr_kind::match))
            if (const service* m = find_match(proto, src, dst, dport))
                return m;
        return find_service(dst, dport, proto);
    }
};

} // namespace ulvs::dp
