// Per-packet rewrites: the incremental checksum update (pkt/csum.h) of an address + port change,
// the whole NAT rewrite of a TCP packet (fwd/nat.h), and IPIP encapsulation (fwd/tunnel).
#include "bench_run.h"
#include "frames.h"
#include "nat.h"
#include "tunnel.h"
#include "ulvs/config/load.h"
#include "ulvs/dataplane/pkt/csum.h"

#include <rte_mbuf.h>

#include <benchmark/benchmark.h>

#include <cstring>

namespace {

using namespace ulvs;

const test::frame& sample() {
    static const test::frame f =
        test::make_frame({"198.18.0.1", perf::traffic::vip, 1024, 80, 6}, {2, 0, 0, 0, 0, 1},
                         test::pcap_port_mac(0), 0x10, 6);
    return f;
}

void BM_csum_update(benchmark::State& st) {
    uint16_t ipsum = 0x1234, l4sum = 0x5678;
    uint32_t ip = 0x0a000001;
    for (auto _ : st) {
        dp::csum_replace4(ipsum, ip, ip + 1);
        dp::csum_replace4(l4sum, ip, ip + 1);
        dp::csum_replace2(l4sum, 80, 8080);
        ++ip;
        benchmark::DoNotOptimize(ipsum);
        benchmark::DoNotOptimize(l4sum);
    }
    st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_csum_update);

void BM_nat_rewrite(benchmark::State& st) {
    test::frame f = sample();
    uint32_t rip = 0xc6336400u;
    for (auto _ : st) {
        dp::detail::rewrite_endpoint(f.data() + 14, f.data() + 34, 6, false, ++rip, 8080);
        benchmark::ClobberMemory();
    }
    st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_nat_rewrite);

// forward_tun on one recycled mbuf: reset and the 60-byte copy included (a few ns).
void BM_ipip_encap(benchmark::State& st) {
    // One rig alive at a time: snapshots of different rigs would share route-table names.
    auto cfg = config::load_string(perf::bench_config(fwd_mode::tun, 1024), "bench.yaml");
    test::rig rig(*cfg);
    static rte_mempool* pool = perf::bench_pool();
    if (!rig.ok() || pool == nullptr) {
        st.SkipWithError(rig.ok() ? "mbuf pool" : rig.error().c_str());
        return;
    }
    dp::worker_ctx& w = rig.worker();
    const dp::dest& d = rig.snap().dests[0];
    dp::conn c{};
    c.dest_ip = d.ip;
    c.mode = fwd_mode::tun;
    c.out_port = d.out_port;
    c.neigh = d.neigh;
    c.tun_src = d.tun_src;
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    const test::frame& f = sample();
    for (auto _ : st) {
        m->data_off = RTE_PKTMBUF_HEADROOM;
        m->data_len = m->pkt_len = static_cast<uint16_t>(f.size());
        std::memcpy(rte_pktmbuf_mtod(m, void*), f.data(), f.size());
        if (!dp::detail::forward_tun(w, c, m, static_cast<uint16_t>(f.size() - 14), 0)) {
            st.SkipWithError("dropped");
            break;
        }
        w.tx[c.out_port].n = 0;
    }
    rte_pktmbuf_free(m);
    st.SetItemsProcessed(int64_t(st.iterations()));
}
BENCHMARK(BM_ipip_encap);

} // namespace
