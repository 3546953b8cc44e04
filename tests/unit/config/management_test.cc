// `management` (issue 13): the optional `group` of the socket, checked to exist, and the to_yaml
// round trip of the whole section.
#include "test_util.h"
#include "ulvs/config/emit.h"

#include <gtest/gtest.h>

using namespace ulvs::config;
using namespace ulvs::config::test;

TEST(Management, GroupDefaultsToNoneAndRoundTrips) {
    auto plain = load_string(std::string(two_ports), "t.yaml");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->management.group, "");
    EXPECT_EQ(to_yaml(*plain).find("group:"), std::string::npos);
    auto c = load_string(std::string(two_ports) +
                             "management: {socket: /tmp/x.sock, metrics: \"0.0.0.0:9145\", "
                             "group: root}\n",
                         "t.yaml");
    ASSERT_TRUE(c) << c.error().front().to_string();
    EXPECT_EQ(c->management.group, "root");
    EXPECT_EQ(c->management.metrics, "0.0.0.0:9145");
    const std::string text = to_yaml(*c);
    EXPECT_NE(text.find("management: {socket: \"/tmp/x.sock\", metrics: \"0.0.0.0:9145\", group: "
                        "\"root\"}\n"),
              std::string::npos)
        << text;
    auto again = load_string(text, "saved.yaml");
    ASSERT_TRUE(again) << again.error().front().to_string();
    EXPECT_EQ(again->management, c->management);
}

TEST(Management, UnknownGroupIsAnError) {
    EXPECT_EQ(errors_with_ports("management:\n  group: ulvs-no-such-group\n"),
              std::vector<std::string>{"9:10: management.group names no group of this system, "
                                       "got \"ulvs-no-such-group\""});
}
