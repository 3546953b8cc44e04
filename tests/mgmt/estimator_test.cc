// The IPVS rate estimator with injected samples.
#include "ulvs/mgmt/estimator.h"

#include <gtest/gtest.h>

namespace ulvs::mgmt {
namespace {

TEST(estimator, converges_to_a_steady_rate) {
    estimator e;
    est_totals t;
    e.reset(t);
    // 1000 conn/s, 5000 pkt/s in, 3000 out, 1 MB/s in, 2 MB/s out: one 2 s sample at a time.
    for (int i = 0; i < 60; ++i) {
        t.conns += 2000;
        t.inpkts += 10000;
        t.outpkts += 6000;
        t.inbytes += 2000000;
        t.outbytes += 4000000;
        e.sample(t);
    }
    auto r = e.rates();
    EXPECT_EQ(r.cps, 1000u);
    EXPECT_EQ(r.inpps, 5000u);
    EXPECT_EQ(r.outpps, 3000u);
    EXPECT_EQ(r.inbps, 1000000u);
    EXPECT_EQ(r.outbps, 2000000u);
}

TEST(estimator, first_sample_is_a_quarter_as_the_kernel) {
    estimator e;
    e.reset({});
    e.sample({400, 800, 0, 0, 0}); // 200 conn/s over the first 2 s
    auto r = e.rates();
    // avg = (400 << 9) >> 2 = 51200; read (51200 + 511) >> 10 = 50.
    EXPECT_EQ(r.cps, 50u);
    EXPECT_EQ(r.inpps, 100u);
    e.sample({400, 800, 0, 0, 0}); // nothing new: decays by 3/4
    EXPECT_EQ(e.rates().cps, (38400u + 511) >> 10);
}

TEST(estimator, reset_restarts_from_zero) {
    estimator e;
    e.sample({1000000, 0, 0, 0, 0}); // an unstarted estimator only takes its baseline
    EXPECT_EQ(e.rates().cps, 0u);
    e.sample({1000400, 0, 0, 0, 0});
    EXPECT_EQ(e.rates().cps, 50u);
    e.reset({1000400, 0, 0, 0, 0});
    EXPECT_EQ(e.rates().cps, 0u);
}

} // namespace
} // namespace ulvs::mgmt
