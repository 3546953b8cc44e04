// Internal to lib/dataplane/fwd: what the burst path knows of a packet between its
// classification and its connection (process_burst.cc, conn_life.*).
#pragma once

#include "ulvs/dataplane/fwd/snapshot.h"

#include <cstdint>

struct rte_mbuf;

namespace ulvs::dp::detail {

constexpr uint8_t proto_icmp = 1, proto_tcp = 6, proto_udp = 17, proto_vrrp = 112;

// Which way a packet travels relative to its connection.
enum class path : uint8_t {
    request,    // client -> VIP:vport
    reply,      // real server -> client (NAT)
    icmp_in,    // ICMP error to the VIP about a packet we sent the client
    icmp_reply, // ICMP error from a real server about a packet we sent it (NAT)
};

// A packet that needs its connection, waiting for the bulk lookup.
struct candidate {
    rte_mbuf* m;
    const service* svc; // requests only
    uint16_t l3_off;
    uint16_t l4_off;
    uint16_t ip_len;
    uint16_t inner_off; // ICMP errors: the embedded IP header
    uint8_t proto;      // of the packet, or of the embedded packet for ICMP errors
    uint8_t tcp_flags;
    uint8_t in_port;
    path way;
    bool reassembled; // a datagram this worker put together: its owner is still to be checked
    bool snat;        // to an SNAT address: a reply to an SNAT connection (fwd/snat.h)
    bool steered;     // another worker handed it over: not to be redirected again
};

} // namespace ulvs::dp::detail
