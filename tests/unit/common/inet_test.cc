#include "ulvs/common/inet.h"

#include <gtest/gtest.h>

using namespace ulvs;

TEST(ip_addr, parses_dotted_quad) {
    auto a = ip_addr::parse("203.0.113.10");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->v4, 0xCB00710Au);
    EXPECT_EQ(a->to_string(), "203.0.113.10");
}

TEST(ip_addr, rejects_malformed) {
    for (const char* s : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "01.2.3.4", "a.b.c.d",
                          "1..2.3", "1.2.3.4 "})
        EXPECT_FALSE(ip_addr::parse(s)) << s;
}

TEST(ip_prefix, parses_and_contains) {
    auto p = ip_prefix::parse("198.51.100.1/24");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->len, 24);
    EXPECT_TRUE(p->contains(*ip_addr::parse("198.51.100.200")));
    EXPECT_FALSE(p->contains(*ip_addr::parse("198.51.101.1")));
    EXPECT_FALSE(ip_prefix::parse("198.51.100.1/33"));
    EXPECT_FALSE(ip_prefix::parse("198.51.100.1"));
    EXPECT_EQ(ip_prefix::parse("198.51.100.1", true)->len, 32);
    EXPECT_TRUE(ip_prefix::parse("0.0.0.0/0")->contains(*ip_addr::parse("1.2.3.4")));
}

TEST(mac_addr, round_trip) {
    auto m = mac_addr::parse("02:00:00:00:00:1f");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->b[5], 0x1f);
    EXPECT_EQ(m->to_string(), "02:00:00:00:00:1f");
    EXPECT_FALSE(mac_addr::parse("02:00:00:00:00"));
    EXPECT_FALSE(mac_addr::parse("02-00-00-00-00-11"));
    EXPECT_FALSE(mac_addr::parse("02:00:00:00:00:1g"));
}
