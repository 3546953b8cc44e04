// Which worker's RX queue a packet arrives on: the NIC's RSS, computed in software (rte_softrss)
// for the benchmark's vdevs, which have no RSS of their own (issue 17).
#pragma once

#include "ulvs/dataplane/port/rss.h"

#include <cstdint>

namespace ulvs::perf {

enum class steering : uint8_t {
    // The ports as port_open programs them (dataplane/port/rss.h): rss_key, one field (the source
    // address on the client side, the destination on the server side), RETA entry i -> queue
    // i % W. Computed here with rte_softrss and the RETA, not with dp::owner_map, so that a
    // redirected fraction of 0 shows that the NIC's choice and owner_of agree.
    owner_rss,
    // A NIC left at its defaults: the common default Toeplitz key (Microsoft's RSS verification
    // key, testpmd's), the IPv4 TCP 4-tuple, a 128-entry RETA i -> i % W. Without RSS programmed
    // for the owner, (W - 1) / W of the packets cross a ring: what owner RSS buys.
    default_rss,
};

const char* steering_name(steering s);

// The RX queue (< n_queues) of Ethernet + IPv4 + TCP frame `f` received on a port whose packets
// have their client on `side` (client: requests, server: NAT replies).
uint16_t rx_queue_of(steering s, const uint8_t* f, dp::rss_side side, uint16_t n_queues);

} // namespace ulvs::perf
