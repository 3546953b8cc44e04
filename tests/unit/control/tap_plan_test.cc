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

// The host view (issue 15): which VIPs each port's TAP holds for a config and the VRRP states.
namespace {

constexpr const char* host_view = R"(
vrrp_instances:
  - {name: VI_1, port: wan, vrid: 51, priority: 100, virtual_addresses: [203.0.113.100/25, 203.0.113.101/32]}
  - {name: VI_2, port: lan, vrid: 52, priority: 100, virtual_addresses: [198.51.100.200/24]}
  - {name: VI_3, port: dmz, vrid: 53, priority: 255, virtual_addresses: [203.0.113.10/25]}
virtual_servers:
  - {name: vrrp_vip, address: 203.0.113.100, port: 80, protocol: tcp, real_servers: [{address: 198.51.100.11, port: 80}]}
  - {name: plain, address: 203.0.113.120, port: 443, protocol: tcp, real_servers: [{address: 198.51.100.11, port: 443}]}
  - {name: plain_again, address: 203.0.113.120, port: 80, protocol: tcp, real_servers: [{address: 198.51.100.11, port: 80}]}
  - {name: lan_side, address: 100.64.0.50, port: 53, protocol: udp, real_servers: [{address: 198.51.100.11, port: 53}]}
  - {name: routed, address: 172.16.9.9, port: 80, protocol: tcp, real_servers: [{address: 198.51.100.11, port: 80}]}
  - name: m
    match: {destinations: [192.0.2.40, 192.0.2.41], ports: [25], protocol: tcp}
    real_servers: [{address: 198.51.100.11, port: 25}]
)";

ip_prefix pfx(const char* s) {
    return *ip_prefix::parse(s);
}

} // namespace

TEST(tap_plan, host_view_vips_follow_vrrp_state) {
    const auto p = plan(host_view);
    // Every port with a VRRP instance's addresses gets its TAP, whatever the state.
    EXPECT_EQ(p.needed, (std::vector<bool>{true, true, true}));
    // Not under VRRP: /32 on the port whose subnet holds it; a routed VIP on none.
    EXPECT_EQ(p.vips[0], (std::vector<ip_prefix>{pfx("203.0.113.120/32")}));
    EXPECT_EQ(p.vips[1], (std::vector<ip_prefix>{pfx("100.64.0.50/32")}));
    EXPECT_EQ(p.vips[2], (std::vector<ip_prefix>{pfx("192.0.2.40/32"), pfx("192.0.2.41/32")}));

    // No MASTER: the ports' own addresses and the VIPs without VRRP.
    auto none = p.host_addresses({});
    EXPECT_EQ(none[0], (std::vector<ip_prefix>{pfx("203.0.113.10/25"), pfx("203.0.113.120/32")}));
    EXPECT_EQ(none[1], (std::vector<ip_prefix>{pfx("100.64.0.1/24"), pfx("198.51.100.1/24"),
                                               pfx("100.64.0.50/32")}));

    // VI_1 MASTER: its addresses on wan with their prefix lengths, after the port's own (which
    // stays the primary address); VI_2's stay off lan.
    auto vi1 = p.host_addresses({"VI_1"});
    EXPECT_EQ(vi1[0], (std::vector<ip_prefix>{pfx("203.0.113.10/25"), pfx("203.0.113.120/32"),
                                              pfx("203.0.113.100/25"), pfx("203.0.113.101/32")}));
    EXPECT_EQ(vi1[1], none[1]);
    EXPECT_EQ(vi1[2], none[2]);
    auto both = p.host_addresses({"VI_1", "VI_2"});
    EXPECT_EQ(both[1].back(), pfx("198.51.100.200/24"));
    EXPECT_EQ(both[0], vi1[0]);

    // VI_3's address is wan's own address: on dmz while MASTER, never twice on a port.
    auto vi3 = p.host_addresses({"VI_3"});
    EXPECT_EQ(vi3[2].back(), pfx("203.0.113.10/25"));
    EXPECT_EQ(vi3[0], none[0]);

    // The addresses the workers mark for local services (dp::addr_kind::host).
    auto cand = p.host_vip_candidates();
    std::sort(cand.begin(), cand.end());
    std::vector<ip_addr> want;
    for (const char* a : {"203.0.113.120", "100.64.0.50", "192.0.2.40", "192.0.2.41",
                          "203.0.113.100", "203.0.113.101", "198.51.100.200", "203.0.113.10"})
        want.push_back(pfx((std::string(a) + "/32").c_str()).addr);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(cand, want);
}

TEST(tap_plan, no_vrrp_no_new_tap) {
    // VIPs alone need no TAP (pcap-driven runs keep the host's interfaces as they are); they go
    // on the TAPs that checks or allow rules open.
    const auto p = plan(vs("{address: 198.51.100.11, port: 80}", ""));
    EXPECT_EQ(p.needed, (std::vector<bool>{false, false, false}));
    EXPECT_EQ(p.host_addresses({})[0],
              (std::vector<ip_prefix>{pfx("203.0.113.10/25"), pfx("203.0.113.100/32")}));
}
