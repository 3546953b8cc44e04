// Each scheduler's pick for a new connection (sched_pick, as the burst path calls it) over a
// service of eight real servers with weights 1..8; hashing schedulers see a new source each time,
// lblc/lblcr one of 4096 destination addresses in turn (a cache cluster's origin servers).
#include "bench_run.h"
#include "ulvs/config/load.h"
#include "ulvs/dataplane/sched/dispatch.h"
#include "ulvs/dataplane/sched/locality.h"

#include <benchmark/benchmark.h>

#include <arpa/inet.h>

namespace {

using namespace ulvs;

constexpr const char* kinds[] = {"rr", "wrr", "lc", "wlc",  "sed",  "nq",
                                 "sh", "dh",  "mh", "lblc", "lblcr"};

std::string sched_config() {
    std::string c = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
connections: {max: 1024}
virtual_servers:
)";
    int port = 1;
    for (const char* k : kinds) {
        c += "  - {name: s" + std::to_string(port) +
             ", address: 203.0.113.101, port: " + std::to_string(port) +
             ", protocol: tcp, scheduler: " + k + ", forwarding: dr,\n     real_servers: [";
        for (int r = 0; r < 8; ++r)
            c += std::string(r ? ", " : "") + "{address: 198.51.100." + std::to_string(11 + r) +
                 ", weight: " + std::to_string(r + 1) + "}";
        c += "]}\n";
        ++port;
    }
    return c;
}

void BM_sched_pick(benchmark::State& st) {
    // One rig alive at a time: snapshots of different rigs would share route-table names.
    auto cfg = config::load_string(sched_config(), "sched.yaml");
    test::rig rig(*cfg);
    if (!rig.ok()) {
        st.SkipWithError(rig.error().c_str());
        return;
    }
    const dp::snapshot& s = rig.snap();
    dp::worker_ctx& w = rig.worker();
    const auto port = static_cast<uint16_t>(st.range(0) + 1);
    const dp::service* svc = s.find_service(htonl(0xcb007165u), htons(port), 6);
    st.SetLabel(kinds[st.range(0)]);
    dp::sched_cursor& cur = w.cursors[svc->stats_id];
    const dp::dest* d = s.dests.data() + svc->dest_first;
    uint32_t src = 0xc6120000u;
    const bool locality = svc->locality != nullptr;
    uint64_t now = 1000;
    for (auto _ : st) {
        ++src;
        const uint32_t dst = locality ? htonl(0x0a000000u + src % 4096) : svc->vip;
        dp::sched_args a{{htonl(src), dst, htons(1024), svc->port},
                         dp::load_view(w.dest_conns.data(), nullptr, nullptr)};
        a.now_ms = ++now;
        a.locality_evicted = &w.ctr.locality_evicted;
        const int32_t pick = dp::sched_pick(a, d, svc->dest_count, *svc, cur);
        // The load a pick leaves behind, as new_conn counts it (lc/wlc/sed/nq read it).
        ++w.dest_conns[d[pick].stats_id].inactive;
    }
    for (uint32_t i = 0; i < svc->dest_count; ++i)
        w.dest_conns[d[i].stats_id] = {};
    st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_sched_pick)->DenseRange(0, 10);

} // namespace
