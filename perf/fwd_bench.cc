// The forwarding benchmark (issue 4; README "Tests"): one worker's real burst path
// (dp::process_burst, wired by the packet tests' rig exactly as ulvsd wires it) fed by an
// in-process traffic generator (traffic.h), against a 5-tuple-swap baseline (baseline.h) over the
// same packets in the same run. Prints a table and writes a JSON list (--json).
//
// Method: packets are written into mbufs a batch at a time (the generator's cost is not
// measured), then each burst goes through process_burst and the worker's expiry step, timed with
// rte_rdtsc; what the worker staged for TX is taken back as a NIC would and the mbufs return to
// the pool, so the next batch reuses them. Then the same batch is regenerated and timed through
// the baseline. cycles/pkt = timed cycles / packets; Mpps = TSC Hz / cycles per packet.
#include "baseline.h"
#include "bench_run.h"
#include "harness.h"
#include "traffic.h"
#include "ulvs/config/load.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

using namespace ulvs;

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
    std::vector<fwd_mode> modes = {fwd_mode::dr, fwd_mode::nat, fwd_mode::tun};
    bool snat = true; // issue 19: the real servers' SNAT connections (--modes snat)
};

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: fwd_bench [--conns N[,N...]] [--pkts N] [--repeat R] "
                         "[--dist uniform|zipf] [--modes dr,nat,tun,snat] [--no-mixed] [--no-sync] "
                         "[--warm] [--socket-ports] "
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
        } else {
            usage();
        }
    }
    for (uint32_t& n : o.conns) // whole bursts of handshakes
        n = std::max<uint32_t>(32, n / 32 * 32);
    return o;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

struct row {
    std::string workload;
    uint32_t conns;
    double mpps, cycles, ratio, bytes, conns_per_s;
};

row make_row(const std::string& name, uint32_t conns, const std::vector<perf::run_result>& runs,
             double bytes) {
    std::vector<double> cyc, ratio, base;
    for (const auto& r : runs) {
        cyc.push_back(r.real_cycles_per_pkt());
        base.push_back(r.base_cycles_per_pkt());
        ratio.push_back(r.base_cycles_per_pkt() / r.real_cycles_per_pkt());
    }
    const double c = median(cyc);
    const double mpps = double(rte_get_tsc_hz()) / c / 1e6;
    return {name, conns, mpps, c, median(ratio), bytes, 0};
}

void print_row(const row& r) {
    std::printf("%-22s %10u %8.2f %10.1f %8.3f %8.1f", r.workload.c_str(), r.conns, r.mpps,
                r.cycles, r.ratio, r.bytes);
    if (r.conns_per_s > 0)
        std::printf("   %.2f M conns/s", r.conns_per_s / 1e6);
    std::printf("\n");
    std::fflush(stdout);
}

bool write_json(const std::string& path, const std::vector<row>& rows) {
    std::ofstream o(path);
    o << "[\n";
    for (size_t i = 0; i < rows.size(); ++i) {
        const row& r = rows[i];
        char b[512];
        std::snprintf(b, sizeof b,
                      "  {\"workload\": \"%s\", \"conns\": %u, \"mpps\": %.3f, \"cycles_per_pkt\": "
                      "%.1f, \"ratio_vs_baseline\": %.3f, \"bytes_per_conn\": %.1f",
                      r.workload.c_str(), r.conns, r.mpps, r.cycles, r.ratio, r.bytes);
        o << b;
        if (r.conns_per_s > 0)
            o << ", \"conns_per_s\": " << static_cast<uint64_t>(r.conns_per_s);
        o << (i + 1 < rows.size() ? "},\n" : "}\n");
    }
    o << "]\n";
    return bool(o);
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
    const double bytes = run.bytes_per_conn();
    perf::traffic_params tp;
    tp.flows = n;
    tp.dist = opt.dist;
    const perf::traffic t(tp);
    const perf::run_result hs = run.measure(t, perf::stream_kind::handshake, 0, t.handshake_len());
    row h = make_row("new-connections-sync", n, {hs}, bytes);
    h.conns_per_s = double(n) / (double(hs.real_cycles) / double(rte_get_tsc_hz()));
    bool ok = run.check(n, "handshake (sync)");
    print_row(h);
    rows.push_back(h);
    std::vector<perf::run_result> est;
    for (uint32_t r = 0; r < opt.repeat; ++r)
        est.push_back(run.measure(t, perf::stream_kind::established, r * opt.pkts, opt.pkts));
    ok &= run.check(n, "established (sync)");
    rows.push_back(make_row("dr-established-sync", n, est, bytes));
    print_row(rows.back());
    if (run.worker().ctr.sync_dropped != 0) {
        std::fprintf(stderr, "fwd_bench: %llu sync records dropped\n",
                     static_cast<unsigned long long>(run.worker().ctr.sync_dropped));
        ok = false;
    }
    return ok;
}

} // namespace

