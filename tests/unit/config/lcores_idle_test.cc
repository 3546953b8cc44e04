// `lcores.idle` (issue 16): poll by default, adaptive on request, anything else an error; the
// to_yaml round trip keeps it.
#include "test_util.h"
#include "ulvs/config/emit.h"

#include <gtest/gtest.h>

using namespace ulvs::config;
using namespace ulvs::config::test;

TEST(LcoresIdle, DefaultsToPollAndRoundTrips) {
    auto plain = load_string(std::string(two_ports), "t.yaml");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->lcores.idle, idle_mode::poll);
    EXPECT_NE(to_yaml(*plain).find("lcores: {control: 0, workers: [1], idle: poll}\n"),
              std::string::npos)
        << to_yaml(*plain);
    auto c =
        load_string(std::string(two_ports) + "lcores: {workers: [2], idle: adaptive}\n", "t.yaml");
    ASSERT_TRUE(c) << c.error().front().to_string();
    EXPECT_EQ(c->lcores.idle, idle_mode::adaptive);
    const std::string text = to_yaml(*c);
    EXPECT_NE(text.find("lcores: {control: 0, workers: [2], idle: adaptive}\n"), std::string::npos)
        << text;
    auto again = load_string(text, "saved.yaml");
    ASSERT_TRUE(again) << again.error().front().to_string();
    EXPECT_EQ(again->lcores.idle, idle_mode::adaptive);
    EXPECT_EQ(again->lcores.workers, std::vector<unsigned>{2});
}

TEST(LcoresIdle, UnknownModeIsAnError) {
    EXPECT_EQ(
        errors_with_ports("lcores: {idle: sleep}\n"),
        std::vector<std::string>{"8:16: lcores.idle must be one of poll, adaptive, got \"sleep\""});
    EXPECT_EQ(
        errors_with_ports("lcores:\n  idle: 1\n"),
        std::vector<std::string>{"9:9: lcores.idle must be one of poll, adaptive, got \"1\""});
}
