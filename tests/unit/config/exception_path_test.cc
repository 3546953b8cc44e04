// `exception_path` (issue 13): the default (nothing but check replies), rules, every mistake with
// its line and column, and the to_yaml round trip.
#include "test_util.h"
#include "ulvs/config/emit.h"

#include <gtest/gtest.h>

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

} // namespace

TEST(ExceptionPath, DefaultAllowsNothing) {
    EXPECT_TRUE(load_ok("").exception_path.allow.empty());
    EXPECT_TRUE(load_ok("exception_path: {}\n").exception_path.allow.empty());
}

TEST(ExceptionPath, Rules) {
    const config c = load_ok("exception_path:\n"
                             "  allow:\n"
                             "    - {port: wan, protocol: tcp, ports: [22, 9145], sources: "
                             "[203.0.113.0/24]}\n"
                             "    - {protocol: udp}\n"
                             "    - {port: lan, protocol: icmp, sources: [198.51.100.7/32]}\n"
                             "    - {protocol: any}\n");
    ASSERT_EQ(c.exception_path.allow.size(), 4u);
    EXPECT_EQ(c.exception_path.allow[0],
              (exception_allow_cfg{"wan", allow_proto::tcp, {22, 9145}, {pfx("203.0.113.0/24")}}));
    EXPECT_EQ(c.exception_path.allow[1], (exception_allow_cfg{"", allow_proto::udp, {}, {}}));
    EXPECT_EQ(c.exception_path.allow[2],
              (exception_allow_cfg{"lan", allow_proto::icmp, {}, {pfx("198.51.100.7/32")}}));
    EXPECT_EQ(c.exception_path.allow[3].protocol, allow_proto::any);
}

TEST(ExceptionPath, MistakesWithLineAndColumn) {
    EXPECT_EQ(errors_with_ports("exception_path: {deny: []}\n"),
              std::vector<std::string>{"8:18: unknown key \"deny\" in exception_path"});
    EXPECT_EQ(errors_with_ports("exception_path:\n  allow:\n    - {port: dmz, protocol: tcp}\n"),
              std::vector<std::string>{
                  "10:14: exception_path.allow[0].port \"dmz\" names no port (ports: wan, lan)"});
    EXPECT_EQ(errors_with_ports("exception_path:\n  allow:\n    - {port: wan}\n"),
              std::vector<std::string>{
                  "10:7: exception_path.allow[0] is missing required key \"protocol\""});
    EXPECT_EQ(errors_with_ports("exception_path:\n  allow:\n    - {protocol: sctp}\n"),
              std::vector<std::string>{"10:18: exception_path.allow[0].protocol must be tcp, "
                                       "udp, icmp or any, got \"sctp\""});
    EXPECT_EQ(errors_with_ports("exception_path:\n  allow:\n    - {protocol: icmp, ports: [1]}\n"),
              std::vector<std::string>{"10:31: exception_path.allow[0].ports needs protocol tcp "
                                       "or udp (icmp has no ports)"});
    EXPECT_EQ(errors_with_ports("exception_path:\n  allow:\n    - {protocol: tcp, ports: [0]}\n"),
              std::vector<std::string>{
                  "10:31: exception_path.allow[0].ports[0] must be in 1..65535, got 0"});
    EXPECT_EQ(
        errors_with_ports("exception_path:\n  allow:\n    - {protocol: tcp, ports: [22, 22]}\n"),
        std::vector<std::string>{"10:35: 22 is listed twice in exception_path.allow[0].ports"});
    EXPECT_EQ(errors_with_ports(
                  "exception_path:\n  allow:\n    - {protocol: tcp, sources: [10.1.2.3/8]}\n"),
              std::vector<std::string>{"10:33: exception_path.allow[0].sources[0] has host bits "
                                       "set: 10.1.2.3/8 (did you mean 10.0.0.0/8?)"});
    EXPECT_EQ(errors_with_ports("exception_path:\n  allow: {protocol: tcp}\n"),
              std::vector<std::string>{"9:10: exception_path.allow must be a list, got a mapping"});
}

TEST(ExceptionPath, RoundTripsThroughToYaml) {
    const config c = load_ok("exception_path:\n"
                             "  allow:\n"
                             "    - {port: wan, protocol: tcp, ports: [22], sources: "
                             "[203.0.113.0/24, 192.0.2.0/25]}\n"
                             "    - {protocol: any}\n");
    const std::string text = to_yaml(c);
    EXPECT_NE(text.find("exception_path: {allow: [{port: \"wan\", protocol: tcp, ports: [22], "
                        "sources: [203.0.113.0/24, 192.0.2.0/25]}, {protocol: any, sources: "
                        "[]}]}\n"),
              std::string::npos)
        << text;
    auto again = load_string(text, "saved.yaml");
    ASSERT_TRUE(again) << again.error().front().to_string();
    EXPECT_EQ(again->exception_path, c.exception_path);
    EXPECT_EQ(to_yaml(*again), text);
    EXPECT_NE(to_yaml(load_ok("")).find("exception_path: {allow: []}\n"), std::string::npos);
}
