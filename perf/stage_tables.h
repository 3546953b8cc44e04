// What the connection-table benchmarks share (stage_conn.cc: our table; stage_hash.cc: rte_hash
// over the same keys).
#pragma once

#include "ulvs/dataplane/conn/conn_table.h"

#include <cstdint>
#include <vector>

namespace ulvs::perf {

// As traffic.h's flow i (client address 198.18.0.0 + i mod 2^17, port 1024 + i / 2^17, to the
// VIP's port 80).
dp::conn_key stage_key(uint32_t i);

// The random present keys every lookup benchmark of an n-entry table looks up: 64k of them (a
// burst's worth of keys would stay in the cache; these do not either).
std::vector<dp::conn_key> stage_lookup_keys(uint32_t n);

// This thread's CPU time (ns): what the counters convert to cycles, so that time the shared
// machine gave to other processes is not counted.
uint64_t stage_thread_cpu_ns();

// Frees stage_conn.cc's table (10M entries take a gigabyte; one table alive at a time).
void stage_free_conn_table();

// Our table's footprint at `capacity`, measured on the last table built (0 if none): memory per
// connection of the index alone (buckets and free list) and with the entries.
struct table_bytes {
    double index = 0, total = 0;
};
table_bytes stage_conn_table_bytes();

} // namespace ulvs::perf