int main(int argc, char** argv) {
    const options opt = parse_args(argc, argv);
    const uint32_t max_conns = *std::max_element(opt.conns.begin(), opt.conns.end());
    const unsigned mem_mb = perf::eal_mem_mb(max_conns);
    if (!test::init_eal("perf", mem_mb)) {
        std::fprintf(stderr, "fwd_bench: EAL init failed (%u MB)\n", mem_mb);
        return 1;
    }
    rte_mempool* pool = perf::bench_pool();
    if (pool == nullptr) {
        std::fprintf(stderr, "fwd_bench: mbuf pool\n");
        return 1;
    }
    std::printf("TSC %.2f GHz, %s flows, %s packets, %llu packets per measurement, median of %u\n",
                double(rte_get_tsc_hz()) / 1e9,
                opt.dist == perf::flow_dist::zipf ? "zipf(0.99)" : "uniform",
                opt.warm ? "cached" : "cold (DMA)", static_cast<unsigned long long>(opt.pkts),
                opt.repeat);
    std::printf("%-22s %10s %8s %10s %8s %8s\n", "workload", "conns", "Mpps", "cycles/pkt", "ratio",
                "B/conn");
    std::vector<row> rows;
    bool ok = true;
    for (const uint32_t n : opt.conns) {
        std::vector<std::optional<fwd_mode>> runs(opt.modes.begin(), opt.modes.end());
        if (opt.snat)
            runs.push_back(std::nullopt); // SNAT: the real server's own connections
        for (const std::optional<fwd_mode> m : runs) {
            const fwd_mode mode = m.value_or(fwd_mode::nat);
            const std::string name = m ? perf::mode_name(mode) : "snat";
            auto cfg = config::load_string(
                m ? perf::bench_config(mode, n) : perf::bench_snat_config(n), "bench.yaml");
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
            tp.snat = !m;
            const perf::traffic t(tp);
            // SYN + first ACK of every flow: the scheduler and the insert, one pass.
            const perf::run_result hs =
                run.measure(t, perf::stream_kind::handshake, 0, t.handshake_len());
            row h = make_row(std::string("new-connections") + (mode == fwd_mode::dr ? "" : "-") +
                                 (m && mode == fwd_mode::dr ? "" : name),
                             n, {hs}, bytes);
            h.conns_per_s = double(n) / (double(hs.real_cycles) / double(rte_get_tsc_hz()));
            ok &= run.check(n, "handshake");
            print_row(h);
            rows.push_back(h);
            std::vector<perf::run_result> est;
            for (uint32_t r = 0; r < opt.repeat; ++r)
                est.push_back(
                    run.measure(t, perf::stream_kind::established, r * opt.pkts, opt.pkts));
            ok &= run.check(n, "established");
            rows.push_back(make_row(name + "-established", n, est, bytes));
            print_row(rows.back());
            if (opt.mixed && m && mode == fwd_mode::dr) {
                // Established with 1/64 FINs and 1/64 SYNs: state changes and port reuse.
                std::vector<perf::run_result> mx;
                for (uint32_t r = 0; r < opt.repeat; ++r)
                    mx.push_back(run.measure(t, perf::stream_kind::mixed, r * opt.pkts, opt.pkts));
                rows.push_back(make_row("dr-mixed", n, mx, bytes));
                print_row(rows.back());
            }
        }
        if (opt.sync &&
            std::find(opt.modes.begin(), opt.modes.end(), fwd_mode::dr) != opt.modes.end())
            ok &= sync_rows(opt, n, pool, rows); // after the DR run's table is freed
    }
    if (!opt.json.empty() && !write_json(opt.json, rows)) {
        std::fprintf(stderr, "fwd_bench: cannot write %s\n", opt.json.c_str());
        return 1;
    }
    if (!ok)
        std::fprintf(stderr, "fwd_bench: unexpected drops (see above)\n");
    return ok ? 0 : 1;
}
