// The forwarding benchmark (issues 4 and 17; README "Tests"): one worker's real burst path
// (dp::process_burst, wired by the packet tests' rig exactly as ulvsd wires it) fed by an
// in-process traffic generator (traffic.h), against a 5-tuple-swap baseline (baseline.h) over the
// same packets in the same run; then the same through real PMD bursts on vdevs, one worker and
// two (pmd_run.h, pmd_rows.h). Prints a table and writes a JSON list (--json, rows.h).
//
// Compute-only rows: packets are written into mbufs a batch at a time (the generator's cost is
// not measured), then each burst goes through process_burst and the worker's expiry step, timed
// with rte_rdtsc; what the worker staged for TX is taken back as a NIC would and the mbufs return
// to the pool, so the next batch reuses them. Then the same batch is regenerated and timed through
// the baseline. cycles/pkt = timed cycles / packets; Mpps = TSC Hz / cycles per packet.
#include "baseline.h"
#include "bench_run.h"
#include "harness.h"
#include "pmd_rows.h"
#include "rows.h"
#include "traffic.h"
#include "ulvs/config/load.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using namespace ulvs;
using perf::row;

namespace {

struct options {
    std::vector<uint32_t> conns = {1u << 20, 10u << 20};
    uint64_t pkts = 8u << 20; // established packets per measurement
    uint32_t repeat = 3;
    perf::flow_dist dist = perf::flow_dist::uniform;
    std::string json;
    bool mixed = true;
    bool warm = false;
    bool socket_ports = false; // ports as af_packet/pcap ones: partial checksums looked for
    bool sync = true;          // DR rows again with connection sync on (issue 18)
    bool pmd = true;           // the PMD rows
    uint32_t workers = 2;      // the most workers of the PMD rows (1: no two-worker rows)
    std::vector<perf::steering> steerings = {perf::steering::owner_rss,
                                             perf::steering::default_rss};
    std::vector<fwd_mode> modes = {fwd_mode::dr, fwd_mode::nat, fwd_mode::tun};
    bool snat = true; // issue 19: the real servers' SNAT connections (--modes snat)
};

[[noreturn]] void usage() {
    std::fprintf(
        stderr, "usage: fwd_bench [--conns N[,N...]] [--pkts N] [--repeat R] "
                "[--dist uniform|zipf] [--modes dr,nat,tun,snat] [--no-mixed] [--no-sync] [--warm] "
                "[--socket-ports] [--no-pmd] [--workers 1|2] [--rss owner,default] "
                "[--json FILE]\n");
    std::exit(2);
}

options parse_args(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc)
                usage();
            return argv[++i];
        };
        if (a == "--conns") {
            o.conns.clear();
            std::string v = next();
            for (size_t p = 0; p < v.size();) {
                size_t e = v.find(',', p);
                o.conns.push_back(static_cast<uint32_t>(std::stoul(v.substr(p, e - p))));
                p = e == std::string::npos ? v.size() : e + 1;
            }
        } else if (a == "--pkts") {
            o.pkts = std::stoull(next());
        } else if (a == "--repeat") {
            o.repeat = static_cast<uint32_t>(std::stoul(next()));
        } else if (a == "--dist") {
            const std::string d = next();
            if (d != "uniform" && d != "zipf")
                usage();
            o.dist = d == "zipf" ? perf::flow_dist::zipf : perf::flow_dist::uniform;
        } else if (a == "--json") {
            o.json = next();
        } else if (a == "--modes") {
            o.modes.clear();
            const std::string v = next();
            auto named = [&v](std::string_view m) { // a comma-separated list's item
                for (size_t p = 0; p <= v.size();) {
                    const size_t e = std::min(v.find(',', p), v.size());
                    if (std::string_view(v).substr(p, e - p) == m)
                        return true;
                    p = e + 1;
                }
                return false;
            };
            for (const fwd_mode m : {fwd_mode::dr, fwd_mode::nat, fwd_mode::tun})
                if (named(perf::mode_name(m)))
                    o.modes.push_back(m);
            o.snat = named("snat");
        } else if (a == "--warm") {
            o.warm = true;
        } else if (a == "--socket-ports") {
            o.socket_ports = true;
        } else if (a == "--no-sync") {
            o.sync = false;
        } else if (a == "--no-mixed") {
            o.mixed = false;
        } else if (a == "--no-pmd") {
            o.pmd = false;
        } else if (a == "--workers") {
            o.workers = static_cast<uint32_t>(std::stoul(next()));
            if (o.workers < 1 || o.workers > perf::pmd_max_workers)
                usage();
        } else if (a == "--rss") {
            o.steerings.clear();
            const std::string v = next();
            for (const auto s : {perf::steering::owner_rss, perf::steering::default_rss})
                if (v.find(perf::steering_name(s)) != std::string::npos)
                    o.steerings.push_back(s);
            if (o.steerings.empty())
                usage();
        } else {
            usage();
        }
    }
    for (uint32_t& n : o.conns) // whole bursts of handshakes
        n = std::max<uint32_t>(32, n / 32 * 32);
    // Whole rounds of the PMD rows (pmd_run.cc: 1024 packets per worker).
    o.pkts = std::max<uint64_t>(2048, o.pkts / 2048 * 2048);
    return o;
}

