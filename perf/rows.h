// The forwarding benchmark's results: one row per workload and table size, printed as a table and
// written as build/bench.json (SPEC.md section 8, README "Tests"). Every row has the same fields;
// a row may add its own (`extra`), so a new workload adds a row without touching the writer.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ulvs::perf {

struct row {
    std::string workload;
    uint32_t conns = 0;
    double mpps = 0;
    double cycles = 0;   // per packet; with several workers: core cycles (workers x wall time)
    double ratio = 0;    // baseline's cycles / this row's, over the same packets, same run
    std::string against; // which baseline `ratio` is against (a row's name or "swap")
    double bytes = 0;    // connection state per connection (0: rows without a table)
    uint32_t workers = 1;
    double redirected = 0;  // fraction of packets that crossed a ring to their owner worker
    double conns_per_s = 0; // new-connection rows
    // More fields: name and a JSON value as written ("0.5", "\"owner\"").
    std::vector<std::pair<std::string, std::string>> extra;
};

double median(std::vector<double> v);

void print_header();
void print_row(const row& r);
bool write_json(const std::string& path, const std::vector<row>& rows);

} // namespace ulvs::perf
