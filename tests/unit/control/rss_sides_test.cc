// Which side of the connections each port receives (control/service/rss_sides.h): the field its
// RSS hashes so that packets arrive at their owner worker (issue 17).
#include "ulvs/config/load.h"
#include "ulvs/control/service/rss_sides.h"

#include <gtest/gtest.h>

using namespace ulvs;
using dp::rss_side;

namespace {

std::vector<rss_side> sides(const std::string& services, const std::string& routes) {
    const std::string yaml = R"(
lcores: {control: 0, workers: [1, 2]}
ports:
  - {name: wan, device: "net_null0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_null1", addresses: [198.51.100.1/25]}
)" + routes + "virtual_servers:\n" +
                             services;
    auto c = config::load_string(yaml, "rss_sides_test.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return c ? ctl::rss_sides(*c) : std::vector<rss_side>{};
}

std::string service(const std::string& mode, const std::string& rs) {
    return "  - {name: s, address: 203.0.113.101, port: 80, protocol: tcp, forwarding: " + mode +
           ", real_servers: [{address: " + rs + ", port: 80}]}\n";
}

TEST(rss_sides, two_arm_nat_hashes_source_on_wan_destination_on_lan) {
    EXPECT_EQ(sides(service("nat", "198.51.100.11"), "routes: [{prefix: 0.0.0.0/0, via: "
                                                     "203.0.113.1}]\n"),
              (std::vector{rss_side::client, rss_side::server}));
}

TEST(rss_sides, one_arm_nat_cannot_be_steered) {
    // The real server behind the wan port, where the default route (the clients) goes too.
    EXPECT_EQ(sides(service("nat", "203.0.113.20"), "routes: [{prefix: 0.0.0.0/0, via: "
                                                    "203.0.113.1}]\n"),
              (std::vector{rss_side::none, rss_side::client}));
}

TEST(rss_sides, nat_server_behind_a_router_on_the_lan) {
    EXPECT_EQ(sides(service("nat", "192.0.2.7"),
                    "routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}, {prefix: 192.0.2.0/24, via: "
                    "198.51.100.2}]\n"),
              (std::vector{rss_side::client, rss_side::server}));
}

TEST(rss_sides, dr_and_tun_see_clients_only) {
    const std::string r = "routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]\n";
    EXPECT_EQ(sides(service("dr", "198.51.100.11"), r),
              (std::vector{rss_side::client, rss_side::client}));
    EXPECT_EQ(sides(service("tun", "198.51.100.11"), r),
              (std::vector{rss_side::client, rss_side::client}));
}

} // namespace