// Medians over the runs' batches (bench_run.h says why): cycles per packet, and the ratio of the
// baseline's to the real path's, batch by batch.
row make_row(const std::string& name, uint32_t conns, const std::vector<perf::run_result>& runs,
             double bytes) {
    std::vector<double> cyc, ratio;
    for (const auto& r : runs)
        for (size_t i = 0; i < r.real_batch.size(); ++i) {
            cyc.push_back(r.real_batch[i]);
            ratio.push_back(r.base_batch[i] / r.real_batch[i]);
        }
    row x;
    x.workload = name;
    x.conns = conns;
    x.cycles = perf::median(cyc);
    x.mpps = double(rte_get_tsc_hz()) / x.cycles / 1e6;
    x.ratio = perf::median(ratio);
    x.against = "swap"; // baseline.h's swap_burst over the same packets, compute only
    x.bytes = bytes;
    return x;
}

// EAL lcores: the main lcore on the last CPU this process may use (where scripts/bench pinned
// the benchmark before it had two workers), a second worker lcore on the one before it.
std::string lcores_arg(uint32_t workers) {
    cpu_set_t set;
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set))
                cpus.push_back(c);
    if (cpus.empty())
        return "0";
    std::string s = "0@" + std::to_string(cpus.back());
    if (workers > 1 && cpus.size() > 1)
        s += ",1@" + std::to_string(cpus[cpus.size() - 2]);
    return s;
}

// The two rows of one extra workload on `run` (sync, SNAT): a handshake pass (`new_name`, with
// conns_per_s) and the established stream (`est_name`), as the mode loop measures its own.
bool handshake_and_established(const options& opt, perf::bench_run& run,
                               const perf::traffic_params& tp, const char* new_name,
                               const char* est_name, std::vector<row>& rows) {
    const uint32_t n = tp.flows;
    const double bytes = run.bytes_per_conn();
    const perf::traffic t(tp);
    const perf::run_result hs = run.measure(t, perf::stream_kind::handshake, 0, t.handshake_len());
    row h = make_row(new_name, n, {hs}, bytes);
    h.conns_per_s = h.mpps * 1e6 / 2; // as the new-connections row: two packets a connection
    bool ok = run.check(n, new_name);
    perf::print_row(h);
    rows.push_back(h);
    std::vector<perf::run_result> est;
    for (uint32_t r = 0; r < opt.repeat; ++r)
        est.push_back(run.measure(t, perf::stream_kind::established, r * opt.pkts, opt.pkts));
    ok &= run.check(n, est_name);
    rows.push_back(make_row(est_name, n, est, bytes));
    perf::print_row(rows.back());
    return ok;
}

