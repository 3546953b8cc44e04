// The workers' token bucket (dp/fwd/police.h) over injected time.
#include "ulvs/dataplane/fwd/police.h"

#include <gtest/gtest.h>

using ulvs::dp::police_rate;
using ulvs::dp::token_bucket;

namespace {

unsigned passed(token_bucket& b, uint64_t now, const police_rate& p, unsigned tries) {
    unsigned n = 0;
    for (unsigned i = 0; i < tries; ++i)
        n += b.take(now, p) ? 1 : 0;
    return n;
}

} // namespace

TEST(token_bucket, starts_full_then_refills_at_its_rate) {
    const police_rate p{1000, 100}; // one packet per millisecond, 100 deep
    token_bucket b;
    EXPECT_EQ(passed(b, 5000, p, 1000), 100u);
    EXPECT_EQ(passed(b, 5000, p, 10), 0u);
    EXPECT_EQ(passed(b, 5007, p, 10), 7u);
    EXPECT_EQ(passed(b, 6000, p, 1000), 100u); // capped at the depth after a long pause
    // A whole second of 1000 tries per ms passes the rate plus the initial depth, no more.
    token_bucket c;
    unsigned n = 0;
    for (uint64_t t = 0; t < 1000; ++t)
        n += passed(c, 10000 + t, p, 1000);
    EXPECT_EQ(n, 100u + 999u);
}

TEST(token_bucket, fractional_rates_accumulate) {
    const police_rate p{250, 1}; // one packet every 4 ms
    token_bucket b;
    EXPECT_EQ(passed(b, 100, p, 5), 1u);
    EXPECT_EQ(passed(b, 103, p, 5), 0u);
    EXPECT_EQ(passed(b, 104, p, 5), 1u);
    EXPECT_EQ(passed(b, 105, p, 5), 0u);
}

TEST(token_bucket, rate_zero_is_unlimited) {
    token_bucket b;
    EXPECT_EQ(passed(b, 1, police_rate{0, 1}, 100000), 100000u);
}

TEST(token_bucket, a_lower_depth_applies_at_once_and_time_never_runs_backwards) {
    token_bucket b;
    EXPECT_EQ(passed(b, 1000, police_rate{1000, 500}, 10), 10u);
    EXPECT_EQ(passed(b, 1000, police_rate{1000, 5}, 100), 5u); // reload lowered the depth
    EXPECT_EQ(passed(b, 900, police_rate{1000, 5}, 100), 0u);  // an older clock adds nothing
    EXPECT_EQ(passed(b, 1002, police_rate{1000, 5}, 100), 2u);
}

TEST(token_bucket, huge_pauses_and_rates_do_not_overflow) {
    const police_rate p{10000000, 1000000};
    token_bucket b;
    EXPECT_EQ(passed(b, UINT64_MAX / 2, p, 2000000), 1000000u);
    EXPECT_EQ(passed(b, UINT64_MAX / 2 + 1, p, 20000), 10000u);
    EXPECT_EQ(passed(b, UINT64_MAX - 1, p, 2000000), 1000000u);
}
