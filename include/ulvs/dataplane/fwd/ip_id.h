// IP IDs for the headers a worker makes fragmentable: the outer IPIP header of a non-DF inner
// packet (RFC 6864 section 4.1: the ID of a non-atomic datagram must be unique per source,
// destination and protocol for its lifetime; one counter per worker, shared by all
// destinations, is simpler and stricter).
#pragma once

#include "ulvs/dataplane/fwd/worker.h"

namespace ulvs::dp {

// The next ID of worker `w` (of n workers): w, w + n, w + 2n, ... up to 65535, then w again. Each
// worker draws from its own residue class modulo n, so no two workers hand out the same ID,
// before or after a wrap. Worker lcore only.
inline uint16_t next_ip_id(worker_ctx& w) noexcept {
    const uint16_t id = w.next_ip_id;
    const uint32_t next = uint32_t{id} + w.n_workers;
    w.next_ip_id = next > 0xffff ? static_cast<uint16_t>(w.id) : static_cast<uint16_t>(next);
    return id;
}

} // namespace ulvs::dp
