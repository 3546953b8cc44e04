// tap_plan (issue 13): which ports get a TAP, and the addresses and routes the kernel gets.
#include "ulvs/config/load.h"
#include "ulvs/control/exception/tap_plan.h"

#include <gtest/gtest.h>

using namespace ulvs;

namespace {

constexpr const char* ports = R"(
ports:
  - {name: wan, device: d0, addresses: [203.0.113.10/25]}
  - {name: lan, device: d1, addresses: [198.51.100.1/24, 100.64.0.1/24]}
  - {name: dmz, device: d2, addresses: [192.0.2.1/26]}
routes:
  - {prefix: 0.0.0.0/0, via: 203.0.113.1}
  - {prefix: 10.0.0.0/8, via: 198.51.100.254}
)";

ctl::tap_plan plan(const std::string& rest) {
    auto c = config::load_string(std::string(ports) + rest, "t.yaml");
    EXPECT_TRUE(c) << c.error().front().to_string();
    return c ? ctl::tap_plan::from_config(*c) : ctl::tap_plan{};
}

std::string vs(const std::string& rs, const std::string& check) {
    return "virtual_servers:\n  - name: s\n    address: 203.0.113.100\n    port: 80\n"
           "    protocol: tcp\n" +
           check + "    real_servers: [" + rs + "]\n";
}

} // namespace

TEST(tap_plan, no_check_and_no_rule_no_tap) {
    const auto p = plan(vs("{address: 198.51.100.11, port: 80}", ""));
    EXPECT_EQ(p.needed, (std::vector<bool>{false, false, false}));
    // Addresses and routes are known anyway: they go on whichever TAP opens.
    EXPECT_EQ(p.addresses[1].size(), 2u);
    ASSERT_EQ(p.routes.size(), 2u);
    EXPECT_EQ(p.routes[0].metric, ctl::tap_plan::default_route_metric); // 0.0.0.0/0 sorts first
    EXPECT_EQ(p.routes[0].port, 0u);
    EXPECT_EQ(p.routes[1].metric, 0u);
    EXPECT_EQ(p.routes[1].port, 1u);
}

TEST(tap_plan, the_port_towards_a_checked_server) {
    const std::string check = "    health_check: {type: tcp}\n";
    EXPECT_EQ(plan(vs("{address: 198.51.100.11, port: 80}", check)).needed,
              (std::vector<bool>{false, true, false}));
    EXPECT_EQ(plan(vs("{address: 100.64.0.9, port: 80}", check)).needed,
              (std::vector<bool>{false, true, false})); // the port's second subnet
    EXPECT_EQ(plan(vs("{address: 10.1.2.3, port: 80, forwarding: nat}", check)).needed,
              (std::vector<bool>{false, true, false})); // 10/8 via lan's gateway
    EXPECT_EQ(plan(vs("{address: 172.16.0.5, port: 80, forwarding: nat}", check)).needed,
              (std::vector<bool>{true, false, false})); // the default route, via wan
    // A real server's own check counts too.
    EXPECT_EQ(plan(vs("{address: 192.0.2.7, port: 80, health_check: {type: tcp}}", "")).needed,
              (std::vector<bool>{false, false, true}));
}

TEST(tap_plan, allow_rules_name_their_ports) {
    EXPECT_EQ(plan("exception_path: {allow: [{port: dmz, protocol: tcp, ports: [22]}]}\n").needed,
              (std::vector<bool>{false, false, true}));
    EXPECT_EQ(plan("exception_path: {allow: [{protocol: icmp}]}\n").needed,
              (std::vector<bool>{true, true, true}));
}
