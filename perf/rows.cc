#include "rows.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace ulvs::perf {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

void print_header() {
    std::printf("%-22s %2s %9s %8s %10s %7s %-18s %7s %6s\n", "workload", "w", "conns", "Mpps",
                "cycles/pkt", "ratio", "against", "B/conn", "redir");
}

void print_row(const row& r) {
    std::printf("%-22s %2u %9u %8.2f %10.1f %7.3f %-18s %7.1f %6.3f", r.workload.c_str(), r.workers,
                r.conns, r.mpps, r.cycles, r.ratio, r.against.c_str(), r.bytes, r.redirected);
    if (r.conns_per_s > 0)
        std::printf("  %.2f M conns/s", r.conns_per_s / 1e6);
    for (const auto& [k, v] : r.extra)
        std::printf("  %s %s", k.c_str(), v.c_str());
    std::printf("\n");
    std::fflush(stdout);
}

bool write_json(const std::string& path, const std::vector<row>& rows) {
    std::ofstream o(path);
    o << "[\n";
    for (size_t i = 0; i < rows.size(); ++i) {
        const row& r = rows[i];
        char b[640];
        std::snprintf(b, sizeof b,
                      "  {\"workload\": \"%s\", \"conns\": %u, \"mpps\": %.3f, \"cycles_per_pkt\": "
                      "%.1f, \"ratio_vs_baseline\": %.3f, \"baseline\": \"%s\", "
                      "\"bytes_per_conn\": %.1f, \"workers\": %u, \"redirected\": %.4f",
                      r.workload.c_str(), r.conns, r.mpps, r.cycles, r.ratio, r.against.c_str(),
                      r.bytes, r.workers, r.redirected);
        o << b;
        if (r.conns_per_s > 0)
            o << ", \"conns_per_s\": " << static_cast<uint64_t>(r.conns_per_s);
        for (const auto& [k, v] : r.extra)
            o << ", \"" << k << "\": " << v;
        o << (i + 1 < rows.size() ? "},\n" : "}\n");
    }
    o << "]\n";
    return bool(o);
}

} // namespace ulvs::perf
