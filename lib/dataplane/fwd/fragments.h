// Internal to lib/dataplane/fwd: IPv4 fragments on their way to reassembly (frag_table.h says
// which worker reassembles, what is bounded and what is counted).
#pragma once

#include "ulvs/dataplane/fwd/worker.h"
#include "ulvs/dataplane/pkt/parse.h"
#include "xmit.h"

#include <rte_mbuf.h>

namespace ulvs::dp::detail {

// One received fragment `m` (its IPv4 fields parsed in `pp`) received on `in_port`. Returns the
// datagram it completes - a chain whose first segment holds the Ethernet, IP and TCP/UDP headers,
// IP header checksum set - or nullptr: the fragment went to the worker that reassembles its
// datagram (redirect stage), waits in the table, or was dropped and counted.
rte_mbuf* fragment_in(worker_ctx& w, rte_mbuf* m, const parsed_pkt& pp, uint8_t in_port,
                      uint64_t now_ms) noexcept;

// to_control for a packet that may be a reassembled chain: the control lcore and the kernel TAP
// read one segment, so a chain is copied into its first one, or dropped when it does not fit.
inline void to_control_whole(worker_ctx& w, rte_mbuf* m, uint8_t in_port) noexcept {
    if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
        drop_pkt(w, m, drop::ip_fragment);
        return;
    }
    to_control(w, m, in_port);
}

} // namespace ulvs::dp::detail