// Connection sync's cost on the worker (issue 18: within 10% of sync off): the DR rows again
// with sync on as a master (IPVS' default threshold 3, period 50): new connections (each emits a
// record at its SYN and at its ACK) and established traffic (a record every 50 packets of a
// flow). Read beside new-connections and dr-established of the same run.
bool sync_rows(const options& opt, uint32_t n, rte_mempool* pool, std::vector<row>& rows) {
    auto cfg = config::load_string(perf::bench_config(fwd_mode::dr, n) +
                                       "sync: {role: master, interface: lan, threshold: 3, "
                                       "period: 50}\n",
                                   "bench.yaml");
    if (!cfg) {
        std::fprintf(stderr, "fwd_bench: %s\n", cfg.error().front().to_string().c_str());
        return false;
    }
    perf::bench_run run(*cfg, pool, opt.warm);
    if (!run.ok() || !run.enable_sync()) {
        std::fprintf(stderr, "fwd_bench: sync set-up failed (%u conns)\n", n);
        return false;
    }
    for (dp::port_view& pv : run.worker().ports)
        pv.partial_csum = opt.socket_ports;
    perf::traffic_params tp;
    tp.flows = n;
    tp.dist = opt.dist;
    bool ok = handshake_and_established(opt, run, tp, "new-connections-sync", "dr-established-sync",
                                        rows);
    if (run.worker().ctr.sync_dropped != 0) {
        std::fprintf(stderr, "fwd_bench: %llu sync records dropped\n",
                     static_cast<unsigned long long>(run.worker().ctr.sync_dropped));
        ok = false;
    }
    return ok;
}

// Issue 19: the real servers' own connections through SNAT (traffic.h `snat`), compute-only,
// read against nat-established.
bool snat_rows(const options& opt, uint32_t n, rte_mempool* pool, std::vector<row>& rows) {
    auto cfg = config::load_string(perf::bench_snat_config(n), "bench.yaml");
    if (!cfg) {
        std::fprintf(stderr, "fwd_bench: %s\n", cfg.error().front().to_string().c_str());
        return false;
    }
    perf::bench_run run(*cfg, pool, opt.warm);
    if (!run.ok()) {
        std::fprintf(stderr, "fwd_bench: SNAT set-up failed (%u conns)\n", n);
        return false;
    }
    for (dp::port_view& pv : run.worker().ports)
        pv.partial_csum = opt.socket_ports;
    perf::traffic_params tp;
    tp.flows = n;
    tp.dist = opt.dist;
    tp.replies = true;
    tp.snat = true;
    return handshake_and_established(opt, run, tp, "new-connections-snat", "snat-established",
                                     rows);
}

} // namespace

