// lc, wlc, sed, nq and the thresholds against references written from IPVS' definitions as plain
// minimum searches (not the schedulers' scans), over random weights, counts and OVERLOADED servers.
#include "ulvs/dataplane/sched/dispatch.h"
#include "ulvs/dataplane/sched/least_conn.h"
#include "ulvs/dataplane/sched/rr.h"
#include "ulvs/dataplane/sched/wrr.h"

#include <gtest/gtest.h>
#include <vector>

using namespace ulvs::dp;

namespace {

struct rig {
    std::vector<dest> d;
    std::vector<dest_conn_counts> counts; // by stats_id = index
    std::vector<uint32_t> overload = std::vector<uint32_t>(64, 0);

    void add(uint32_t weight, int64_t active, int64_t inactive, uint32_t upper = 0,
             uint32_t lower = 0) {
        dest x{};
        x.weight = weight;
        x.stats_id = static_cast<uint32_t>(d.size());
        x.upper = upper;
        x.lower = lower;
        d.push_back(x);
        counts.push_back({active, inactive});
    }
    sched_args args() { return {{}, load_view(counts.data(), nullptr, overload.data())}; }
    int32_t pick(int32_t (*fn)(sched_args&, const dest*, uint32_t, const service&,
                               sched_cursor&) noexcept) {
        auto a = args();
        service s{};
        sched_cursor c;
        return fn(a, d.data(), static_cast<uint32_t>(d.size()), s, c);
    }
};

// Availability as IPVS states it: weight > 0 and below the upper threshold. The random cases
// never pass through the hysteresis band, so the state-free rule is exact there.
bool available(const rig& r, size_t i) {
    const auto& x = r.d[i];
    const int64_t total = r.counts[i].active + r.counts[i].inactive;
    return x.weight > 0 && !(x.upper > 0 && total >= x.upper);
}

// The first available dest minimising num(i)/den(i), comparing fractions exactly.
template <class Num, class Den> int32_t first_min(const rig& r, Num num, Den den) {
    int32_t best = -1;
    for (size_t i = 0; i < r.d.size(); ++i) {
        if (!available(r, i))
            continue;
        if (best < 0 ||
            (__int128)num(i) * den(best) < (__int128)num(best) * den(static_cast<size_t>(i)))
            best = static_cast<int32_t>(i);
    }
    return best;
}

int64_t overhead(const rig& r, size_t i) {
    return r.counts[i].active * 256 + r.counts[i].inactive;
}

rig random_rig(uint32_t& seed) {
    auto rnd = [&seed](uint32_t m) { return ((seed = seed * 1664525 + 1013904223) >> 8) % m; };
    rig r;
    const uint32_t n = 1 + rnd(8);
    for (uint32_t i = 0; i < n; ++i) {
        const uint32_t w = rnd(5) == 0 ? 0 : 1 + rnd(rnd(2) ? 5 : 300);
        const int64_t act = rnd(3) == 0 ? 0 : rnd(rnd(2) ? 4 : 2000);
        const int64_t inact = rnd(rnd(2) ? 3 : 5000);
        // Sometimes a threshold far above or at/below the total: clearly set or clear.
        uint32_t upper = 0;
        if (rnd(4) == 0)
            upper = rnd(2) ? static_cast<uint32_t>(act + inact)
                           : static_cast<uint32_t>(4 * (act + inact) + 8);
        r.add(w, act, inact, upper);
    }
    return r;
}

} // namespace

TEST(sched_lc, matches_reference) {
    uint32_t seed = 7;
    for (int k = 0; k < 3000; ++k) {
        rig r = random_rig(seed);
        const int32_t want = first_min(
            r, [&](size_t i) { return overhead(r, i); }, [](size_t) { return 1; });
        ASSERT_EQ(r.pick(lc_pick), want) << "case " << k;
    }
}

TEST(sched_wlc, matches_reference) {
    uint32_t seed = 8;
    for (int k = 0; k < 3000; ++k) {
        rig r = random_rig(seed);
        const int32_t want = first_min(
            r, [&](size_t i) { return overhead(r, i); }, [&](size_t i) { return r.d[i].weight; });
        ASSERT_EQ(r.pick(wlc_pick), want) << "case " << k;
    }
}

TEST(sched_sed, matches_reference) {
    uint32_t seed = 9;
    for (int k = 0; k < 3000; ++k) {
        rig r = random_rig(seed);
        const int32_t want = first_min(
            r, [&](size_t i) { return r.counts[i].active + 1; },
            [&](size_t i) { return r.d[i].weight; });
        ASSERT_EQ(r.pick(sed_pick), want) << "case " << k;
    }
}

TEST(sched_nq, matches_reference) {
    uint32_t seed = 10;
    for (int k = 0; k < 3000; ++k) {
        rig r = random_rig(seed);
        int32_t want = -1;
        for (size_t i = 0; i < r.d.size() && want < 0; ++i)
            if (available(r, i) && r.counts[i].active == 0)
                want = static_cast<int32_t>(i); // an idle server, first one, at once
        if (want < 0)
            want = first_min(
                r, [&](size_t i) { return r.counts[i].active + 1; },
                [&](size_t i) { return r.d[i].weight; });
        ASSERT_EQ(r.pick(nq_pick), want) << "case " << k;
    }
}

