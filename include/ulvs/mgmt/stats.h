// Aggregating the workers' per-core counters for reading (docs/architecture.md "Who owns which
// state": counters are plain per-worker integers, summed by the management plane when read).
#pragma once

#include "ulvs/dataplane/fwd/worker.h"

#include <span>
#include <string>

namespace ulvs::mgmt {

dp::worker_counters sum_workers(std::span<const dp::worker_ctx* const> workers);

// "rx_pkts=N rx_bytes=N tx_pkts=N ... drop.<reason>=N" with only the non-zero drop reasons.
// ulvsd logs it once at exit ("counters: ..."); the pcap packet tests parse that line.
std::string format_counters(const dp::worker_counters& c);

} // namespace ulvs::mgmt
