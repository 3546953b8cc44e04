// Packet tables, way (a): every generated case straight through the worker's burst function and
// the control lcore's exception handler, on mbufs from a test pool, with the same config file,
// snapshot builder and neighbour setup as ulvsd. Way (b) is run_e2e.py through ulvsd itself.
#include "pcap_file.h"
#include "ulvs/config/load.h"
#include "ulvs/control/exception/responder.h"
#include "ulvs/control/service/build_snapshot.h"
#include "ulvs/dataplane/fwd/worker.h"

#include <rte_eal.h>
#include <rte_mbuf.h>

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

rte_mempool* g_pool = nullptr;

// EAL once per process, before any test: a failure here fails the run (it must never turn into
// silently skipped cases).
bool init_eal() {
    std::string prefix = "--file-prefix=ulvs-burst-" + std::to_string(getpid());
    const char* argv[] = {"burst_runner",      "--no-huge",      "-m", "128",
                          "--no-pci",          "--no-telemetry", "-l", "0",
                          "--log-level=error", prefix.c_str()};
    if (rte_eal_init(static_cast<int>(std::size(argv)), const_cast<char**>(argv)) < 0)
        return false;
    g_pool = rte_pktmbuf_pool_create("burst_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    return g_pool != nullptr;
}

// The MAC net_pcap gives the n-th pcap vdev: the e2e run and this one must agree.
std::array<uint8_t, 6> pcap_port_mac(size_t i) {
    return {0x02, 0x70, 0x63, 0x61, 0x70, static_cast<uint8_t>(i)};
}

rte_mbuf* to_mbuf(const test::frame& f) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    EXPECT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
    return m;
}

test::frame from_mbuf(rte_mbuf* m) {
    const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
    test::frame f(p, p + rte_pktmbuf_data_len(m));
    rte_pktmbuf_free(m);
    return f;
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
    auto cfg = config::load_file(dir / "config.yaml");
    ASSERT_TRUE(cfg) << cfg.error().front().to_string();

    dp::neigh_table table(256);
    ctl::neigh_manager neigh(table);
    for (const auto& n : cfg->neighbors)
        for (size_t p = 0; p < cfg->ports.size(); ++p)
            if (cfg->ports[p].name == n.port)
                neigh.set_static(n.address, static_cast<uint8_t>(p), n.mac);
    ctl::stats_ids ids;
    auto snap = ctl::build_snapshot(*cfg, neigh, ids);
    ASSERT_TRUE(snap) << snap.error();

    dp::worker_params wp;
    wp.conn_capacity = cfg->connections.max;
    wp.neigh = &table;
    std::vector<ctl::port_addrs> addrs;
    for (size_t p = 0; p < cfg->ports.size(); ++p) {
        wp.ports.push_back({static_cast<uint16_t>(p), 0, pcap_port_mac(p), cfg->ports[p].mtu});
        addrs.push_back({pcap_port_mac(p), cfg->ports[p].addresses});
    }
    uint64_t now = 1000;
    auto w = std::make_unique<dp::worker_ctx>(wp, now);
    ASSERT_TRUE(w->conns.ok());
    w->snap = snap->get();

    std::map<std::string, std::vector<test::frame>> out;
    for (size_t p = 0; p < cfg->ports.size(); ++p) {
        const auto in = test::read_pcap(dir / ("in_" + cfg->ports[p].name + ".pcap"));
        for (size_t i = 0; i < in.size(); i += dp::max_burst) {
            rte_mbuf* burst[dp::max_burst];
            const auto n = static_cast<uint16_t>(std::min<size_t>(dp::max_burst, in.size() - i));
            for (uint16_t k = 0; k < n; ++k)
                burst[k] = to_mbuf(in[i + k]);
            dp::process_burst(*w, static_cast<uint8_t>(p), burst, n, now++);
            for (size_t q = 0; q < cfg->ports.size(); ++q) {
                for (uint16_t k = 0; k < w->tx[q].n; ++k)
                    out[cfg->ports[q].name].push_back(from_mbuf(w->tx[q].pkts[k]));
                w->tx[q].n = 0;
            }
            for (uint16_t k = 0; k < w->to_ctrl.n; ++k) {
                rte_mbuf* m = w->to_ctrl.pkts[k];
                const uint8_t in_port = static_cast<uint8_t>(m->port);
                if (ctl::handle_exception(**snap, addrs, neigh, m, in_port, now) ==
                    ctl::exception_verdict::reply)
                    out[cfg->ports[in_port].name].push_back(from_mbuf(m));
                else
                    rte_pktmbuf_free(m);
            }
            w->to_ctrl.n = 0;
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
        EXPECT_EQ(w->ctr.drops[d], want) << "drop counter " << name;
    }
}

INSTANTIATE_TEST_SUITE_P(cases, packet_table, ::testing::ValuesIn(list_cases()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(packet_table);

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (list_cases().empty()) {
        std::fprintf(stderr, "no packet cases under %s\n", cases_dir.c_str());
        return 1;
    }
    if (!init_eal()) {
        std::fprintf(stderr, "EAL initialisation failed\n");
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    rte_eal_cleanup();
    return rc;
}
