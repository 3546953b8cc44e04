// `snat` and `forwarding_rules` (issue 19): off by default, rules with their defaults, every
// mistake with its line and column, and the to_yaml round trip.
#include "test_util.h"
#include "ulvs/config/emit.h"

#include <gtest/gtest.h>

using ulvs::ip_addr;
using ulvs::ip_prefix;
using namespace ulvs::config;
using namespace ulvs::config::test;

namespace {

config load_ok(const std::string& rest) {
    auto r = load_string(std::string(two_ports) + rest, "t.yaml");
    EXPECT_TRUE(r) << (r ? "" : r.error().front().to_string());
    return r ? *r : config{};
}

ip_prefix pfx(const char* s) {
    return *ip_prefix::parse(s);
}
ip_addr addr(const char* s) {
    return *ip_addr::parse(s);
}

} // namespace

TEST(Snat, OffByDefault) {
    const config c = load_ok("");
    EXPECT_TRUE(c.snat.empty());
    EXPECT_TRUE(c.forwarding_rules.empty());
    EXPECT_EQ(to_yaml(c).find("snat"), std::string::npos);
}

TEST(Snat, RulesAndDefaults) {
    const config c = load_ok("snat:\n"
                             "  - {sources: [198.51.100.0/24], out_port: wan}\n"
                             "  - {sources: [10.0.0.0/8, 10.1.0.0/16], out_port: lan,\n"
                             "     to: 198.51.100.200-198.51.100.203, ports: 20000-29999}\n"
                             "forwarding_rules:\n"
                             "  - {sources: [198.51.100.11/32], destinations: [0.0.0.0/0]}\n"
                             "  - {sources: [10.0.0.0/8], destinations: [192.0.2.0/24], in_port: "
                             "lan, out_port: wan}\n");
    ASSERT_EQ(c.snat.size(), 2u);
    // MASQUERADE: the out_port's first address, ports 1024-65535.
    EXPECT_EQ(c.snat[0], (snat_rule_cfg{{pfx("198.51.100.0/24")},
                                        "wan",
                                        addr("203.0.113.10"),
                                        addr("203.0.113.10"),
                                        1024,
                                        65535}));
    EXPECT_EQ(c.snat[1].to_first, addr("198.51.100.200"));
    EXPECT_EQ(c.snat[1].to_last, addr("198.51.100.203"));
    EXPECT_EQ(c.snat[1].ports_first, 20000);
    EXPECT_EQ(c.snat[1].ports_last, 29999);
    ASSERT_EQ(c.forwarding_rules.size(), 2u);
    EXPECT_EQ(c.forwarding_rules[0],
              (forwarding_rule_cfg{{pfx("198.51.100.11/32")}, {pfx("0.0.0.0/0")}, "", ""}));
    EXPECT_EQ(c.forwarding_rules[1].in_port, "lan");
    EXPECT_EQ(c.forwarding_rules[1].out_port, "wan");
}

TEST(Snat, MistakesWithLineAndColumn) {
    EXPECT_EQ(errors_with_ports("snat: [{sources: [198.51.100.0/24], out_port: wan, via: x}]\n"),
              std::vector<std::string>{"8:52: unknown key \"via\" in snat[0]"});
    EXPECT_EQ(
        errors_with_ports("snat: [{sources: [198.51.100.0/24], out_port: dmz}]\n"),
        std::vector<std::string>{"8:47: snat[0].out_port \"dmz\" names no port (ports: wan, lan)"});
    EXPECT_EQ(errors_with_ports("snat: [{sources: [198.51.100.0/24]}]\n"),
              std::vector<std::string>{"8:8: snat[0] is missing required key \"out_port\""});
    EXPECT_EQ(errors_with_ports("snat: [{sources: [], out_port: wan}]\n"),
              std::vector<std::string>{"8:18: snat[0].sources must list at least one prefix"});
    EXPECT_EQ(
        errors_with_ports("snat: [{sources: [10.0.0.0/8], out_port: wan, ports: 2000-1000}]\n"),
        std::vector<std::string>{
            "8:54: snat[0].ports must be a port range A-B (1..65535, A <= B), got \"2000-1000\""});
    EXPECT_EQ(errors_with_ports("snat: [{sources: [10.0.0.0/8], out_port: wan, to: 1.2.3}]\n"),
              std::vector<std::string>{"8:51: snat[0].to must be an IPv4 address or a range A-B of "
                                       "at most 256 addresses, got \"1.2.3\""});
    EXPECT_EQ(errors_with_ports("snat:\n  - {sources: [10.0.0.0/8], out_port: wan}\n"
                                "  - {sources: [10.1.0.0/16], out_port: wan}\n"),
              std::vector<std::string>{"10:5: snat[1]: its `to` addresses overlap an earlier snat "
                                       "rule's (put both rules' sources in one rule)"});
    EXPECT_EQ(errors_with_ports("forwarding_rules: [{sources: [10.0.0.0/8]}]\n"),
              std::vector<std::string>{
                  "8:20: forwarding_rules[0] is missing required key \"destinations\""});
    EXPECT_EQ(errors_with_ports("forwarding_rules: [{sources: [10.0.0.0/8], destinations: "
                                "[0.0.0.0/0], in_port: dmz}]\n"),
              std::vector<std::string>{
                  "8:80: forwarding_rules[0].in_port \"dmz\" names no port (ports: wan, lan)"});
}

TEST(Snat, AnSnatAddressMustNotBeAVip) {
    auto r = load_string(std::string(two_ports) +
                             "virtual_servers:\n"
                             "  - {name: web, address: 203.0.113.100, port: 80, protocol: tcp,\n"
                             "     real_servers: [{address: 198.51.100.11}]}\n"
                             "snat: [{sources: [198.51.100.0/24], out_port: wan, "
                             "to: 203.0.113.99-203.0.113.101}]\n",
                         "t.yaml");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().front().to_string().find(
                  "includes 203.0.113.100, the address of virtual server web"),
              std::string::npos)
        << r.error().front().to_string();
}

TEST(Snat, RoundTripsThroughToYaml) {
    const config c = load_ok("snat: [{sources: [198.51.100.0/24], out_port: wan, to: "
                             "203.0.113.10-203.0.113.11, ports: 20000-29999}]\n"
                             "forwarding_rules: [{sources: [198.51.100.11/32], destinations: "
                             "[0.0.0.0/0], out_port: wan}]\n");
    const std::string text = to_yaml(c);
    EXPECT_NE(text.find("snat: [{sources: [198.51.100.0/24], out_port: \"wan\", to: "
                        "203.0.113.10-203.0.113.11, ports: 20000-29999}]\n"),
              std::string::npos)
        << text;
    auto again = load_string(text, "saved.yaml");
    ASSERT_TRUE(again) << again.error().front().to_string();
    EXPECT_EQ(again->snat, c.snat);
    EXPECT_EQ(again->forwarding_rules, c.forwarding_rules);
    EXPECT_EQ(to_yaml(*again), text);
}
