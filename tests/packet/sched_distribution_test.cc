// Issue 5 acceptance 2 through the real worker path: 100k generated new connections, each real
// server's share within 2% of its weight share for wrr, wlc (equal connection lifetimes, expired
// by injected time) and mh; with sh every connection of a client goes to one server.
#include "frames.h"
#include "harness.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace ulvs;

namespace {

constexpr uint32_t total_conns = 100000;

// Four real servers of weights 1..4 behind UDP 203.0.113.100:53; UDP flows live 2 s idle.
config::config load(const std::string& sched) {
    std::string y = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
  - {address: 198.51.100.12, mac: "02:00:00:00:00:12", port: lan}
  - {address: 198.51.100.13, mac: "02:00:00:00:00:13", port: lan}
  - {address: 198.51.100.14, mac: "02:00:00:00:00:14", port: lan}
timeouts: {tcp: 900s, tcp_fin: 120s, udp: 2s}
connections: {max: 65536}
virtual_servers:
  - name: dns
    address: 203.0.113.100
    port: 53
    protocol: udp
    scheduler: )" + sched +
                    R"(
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 53, weight: 1}
      - {address: 198.51.100.12, port: 53, weight: 2}
      - {address: 198.51.100.13, port: 53, weight: 3}
      - {address: 198.51.100.14, port: 53, weight: 4}
)";
    auto c = config::load_string(y, "sched_distribution.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return *c;
}

// UDP client src:sport -> VIP:53, arriving on wan from the router.
test::frame udp(uint32_t src, uint16_t sport) {
    const std::string a = ip_addr::from_v4(src).to_string();
    return test::make_frame({a, "203.0.113.100", sport, 53, 17}, {2, 0, 0, 0, 0, 1},
                            test::pcap_port_mac(0));
}

// Sends `total_conns` new flows, 32 per burst every 10 ms of injected time, expiring idle ones
// as the worker loop does (so every connection lives the same 2 s). client(i) gives the i-th
// flow's source address and port. Returns, per flow, the real server (last MAC byte).
template <class Client> std::vector<uint8_t> run(test::rig& r, Client client) {
    std::vector<uint8_t> got;
    got.reserve(total_conns);
    uint64_t t = 1000;
    for (uint32_t i = 0; i < total_conns;) {
        std::vector<test::frame> in;
        for (; in.size() < dp::max_burst && i < total_conns; ++i) {
            auto [src, sport] = client(i);
            in.push_back(udp(src, sport));
        }
        auto out = r.burst(0, in, t);
        EXPECT_EQ(out[1].size(), in.size()) << "at flow " << i;
        for (const auto& f : out[1])
            got.push_back(f[5]);
        t += 10;
        dp::expire_conns(r.worker(), t, 100000);
    }
    return got;
}

// `relative`: within 2% of the share itself; else within 2 points of the total. Hashing (mh)
// samples its table: with 100k clients a 10% share has a binomial sigma of 0.1 point, so 2% of
// it (0.2 point) would test the client addresses, not the scheduler; the table's own shares are
// checked to 1% in unit_sched_tables.
void expect_weight_shares(const std::vector<uint8_t>& got, const char* sched, bool relative) {
    ASSERT_EQ(got.size(), total_conns) << sched;
    std::map<uint8_t, uint32_t> n;
    for (uint8_t x : got)
        ++n[x];
    for (uint8_t k = 1; k <= 4; ++k) {
        const double share = n[static_cast<uint8_t>(0x10 + k)] / double(total_conns);
        const double want = k / 10.0;
        EXPECT_NEAR(share, want, relative ? want * 0.02 : 0.02) << sched << ": server " << int(k);
    }
}

uint32_t client_addr(uint32_t i) {
    return 0x0A000000u + i * 7919u; // spread over 10.0.0.0/8
}

} // namespace

TEST(sched_distribution, wrr_follows_weights) {
    test::rig r(load("wrr"));
    ASSERT_TRUE(r.ok()) << r.error();
    auto got = run(r, [](uint32_t i) {
        return std::pair{0xC0A80000u + i / 50000, static_cast<uint16_t>(10000 + i % 50000)};
    });
    expect_weight_shares(got, "wrr", true);
}

TEST(sched_distribution, wlc_with_equal_lifetimes_follows_weights) {
    test::rig r(load("wlc"));
    ASSERT_TRUE(r.ok()) << r.error();
    auto got = run(r, [](uint32_t i) {
        return std::pair{0xC0A80000u + i / 50000, static_cast<uint16_t>(10000 + i % 50000)};
    });
    expect_weight_shares(got, "wlc", true);
    // The live connections were balanced by weight too, not just the totals.
    EXPECT_GT(r.worker().ctr.conns_expired, total_conns / 2);
}

TEST(sched_distribution, mh_follows_weights_over_clients) {
    test::rig r(load("mh"));
    ASSERT_TRUE(r.ok()) << r.error();
    auto got = run(r, [](uint32_t i) { return std::pair{client_addr(i), uint16_t{4000}}; });
    expect_weight_shares(got, "mh", false);
}

TEST(sched_distribution, sh_keeps_every_connection_of_a_client_on_one_server) {
    test::rig r(load("sh"));
    ASSERT_TRUE(r.ok()) << r.error();
    // 500 clients, 200 connections each (distinct source ports), interleaved.
    auto client = [](uint32_t i) {
        return std::pair{client_addr(i % 500), static_cast<uint16_t>(1024 + i / 500)};
    };
    auto got = run(r, client);
    ASSERT_EQ(got.size(), total_conns);
    std::map<uint32_t, std::set<uint8_t>> servers_of;
    std::set<uint8_t> used;
    for (uint32_t i = 0; i < total_conns; ++i) {
        servers_of[client(i).first].insert(got[i]);
        used.insert(got[i]);
    }
    for (const auto& [c, s] : servers_of)
        EXPECT_EQ(s.size(), 1u) << "client " << std::hex << c << " went to " << s.size()
                                << " servers";
    EXPECT_EQ(used.size(), 4u); // and the clients are spread over every server
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("sched_distribution")) {
        std::fprintf(stderr, "EAL initialisation failed\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
