// Packet tables, way (a): every generated case straight through the worker's burst function and
// the control lcore's exception handler (harness.h), with the same config file, snapshot builder
// and neighbour setup as ulvsd. Way (b) is run_e2e.py through ulvsd itself.
#include "harness.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using namespace ulvs;

namespace {

const fs::path cases_dir = ULVS_PACKET_CASES_DIR;

std::vector<std::string> list_cases() {
    std::vector<std::string> names;
    if (fs::exists(cases_dir))
        for (const auto& e : fs::directory_iterator(cases_dir))
            if (e.is_directory() && fs::exists(e.path() / "expect.txt"))
                names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::string hex(const test::frame& f) {
    std::string s;
    char b[4];
    for (uint8_t c : f) {
        std::snprintf(b, sizeof b, "%02x", c);
        s += b;
    }
    return s;
}

class packet_table : public ::testing::TestWithParam<std::string> {};

TEST_P(packet_table, burst_function) {
    const fs::path dir = cases_dir / GetParam();
    const test::case_expect expect = test::read_expect(dir / "expect.txt");
    SCOPED_TRACE(expect.description);
    // One rig is one worker: the redirect rings between workers and their expect_counter
    // minimums are checked end to end only (run_e2e.py).
    if (expect.workers > 1)
        GTEST_SKIP() << "multi-worker case (" << expect.workers
                     << " workers): run end to end by run_e2e.py only";
    auto cfg = config::load_file(dir / "config.yaml");
    ASSERT_TRUE(cfg) << cfg.error().front().to_string();
    test::rig rig(*cfg);
    ASSERT_TRUE(rig.ok()) << rig.error();

    std::map<std::string, std::vector<test::frame>> out;
    uint64_t now = 1000;
    for (size_t p = 0; p < cfg->ports.size(); ++p) {
        const auto in = test::read_pcap(dir / ("in_" + cfg->ports[p].name + ".pcap"));
        for (size_t i = 0; i < in.size(); i += dp::max_burst) {
            const auto end = in.begin() + static_cast<long>(std::min(in.size(), i + dp::max_burst));
            auto res =
                rig.burst(static_cast<uint8_t>(p), {in.begin() + static_cast<long>(i), end}, now++);
            for (size_t q = 0; q < res.size(); ++q)
                for (auto& f : res[q])
                    out[cfg->ports[q].name].push_back(std::move(f));
        }
    }

    for (const auto& port : cfg->ports) {
        auto want = test::read_pcap(dir / ("expected_" + port.name + ".pcap"));
        auto got = out[port.name];
        const auto order = expect.order.contains(port.name) ? expect.order.at(port.name) : "exact";
        if (order == "set") {
            std::sort(want.begin(), want.end());
            std::sort(got.begin(), got.end());
        }
        ASSERT_EQ(got.size(), want.size()) << "frames out of port " << port.name;
        for (size_t i = 0; i < want.size(); ++i)
            EXPECT_EQ(hex(got[i]), hex(want[i])) << "frame " << i << " out of port " << port.name;
    }
    for (size_t d = 0; d < static_cast<size_t>(dp::drop::count); ++d) {
        const std::string name(dp::drop_name(static_cast<dp::drop>(d)));
        const uint64_t want = expect.drops.contains(name) ? expect.drops.at(name) : 0;
        EXPECT_EQ(rig.worker().ctr.drops[d], want) << "drop counter " << name;
    }
}

INSTANTIATE_TEST_SUITE_P(cases, packet_table, ::testing::ValuesIn(list_cases()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(packet_table);

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // A missing case folder or EAL failure fails the run: it must never read as skipped cases.
    if (list_cases().empty()) {
        std::fprintf(stderr, "no packet cases under %s\n", cases_dir.c_str());
        return 1;
    }
    if (!test::init_eal("burst")) {
        std::fprintf(stderr, "EAL initialisation failed\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
