// Parse + classify of a burst: header validation (parse_frame) and the snapshot lookups the
// classifier makes per packet (our addresses, then the service), over 32 different flows.
#include "bench_run.h"
#include "frames.h"
#include "ulvs/config/load.h"
#include "ulvs/dataplane/pkt/parse.h"

#include <benchmark/benchmark.h>

namespace {

using namespace ulvs;

void BM_parse_classify_burst(benchmark::State& st) {
    auto cfg = config::load_string(perf::bench_config(fwd_mode::dr, 1024), "bench.yaml");
    test::rig rig(*cfg);
    if (!rig.ok()) {
        st.SkipWithError(rig.error().c_str());
        return;
    }
    const dp::snapshot& s = rig.snap();
    std::vector<test::frame> frames;
    for (uint16_t i = 0; i < 32; ++i)
        frames.push_back(test::make_frame(
            {"198.18.0.1", perf::traffic::vip, static_cast<uint16_t>(1024 + i), 80, 6},
            {2, 0, 0, 0, 0, 1}, test::pcap_port_mac(0), 0x10, 6));
    for (auto _ : st) {
        for (const test::frame& f : frames) {
            dp::parsed_pkt pp;
            const dp::drop v =
                dp::parse_frame(f.data(), static_cast<uint32_t>(f.size()), false, pp);
            benchmark::DoNotOptimize(v);
            benchmark::DoNotOptimize(s.addrs.find(pp.dst_ip));
            benchmark::DoNotOptimize(s.find_service(pp.dst_ip, pp.dst_port, pp.ip_proto));
        }
    }
    st.SetItemsProcessed(int64_t(st.iterations()) * 32);
}
BENCHMARK(BM_parse_classify_burst);

// The same with the IPv4 header checksum verified in software (no NIC offload).
void BM_parse_verify_csum_burst(benchmark::State& st) {
    const test::frame f = test::make_frame({"198.18.0.1", perf::traffic::vip, 1024, 80, 6},
                                           {2, 0, 0, 0, 0, 1}, test::pcap_port_mac(0), 0x10, 6);
    for (auto _ : st)
        for (int i = 0; i < 32; ++i) {
            dp::parsed_pkt pp;
            benchmark::DoNotOptimize(
                dp::parse_frame(f.data(), static_cast<uint32_t>(f.size()), true, pp));
        }
    st.SetItemsProcessed(int64_t(st.iterations()) * 32);
}
BENCHMARK(BM_parse_verify_csum_burst);

} // namespace