int main(int argc, char** argv) {
    options opt = parse_args(argc, argv);
    const uint32_t max_conns = *std::max_element(opt.conns.begin(), opt.conns.end());
    const unsigned mem_mb = perf::eal_mem_mb(max_conns);
    const std::string lcores = lcores_arg(opt.workers);
    if (!test::init_eal("perf", mem_mb, lcores)) {
        std::fprintf(stderr, "fwd_bench: EAL init failed (%u MB)\n", mem_mb);
        return 1;
    }
    if (opt.workers > rte_lcore_count()) {
        std::fprintf(stderr, "fwd_bench: one CPU only: no two-worker rows\n");
        opt.workers = 1;
    }
    rte_mempool* pool = perf::bench_pool();
    if (pool == nullptr) {
        std::fprintf(stderr, "fwd_bench: mbuf pool\n");
        return 1;
    }
    perf::pmd_ports ports;
    if (opt.pmd) {
        std::string err;
        if (!perf::open_pmd_ports(ports, pool, err)) {
            std::fprintf(stderr, "fwd_bench: PMD ports: %s\n", err.c_str());
            return 1;
        }
    }
    std::printf("TSC %.2f GHz, %s flows, %s packets, %llu packets per measurement, median of %u, "
                "lcores %s\n",
                double(rte_get_tsc_hz()) / 1e9,
                opt.dist == perf::flow_dist::zipf ? "zipf(0.99)" : "uniform",
                opt.warm ? "cached" : "cold (DMA)", static_cast<unsigned long long>(opt.pkts),
                opt.repeat, lcores.c_str());
    std::printf("ratio: the baseline's cycles / the row's over the same packets (column "
                "'against'); w: workers; redir: fraction of packets that crossed a ring\n");
    perf::print_header();
    std::vector<row> rows;
    bool ok = true;
    perf::pmd_options po;
    po.pkts = opt.pkts;
    po.repeat = opt.repeat;
    po.dist = opt.dist;
    po.warm = opt.warm;
    po.steerings = opt.steerings;
    for (const uint32_t n : opt.conns) {
        std::vector<std::pair<fwd_mode, double>> one_worker_pmd; // Mpps per mode
        bool pmd_baselines = true;
        for (const fwd_mode mode : opt.modes) {
            auto cfg = config::load_string(perf::bench_config(mode, n), "bench.yaml");
            if (!cfg) {
                std::fprintf(stderr, "fwd_bench: %s\n", cfg.error().front().to_string().c_str());
                return 1;
            }
            perf::bench_run run(*cfg, pool, opt.warm);
            if (!run.ok()) {
                std::fprintf(stderr, "fwd_bench: worker set-up failed (%u conns)\n", n);
                return 1;
            }
            // NIC ports by default, as deployed; --socket-ports: every packet is also tested for
            // a partial checksum, as on af_packet and pcap ports (pkt/l4_csum.h).
            for (dp::port_view& pv : run.worker().ports)
                pv.partial_csum = opt.socket_ports;
            const double bytes = run.bytes_per_conn();
            perf::traffic_params tp;
            tp.flows = n;
            tp.dist = opt.dist;
            tp.replies = mode == fwd_mode::nat;
            const perf::traffic t(tp);
            // SYN + first ACK of every flow: the scheduler and the insert, one pass.
            const perf::run_result hs =
                run.measure(t, perf::stream_kind::handshake, 0, t.handshake_len());
            row h = make_row(std::string("new-connections") + (mode == fwd_mode::dr ? "" : "-") +
                                 (mode == fwd_mode::dr ? "" : perf::mode_name(mode)),
                             n, {hs}, bytes);
            h.conns_per_s = h.mpps * 1e6 / 2; // two packets a connection
            ok &= run.check(n, "handshake");
            perf::print_row(h);
            rows.push_back(h);
            std::vector<perf::run_result> est;
            for (uint32_t r = 0; r < opt.repeat; ++r)
                est.push_back(
                    run.measure(t, perf::stream_kind::established, r * opt.pkts, opt.pkts));
            ok &= run.check(n, "established");
            rows.push_back(
                make_row(std::string(perf::mode_name(mode)) + "-established", n, est, bytes));
            perf::print_row(rows.back());
            if (opt.pmd) {
                // The same table, through rx_burst and tx_burst.
                ok &= perf::pmd_rows_one_worker(run, ports, pool, t, mode, n, po, pmd_baselines,
                                                rows);
                pmd_baselines = false; // once per table size
                one_worker_pmd.emplace_back(
                    mode,
                    rows[rows.size() - (rows.back().workload == "baseline-swap-pmd" ? 3 : 1)].mpps);
            }
            if (opt.mixed && mode == fwd_mode::dr) {
                // Connections ending and client ports reused (traffic.h, stream `mixed`).
                const uint64_t created0 = run.worker().ctr.conns_created;
                std::vector<perf::run_result> mx;
                for (uint32_t r = 0; r < opt.repeat; ++r)
                    mx.push_back(run.measure(t, perf::stream_kind::mixed, r * opt.pkts, opt.pkts));
                ok &= run.check(n, "mixed");
                const uint64_t reopened = run.worker().ctr.conns_created - created0;
                if (reopened == 0) {
                    std::fprintf(stderr, "fwd_bench: dr-mixed reused no client port\n");
                    ok = false;
                }
                row m = make_row("dr-mixed", n, mx, bytes);
                char b[32];
                std::snprintf(b, sizeof b, "%.5f",
                              double(reopened) / double(uint64_t{opt.repeat} * opt.pkts));
                m.extra.emplace_back("reopened", b);
                rows.push_back(m);
                perf::print_row(rows.back());
            }
        }
        if (opt.sync &&
            std::find(opt.modes.begin(), opt.modes.end(), fwd_mode::dr) != opt.modes.end())
            ok &= sync_rows(opt, n, pool, rows); // after the DR run's table is freed
        if (opt.snat)
            ok &= snat_rows(opt, n, pool, rows);
        if (opt.pmd && opt.workers > 1)
            for (const fwd_mode mode : opt.modes) {
                if (mode == fwd_mode::tun)
                    continue; // issue 17 asks for DR and two-arm NAT
                double one = 0;
                for (const auto& [m, mpps] : one_worker_pmd)
                    if (m == mode)
                        one = mpps;
                ok &= perf::pmd_rows_two_workers(mode, n, ports, pool, po, one, rows);
            }
    }
    if (!opt.json.empty() && !perf::write_json(opt.json, rows)) {
        std::fprintf(stderr, "fwd_bench: cannot write %s\n", opt.json.c_str());
        return 1;
    }
    if (!ok)
        std::fprintf(stderr, "fwd_bench: failed checks (see above)\n");
    return ok ? 0 : 1;
}
