// `control_policing` (issue 12): defaults, values, every mistake with its line and column, and the
// to_yaml round trip.
#include "test_util.h"
#include "ulvs/config/emit.h"

#include <gtest/gtest.h>

using namespace ulvs::config;
using namespace ulvs::config::test;

namespace {

config load_ok(const std::string& rest) {
    auto r = load_string(std::string(two_ports) + rest, "t.yaml");
    EXPECT_TRUE(r) << (r ? "" : r.error().front().to_string());
    return r ? *r : config{};
}

} // namespace

TEST(ControlPolicing, DefaultsPoliceBothClasses) {
    const config c = load_ok("");
    EXPECT_EQ(c.control_policing.icmp_echo, (police_cfg{1000, 100}));
    EXPECT_EQ(c.control_policing.exception, (police_cfg{10000, 800}));
}

TEST(ControlPolicing, ValuesAndPartialSections) {
    const config c = load_ok("control_policing:\n"
                             "  icmp_echo: {rate: 0}\n"
                             "  exception: {rate: 20000, burst: 4000}\n");
    EXPECT_EQ(c.control_policing.icmp_echo.rate, 0u); // off
    EXPECT_EQ(c.control_policing.exception, (police_cfg{20000, 4000}));
    const config d = load_ok("control_policing: {icmp_echo: {burst: 7}}\n");
    EXPECT_EQ(d.control_policing.icmp_echo, (police_cfg{1000, 7})); // rate keeps its default
    EXPECT_EQ(d.control_policing.exception, (police_cfg{10000, 800}));
}

TEST(ControlPolicing, MistakesWithLineAndColumn) {
    EXPECT_EQ(errors_with_ports("control_policing: {icmp: {rate: 1}}\n"),
              std::vector<std::string>{"8:20: unknown key \"icmp\" in control_policing"});
    EXPECT_EQ(
        errors_with_ports("control_policing:\n  exception: {rate: 1, depth: 2}\n"),
        std::vector<std::string>{"9:24: unknown key \"depth\" in control_policing.exception"});
    EXPECT_EQ(errors_with_ports("control_policing:\n  icmp_echo: {rate: -1}\n"),
              std::vector<std::string>{"9:21: control_policing.icmp_echo.rate must be in "
                                       "0..10000000, got -1"});
    EXPECT_EQ(errors_with_ports("control_policing:\n  icmp_echo: {rate: 10000001}\n"),
              std::vector<std::string>{"9:21: control_policing.icmp_echo.rate must be in "
                                       "0..10000000, got 10000001"});
    EXPECT_EQ(errors_with_ports("control_policing:\n  exception: {burst: 0}\n"),
              std::vector<std::string>{
                  "9:22: control_policing.exception.burst must be in 1..1000000, got 0"});
    EXPECT_EQ(errors_with_ports("control_policing: [1000]\n"),
              std::vector<std::string>{"8:19: control_policing must be a mapping, got a list"});
    EXPECT_EQ(errors_with_ports("control_policing:\n  icmp_echo: 1000\n"),
              std::vector<std::string>{
                  "9:14: control_policing.icmp_echo must be a mapping, got \"1000\""});
}

TEST(ControlPolicing, RoundTripsThroughToYaml) {
    const config c = load_ok("control_policing:\n"
                             "  icmp_echo: {rate: 0, burst: 3}\n"
                             "  exception: {rate: 123, burst: 45}\n");
    const std::string text = to_yaml(c);
    EXPECT_NE(text.find("control_policing: {icmp_echo: {rate: 0, burst: 3}, exception: {rate: "
                        "123, burst: 45}}\n"),
              std::string::npos)
        << text;
    auto again = load_string(text, "saved.yaml");
    ASSERT_TRUE(again) << again.error().front().to_string();
    EXPECT_EQ(again->control_policing, c.control_policing);
    EXPECT_EQ(to_yaml(*again), text);
}
