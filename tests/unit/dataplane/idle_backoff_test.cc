// lcores.idle: adaptive (idle_backoff.h): spin first, then sleeps that grow to a cap well under a
// millisecond; any work brings the worker back to spinning.
#include "ulvs/dataplane/fwd/idle_backoff.h"

#include <gtest/gtest.h>

namespace ulvs::dp {
namespace {

TEST(IdleBackoff, SpinsThenSleepsGrowingToTheCap) {
    idle_backoff b;
    for (uint32_t i = 0; i < idle_backoff::spin_polls; ++i)
        ASSERT_EQ(b.idle(), 0u) << "poll " << i;
    uint32_t last = 0;
    for (int i = 0; i < 20; ++i) {
        const uint32_t us = b.idle();
        EXPECT_GE(us, last);
        EXPECT_GE(us, idle_backoff::min_sleep_us);
        EXPECT_LE(us, idle_backoff::max_sleep_us);
        last = us;
    }
    EXPECT_EQ(last, idle_backoff::max_sleep_us);
    static_assert(idle_backoff::max_sleep_us < 1'000, "the first packet must wait under 1 ms");
}

TEST(IdleBackoff, WorkResetsToSpinning) {
    idle_backoff b;
    for (uint32_t i = 0; i <= idle_backoff::spin_polls + 5; ++i)
        b.idle();
    b.busy();
    for (uint32_t i = 0; i < idle_backoff::spin_polls; ++i)
        ASSERT_EQ(b.idle(), 0u) << "poll " << i;
    EXPECT_EQ(b.idle(), idle_backoff::min_sleep_us);
}

} // namespace
} // namespace ulvs::dp
