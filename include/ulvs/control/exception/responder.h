// The control lcore's answers to packets the workers handed over: ARP for our addresses and VIPs,
// learning next hops from ARP, ICMP echo to our addresses and VIPs. Everything else is consumed
// silently (later issues add the kernel exception path, VRRP, ...).
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/dataplane/fwd/snapshot.h"

#include <array>
#include <cstdint>
#include <vector>

struct rte_mbuf;
struct rte_mempool;

namespace ulvs::ctl {

struct port_addrs {
    std::array<uint8_t, 6> mac{};
    std::vector<ip_prefix> addresses;
};

enum class exception_verdict : uint8_t {
    reply,    // the mbuf was rewritten in place: transmit it on the port it came in on
    consumed, // nothing to send; the caller frees the mbuf
};

// Handle one packet received on port index `in_port`.
exception_verdict handle_exception(const dp::snapshot& snap, const std::vector<port_addrs>& ports,
                                   neigh_manager& neigh, rte_mbuf* m, uint8_t in_port,
                                   uint64_t now_ms);

// A worker's request to resolve a next hop (dp::mbuf_port_resolve_request in mbuf->port, the
// address in mbuf->hash.usr): start tracking it. Returns true when `m` was such a request; the
// caller frees it.
bool handle_resolve_request(neigh_manager& neigh, const rte_mbuf* m);

// Build an ARP request for `target` out of port `port` (source address: the port's address on
// the target's subnet, else its first address). nullptr when the pool is empty.
rte_mbuf* make_arp_request(rte_mempool* pool, const port_addrs& port, ip_addr target);

} // namespace ulvs::ctl
