// Internal to lib/dataplane/fwd: TUN forwarding (IPIP) and what it needs when the tunnel does not
// fit the egress MTU: ICMP fragmentation-needed for DF packets, fragments for the others.
#pragma once

#include "ulvs/dataplane/fwd/worker.h"

namespace ulvs::dp::detail {

// Encapsulate the IPv4 packet in `m` (Ethernet + IP of `ip_len` bytes, received on `in_port`) to
// the real server of `c` and stage it (or its fragments). Returns false when dropped.
bool forward_tun(worker_ctx& w, const conn& c, rte_mbuf* m, uint16_t ip_len,
                 uint8_t in_port) noexcept;

} // namespace ulvs::dp::detail
