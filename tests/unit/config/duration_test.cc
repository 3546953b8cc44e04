#include "ulvs/config/duration.h"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using ulvs::config::duration;
using ulvs::config::parse_duration;

TEST(Duration, UnitsAndBareSeconds) {
    struct row {
        const char* text;
        duration want;
    };
    const row rows[] = {
        {"500ms", 500ms}, {"6s", 6s},     {"2m", 2min},      {"1h", 1h},
        {"0", 0ms},       {"0s", 0ms},    {"45", 45s},       {"900s", 900s},
        {"1ms", 1ms},     {"90m", 90min}, {"86400", 86400s}, {"1500ms", 1500ms},
    };
    for (const row& r : rows) {
        auto d = parse_duration(r.text);
        ASSERT_TRUE(d.has_value()) << r.text << ": " << d.error();
        EXPECT_EQ(*d, r.want) << r.text;
    }
}

TEST(Duration, Rejects) {
    struct row {
        const char* text;
        const char* want;
    };
    const row rows[] = {
        {"-5s", "must not be negative, got \"-5s\""},
        {"-1", "must not be negative, got \"-1\""},
        {"", "must be a duration, got \"\""},
        {"s", "must be a duration, got \"s\""},
        {"abc", "must be a duration, got \"abc\""},
        {"5x", "has an unknown unit in \"5x\""},
        {"5 s", "has an unknown unit in \"5 s\""},
        {"5sec", "has an unknown unit in \"5sec\""},
        {"1m30s", "has an unknown unit in \"1m30s\""},
        {"1.5s",
         "must be a whole number of its unit, got \"1.5s\" (write 1500ms rather than 1.5s)"},
        {"99999999999999999999h", "is too large: \"99999999999999999999h\""},
        {"9999999999999999h", "is too large: \"9999999999999999h\""},
    };
    for (const row& r : rows) {
        auto d = parse_duration(r.text);
        ASSERT_FALSE(d.has_value()) << r.text;
        // The hint after the reason is the same everywhere; the reason must be exact.
        EXPECT_EQ(d.error().substr(0, std::string(r.want).size()), r.want) << r.text;
    }
}

TEST(Duration, LargestValueFits) {
    // 2^63-1 ms is the limit; 106751991167 h is just under it.
    auto d = parse_duration("106751991167h");
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->count(), 106751991167LL * 3600000);
}
