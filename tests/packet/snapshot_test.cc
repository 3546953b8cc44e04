// Successive snapshots of one run share what did not change (issue 13): the route table (an
// rte_lpm's tbl24 alone is 64 MiB) while the routes stay the same, freed once the last snapshot
// holding it is retired; and each service's scheduler generation while its dests and weights stay
// the same, so the workers' rr positions continue across a rebuild (a republish for a health or
// VRRP change used to send the next new connection to the first real server again).
#include "frames.h"
#include "harness.h"
#include "ulvs/config/load.h"
#include "ulvs/dataplane/fwd/publisher.h"

#include <rte_lpm.h>
#include <rte_malloc.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace ulvs;

namespace {

constexpr const char* yaml = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
  - {address: 198.51.100.12, mac: "02:00:00:00:00:12", port: lan}
  - {address: 198.51.100.13, mac: "02:00:00:00:00:13", port: lan}
routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]
connections: {max: 4096}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 80}
      - {address: 198.51.100.12, port: 80}
      - {address: 198.51.100.13, port: 80}
)";

config::config load(const std::string& text) {
    auto c = config::load_string(text, "snapshot_test.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return *c;
}

// The config with one more static route (a different route set).
std::string with_extra_route() {
    std::string s = yaml;
    const std::string from = "routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]";
    s.replace(s.find(from), from.size(),
              "routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}, "
              "{prefix: 192.0.2.0/24, via: 203.0.113.2}]");
    return s;
}

size_t heap_bytes() {
    rte_malloc_socket_stats st{};
    rte_malloc_get_socket_stats(0, &st);
    return st.heap_allocsz_bytes;
}

// The real server (last byte of its MAC) a new connection from client port `sport` went to.
int picked(test::rig& r, uint16_t sport, uint64_t now) {
    const test::frame syn = test::make_frame({"203.0.113.130", "203.0.113.100", sport, 80, 6},
                                             {2, 0, 0, 0, 0, 1}, test::pcap_port_mac(0), 0x02);
    auto out = r.burst(0, {syn}, now);
    if (out.size() < 2 || out[1].size() != 1)
        return -1;
    return test::read_frame(out[1][0]).eth_dst[5];
}

} // namespace

TEST(snapshot, the_route_table_is_built_once_per_route_set) {
    const config::config cfg = load(yaml);
    test::rig r(cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    const dp::route_table* first = r.snap().routes.get();
    ASSERT_NE(first, nullptr);
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(r.reconfigure(cfg)) << r.error();
        EXPECT_EQ(r.snap().routes.get(), first);
    }
    EXPECT_EQ(r.inputs().routes.builds(), 1u);

    // Another route set: a table of its own, which routes by it.
    const config::config other = load(with_extra_route());
    ASSERT_TRUE(r.reconfigure(other)) << r.error();
    EXPECT_NE(r.snap().routes.get(), first);
    EXPECT_EQ(r.inputs().routes.builds(), 2u);
    const dp::next_hop* h = r.snap().route(htonl(0xc0000205)); // 192.0.2.5
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->gateway, htonl(0xcb007102)); // 203.0.113.2
    EXPECT_EQ(r.snap().route(htonl(0x08080808))->gateway, htonl(0xcb007101));
}

// The serials of the route tables alive in the process (control/service/routing.cc names them
// "ulvs_lpm_<serial>", numbered process-wide, so other tests' tables take numbers too).
std::vector<int> live_lpm_serials() {
    std::vector<int> out;
    for (int n = 1; n <= 4096; ++n)
        if (rte_lpm_find_existing(("ulvs_lpm_" + std::to_string(n)).c_str()) != nullptr)
            out.push_back(n);
    return out;
}

// Published as the manager does (publisher.h): 100 republishes keep one LPM alive; after a route
// change the old one is freed with the snapshot that held it, at the end of its grace period.
TEST(snapshot, a_retired_route_table_is_freed_with_its_last_snapshot) {
    const config::config cfg = load(yaml);
    dp::neigh_table table{256};
    ctl::neigh_manager neigh{table};
    ctl::stats_ids ids;
    ctl::snapshot_inputs in{neigh, ids};
    dp::publisher pub{1}; // no worker online: a grace period ends at once
    const std::vector<int> others = live_lpm_serials(); // earlier tests' published tables
    const size_t before = heap_bytes();
    size_t max_live = 0, max_heap = 0;
    for (int i = 0; i < 100; ++i) {
        auto s = ctl::build_snapshot(cfg, in);
        ASSERT_TRUE(s) << s.error();
        max_live = std::max(max_live, in.routes.live()); // the new one and the published one
        max_heap = std::max(max_heap, heap_bytes() - before);
        pub.publish(std::move(*s));
        max_live = std::max(max_live, in.routes.live());
        max_heap = std::max(max_heap, heap_bytes() - before);
    }
    std::printf("100 republishes: %zu route tables built, at most %zu alive, DPDK heap grew by at "
                "most %zu bytes\n",
                in.routes.builds(), max_live, max_heap);
    EXPECT_EQ(in.routes.builds(), 1u);
    EXPECT_EQ(max_live, 1u);
    auto ours = [&others] {
        std::vector<int> v;
        for (int n : live_lpm_serials())
            if (std::find(others.begin(), others.end(), n) == others.end())
                v.push_back(n);
        return v;
    };
    const std::vector<int> first = ours();
    ASSERT_EQ(first.size(), 1u);

    auto s = ctl::build_snapshot(load(with_extra_route()), in);
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(in.routes.live(), 2u); // the published one and the new one, until publication
    pub.publish(std::move(*s));
    EXPECT_EQ(in.routes.live(), 1u);
    const std::vector<int> second = ours();
    ASSERT_EQ(second.size(), 1u); // the first one freed, the new one alive
    EXPECT_NE(second[0], first[0]);
}

// A rebuild that leaves the service's dests and weights alone (a republish for another service's
// health, a VRRP ownership change) keeps the workers' rr position: the next new connection goes
// to the server after the last one picked, not back to the first.
TEST(snapshot, the_rr_position_continues_across_a_rebuild) {
    const config::config cfg = load(yaml);
    test::rig r(cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(picked(r, 1001, 10), 0x11);
    EXPECT_EQ(picked(r, 1002, 11), 0x12);
    ASSERT_TRUE(r.reconfigure(cfg));
    EXPECT_EQ(picked(r, 1003, 12), 0x13);
    // A service added in front of it: its index moves, its position does not.
    std::string more = yaml;
    more += R"(  - name: first
    address: 203.0.113.99
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers: [{address: 198.51.100.12, port: 80}]
)";
    config::config two = load(more);
    std::swap(two.virtual_servers[0], two.virtual_servers[1]);
    ASSERT_TRUE(r.reconfigure(two));
    EXPECT_EQ(picked(r, 1004, 13), 0x11);
    EXPECT_EQ(picked(r, 1005, 14), 0x12);
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // The rig keeps every snapshot; they share one or two LPMs of 64 MiB each.
    if (!test::init_eal("snapshot_test", 512))
        return 1;
    return RUN_ALL_TESTS();
}
