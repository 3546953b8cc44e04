#include "pmd_rows.h"

#include "ulvs/config/load.h"

#include <rte_cycles.h>

#include <arpa/inet.h>

#include <cstdio>
#include <string>

namespace ulvs::perf {

namespace {

std::string fmt(double v, const char* f = "%.3f") {
    char b[32];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

// Rows of the runs' real path (`name`) and, with `baselines`, of io and swap forwarding.
// `extra`: more fields of the real path's row; `one_worker_mpps` > 0: its speedup over that.
void add_rows(const std::vector<pmd_result>& runs, const std::string& name, uint32_t conns,
              uint32_t workers, double bytes, bool baselines, std::vector<row>& rows,
              std::vector<std::pair<std::string, std::string>> extra = {},
              double one_worker_mpps = 0) {
    std::vector<double> real, io, swap, r_io, r_swap, io_vs_swap;
    uint64_t pkts = 0, redirected = 0;
    for (const pmd_result& r : runs) {
        pkts += r.pkts;
        redirected += r.redirected;
        real.insert(real.end(), r.real_round.begin(), r.real_round.end());
        io.insert(io.end(), r.io_round.begin(), r.io_round.end());
        swap.insert(swap.end(), r.swap_round.begin(), r.swap_round.end());
        // Ratios per round: the two sides of one saw the same packets within a millisecond.
        for (size_t i = 0; i < r.real_round.size() && i < r.io_round.size(); ++i) {
            r_io.push_back(r.io_round[i] / r.real_round[i]);
            r_swap.push_back(r.swap_round[i] / r.real_round[i]);
            io_vs_swap.push_back(r.io_round[i] / r.swap_round[i]);
        }
    }
    const double hz = double(rte_get_tsc_hz());
    // Wall cycles per packet; the rows give core cycles (workers x wall).
    auto make = [&](const std::string& wl, double wall, double ratio, double b) {
        row x;
        x.workload = wl;
        x.conns = conns;
        x.workers = workers;
        x.mpps = hz / wall / 1e6;
        x.cycles = wall * workers;
        x.ratio = ratio;
        x.against = "baseline-io-pmd";
        x.bytes = b;
        return x;
    };
    row r = make(name, median(real), median(r_io), bytes);
    r.redirected = pkts ? double(redirected) / double(pkts) : 0;
    r.extra.emplace_back("ratio_vs_swap_pmd", fmt(median(r_swap)));
    r.extra.insert(r.extra.end(), extra.begin(), extra.end());
    if (one_worker_mpps > 0)
        r.extra.emplace_back("speedup_vs_1_worker", fmt(r.mpps / one_worker_mpps));
    rows.push_back(r);
    print_row(rows.back());
    if (!baselines)
        return;
    rows.push_back(make("baseline-io-pmd", median(io), 1.0, 0));
    print_row(rows.back());
    rows.push_back(make("baseline-swap-pmd", median(swap), median(io_vs_swap), 0));
    print_row(rows.back());
}

} // namespace

bool pmd_rows_one_worker(bench_run& run, const pmd_ports& ports, rte_mempool* pool,
                         const traffic& t, fwd_mode mode, uint32_t conns, const pmd_options& o,
                         bool with_baselines, std::vector<row>& rows) {
    pmd_bench pb(run.rig(), 1, ports, pool, run.clock());
    if (!pb.ok()) {
        std::fprintf(stderr, "fwd_bench: pmd set-up failed\n");
        return false;
    }
    std::vector<pmd_result> runs;
    for (uint32_t r = 0; r < o.repeat; ++r)
        runs.push_back(pb.measure(t, stream_kind::established, r * o.pkts, o.pkts, true));
    const bool ok = run.check(conns, "pmd", pb.take_to_ctrl());
    add_rows(runs, std::string(mode_name(mode)) + "-pmd", conns, 1, run.bytes_per_conn(),
             with_baselines, rows);
    return ok;
}

bool pmd_rows_two_workers(fwd_mode mode, uint32_t conns, const pmd_ports& ports, rte_mempool* pool,
                          const pmd_options& o, double one_worker_mpps, std::vector<row>& rows) {
    constexpr uint32_t n_workers = 2;
    // connections.max is per worker: each gets its share and an eighth more (the owner function
    // spreads client addresses evenly, not exactly).
    const uint32_t per_worker = (conns / n_workers + conns / n_workers / 8 + 31) / 32 * 32;
    auto cfg = config::load_string(bench_config(mode, per_worker), "bench.yaml");
    if (!cfg) {
        std::fprintf(stderr, "fwd_bench: %s\n", cfg.error().front().to_string().c_str());
        return false;
    }
    bench_run run(*cfg, pool, o.warm, n_workers);
    pmd_bench pb(run.rig(), n_workers, ports, pool, run.clock());
    if (!run.ok() || !pb.ok()) {
        std::fprintf(stderr, "fwd_bench: two-worker set-up failed (%u conns)\n", conns);
        return false;
    }
    const double bytes = run.bytes_per_conn();
    traffic_params tp;
    tp.flows = conns;
    tp.dist = o.dist;
    tp.replies = mode == fwd_mode::nat;
    bool ok = true;
    {
        const traffic hs(tp);
        const pmd_result r = pb.measure(hs, stream_kind::handshake, 0, hs.handshake_len(), false);
        ok &= run.check(conns, "pmd handshake, 2 workers", pb.take_to_ctrl());
        row h;
        h.workload = std::string("new-connections") + (mode == fwd_mode::dr ? "" : "-") +
                     (mode == fwd_mode::dr ? "" : mode_name(mode)) + "-pmd";
        h.conns = conns;
        h.workers = n_workers;
        const double wall = median(r.real_round);
        h.mpps = double(rte_get_tsc_hz()) / wall / 1e6;
        h.cycles = wall * n_workers;
        h.against = "none";
        h.ratio = 1; // no baseline for a handshake
        h.bytes = bytes;
        h.redirected = double(r.redirected) / double(r.pkts);
        h.conns_per_s = h.mpps * 1e6 / 2; // two packets a connection
        rows.push_back(h);
        print_row(rows.back());
    }
    // Each worker's round robin went its own way: replies must come from each flow's server.
    std::vector<uint8_t> rs_of;
    if (tp.replies) {
        rs_of.resize(conns);
        for (uint32_t f = 0; f < conns; ++f) {
            const dp::conn_key k{traffic::client_ip(f),
                                 inet_addr(traffic::vip),
                                 traffic::client_port(f),
                                 htons(traffic::vport),
                                 6,
                                 0,
                                 {0, 0}};
            for (uint32_t w = 0; w < n_workers; ++w)
                if (const dp::conn_ref ref = run.worker(w).conns.lookup(k); ref.found())
                    rs_of[f] = static_cast<uint8_t>(
                        (ntohl(run.worker(w).conns.at(ref.index).dest_ip) & 0xff) - 11);
        }
        tp.rs_of = rs_of.data();
    }
    const traffic t(tp);
    bool first = true;
    for (const steering st : o.steerings) {
        pb.set_steering(st);
        std::vector<pmd_result> runs;
        for (uint32_t r = 0; r < o.repeat; ++r)
            runs.push_back(pb.measure(t, stream_kind::established, r * o.pkts, o.pkts, true));
        ok &= run.check(conns, "pmd, 2 workers", pb.take_to_ctrl());
        // What the baselines say does not depend on the steering: once, with the first.
        add_rows(runs, std::string(mode_name(mode)) + "-pmd", conns, n_workers, bytes,
                 first && mode == fwd_mode::dr, rows,
                 {{"rss", std::string("\"") + steering_name(st) + "\""}}, one_worker_mpps);
        first = false;
    }
    return ok;
}

} // namespace ulvs::perf