TEST(sched_least, ties_weight_zero_and_none) {
    rig r;
    r.add(1, 2, 0);
    r.add(1, 2, 0);
    r.add(0, 0, 0);                 // idle but quiesced
    EXPECT_EQ(r.pick(lc_pick), 0);  // tie: first
    EXPECT_EQ(r.pick(wlc_pick), 0); // tie: first
    EXPECT_EQ(r.pick(nq_pick), 0);  // no idle server with weight > 0
    r.counts[0].inactive = 1;       // 513 vs 512
    EXPECT_EQ(r.pick(lc_pick), 1);
    EXPECT_EQ(r.pick(sed_pick), 0); // sed ignores inactive connections
    rig z;
    z.add(0, 0, 0);
    EXPECT_EQ(z.pick(lc_pick), -1);
    EXPECT_EQ(z.pick(wlc_pick), -1);
    EXPECT_EQ(z.pick(sed_pick), -1);
    EXPECT_EQ(z.pick(nq_pick), -1);
}

TEST(sched_least, wlc_weights_scale_overhead) {
    // 3 active on weight 3 (768/3 = 256) beats 2 active on weight 1 (512).
    rig r;
    r.add(1, 2, 0);
    r.add(3, 3, 0);
    EXPECT_EQ(r.pick(wlc_pick), 1);
    // Equal ratios (256 each): the first.
    r.counts[0].active = 1;
    EXPECT_EQ(r.pick(wlc_pick), 0);
}

TEST(thresholds, overload_set_at_upper_cleared_below_three_quarters) {
    // One server, upper 4, lower 0: OVERLOADED at 4 connections, free again below 3 (4 * 3/4).
    rig r;
    r.add(1, 0, 0, 4);
    r.add(1, 100, 0); // a busy second server, picked only while the first is overloaded
    service s{};
    s.sched = sched_kind::wlc;
    sched_cursor c;
    auto pick = [&] {
        auto a = r.args();
        const int32_t p = sched_pick(a, r.d.data(), 2, s, c);
        if (p >= 0)
            ++r.counts[static_cast<size_t>(p)].inactive; // what the worker does on bind
        return p;
    };
    for (int i = 0; i < 4; ++i)
        ASSERT_EQ(pick(), 0) << i;
    EXPECT_EQ(r.overload[0], 4u); // set at bind of the 4th connection
    EXPECT_EQ(pick(), 1);
    r.counts[0].inactive = 3; // one closed: 3 is not below 3
    EXPECT_EQ(pick(), 1);
    r.counts[0].inactive = 2; // below 3/4 of upper: clear
    EXPECT_EQ(pick(), 0);
    EXPECT_EQ(pick(), 0);
    EXPECT_EQ(pick(), 1); // 4 again
}

TEST(thresholds, explicit_lower_and_threshold_changes) {
    rig r;
    r.add(1, 0, 5, 5, 2); // at upper already
    r.add(1, 0, 0);
    auto a = r.args();
    EXPECT_TRUE(a.load.overloaded(r.d[0]));
    r.counts[0].inactive = 2; // not below lower 2
    EXPECT_TRUE(a.load.overloaded(r.d[0]));
    r.counts[0].inactive = 1;
    EXPECT_FALSE(a.load.overloaded(r.d[0]));
    // Raising upper clears the flag at once (IPVS __ip_vs_update_dest); 0 removes it.
    r.counts[0].inactive = 5;
    EXPECT_TRUE(a.load.overloaded(r.d[0]));
    r.d[0].upper = 6;
    r.counts[0].inactive = 5;
    EXPECT_FALSE(a.load.overloaded(r.d[0]));
    r.counts[0].inactive = 7;
    EXPECT_TRUE(a.load.overloaded(r.d[0]));
    r.d[0].upper = 0;
    EXPECT_FALSE(a.load.overloaded(r.d[0]));
}

TEST(thresholds, rr_and_wrr_skip_overloaded) {
    rig r;
    r.add(1, 0, 3, 3); // overloaded
    r.add(1, 0, 0);
    r.add(1, 0, 0);
    service s{};
    s.dest_count = 3;
    s.gen = 1;
    s.wrr = {1, 1};
    sched_cursor c;
    std::string got;
    for (int i = 0; i < 4; ++i) {
        auto a = r.args();
        got += static_cast<char>('A' + rr_pick(a, r.d.data(), 3, s, c));
    }
    EXPECT_EQ(got, "BCBC");
    got.clear();
    c = {};
    for (int i = 0; i < 4; ++i) {
        auto a = r.args();
        got += static_cast<char>('A' + wrr_pick(a, r.d.data(), 3, s, c));
    }
    EXPECT_EQ(got, "BCBC");
    // Every server overloaded: no destination.
    r.d[1].upper = r.d[2].upper = 1;
    r.counts[1].inactive = r.counts[2].inactive = 1;
    auto a = r.args();
    EXPECT_EQ(rr_pick(a, r.d.data(), 3, s, c), -1);
    c = {};
    EXPECT_EQ(wrr_pick(a, r.d.data(), 3, s, c), -1);
}

TEST(load_view, other_workers_counts_add_to_own) {
    std::vector<dest_conn_counts> own(4);
    std::vector<shared_counts> others(4);
    own[1] = {2, 3};
    others[1].active = 5;
    others[1].inactive = 7;
    dest d{};
    d.stats_id = 1;
    load_view v(own.data(), others.data(), nullptr);
    EXPECT_EQ(v.active(d), 7);
    EXPECT_EQ(v.inactive(d), 10);
    EXPECT_EQ(v.overhead(d), 7 * 256 + 10);
    others[1].active = -9; // a stale sum below zero counts as none
    EXPECT_EQ(v.active(d), 0);
}
