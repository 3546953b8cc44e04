#include "ulvs/dataplane/sched/rr.h"
#include "ulvs/dataplane/sched/wrr.h"

#include <gtest/gtest.h>
#include <numeric>
#include <string>
#include <vector>

using namespace ulvs::dp;

namespace {

std::vector<dest> with_weights(std::initializer_list<uint32_t> ws) {
    std::vector<dest> d;
    for (uint32_t w : ws) {
        dest x{};
        x.weight = w;
        d.push_back(x);
    }
    return d;
}

// wrr parameters computed here, independently of lib/control.
service wrr_service(const std::vector<dest>& d, uint32_t gen = 1) {
    service s{};
    s.sched = sched_kind::wrr;
    s.dest_count = static_cast<uint32_t>(d.size());
    s.gen = gen;
    int32_t mx = 0, g = 0;
    for (const auto& x : d) {
        mx = std::max<int32_t>(mx, static_cast<int32_t>(x.weight));
        if (x.weight)
            g = std::gcd(g, static_cast<int32_t>(x.weight));
    }
    s.wrr = {mx, g ? g : 1};
    return s;
}

service rr_service(const std::vector<dest>& d, uint32_t gen = 1) {
    service s{};
    s.sched = sched_kind::rr;
    s.dest_count = static_cast<uint32_t>(d.size());
    s.gen = gen;
    return s;
}

using pick_fn = int32_t (*)(const dest*, uint32_t, const service&, sched_cursor&);

// Picks as letters: A = index 0, '-' = none.
std::string picks(pick_fn fn, const std::vector<dest>& d, const service& s, sched_cursor& c,
                  int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
        const int32_t p = fn(d.data(), static_cast<uint32_t>(d.size()), s, c);
        out += p < 0 ? '-' : static_cast<char>('A' + p);
    }
    return out;
}

// The IPVS wrr definition expanded one cycle at a time: for cw = max, max - gcd, ..., gcd, every
// dest with weight >= cw in order. A different formulation from the cursor walk under test.
std::string wrr_reference(const std::vector<uint32_t>& w, size_t n) {
    uint32_t mx = 0, g = 0;
    for (uint32_t x : w) {
        mx = std::max(mx, x);
        if (x)
            g = std::gcd(g, x);
    }
    std::string out;
    if (mx == 0)
        return std::string(n, '-');
    while (out.size() < n)
        for (uint32_t cw = mx; cw >= g && cw > 0 && out.size() < n; cw -= g)
            for (size_t i = 0; i < w.size() && out.size() < n; ++i)
                if (w[i] >= cw)
                    out += static_cast<char>('A' + i);
    return out;
}

} // namespace

TEST(rr, cycles_in_order) {
    auto d = with_weights({1, 1, 1});
    sched_cursor c;
    EXPECT_EQ(picks(rr_pick, d, rr_service(d), c, 7), "ABCABCA");
}

TEST(rr, skips_weight_zero) {
    auto d = with_weights({1, 0, 5, 0});
    sched_cursor c;
    EXPECT_EQ(picks(rr_pick, d, rr_service(d), c, 6), "ACACAC");
    d = with_weights({0, 0, 3});
    c = {};
    EXPECT_EQ(picks(rr_pick, d, rr_service(d), c, 3), "CCC");
}

TEST(rr, all_zero_or_empty_is_no_dest) {
    auto d = with_weights({0, 0, 0});
    sched_cursor c;
    EXPECT_EQ(picks(rr_pick, d, rr_service(d), c, 3), "---");
    std::vector<dest> none;
    EXPECT_EQ(rr_pick(nullptr, 0, rr_service(none), c), -1);
}

TEST(rr, continues_after_the_last_pick_when_it_is_quiesced) {
    auto d = with_weights({1, 1, 1, 1});
    auto s = rr_service(d);
    sched_cursor c;
    EXPECT_EQ(picks(rr_pick, d, s, c, 2), "AB");
    d[1].weight = 0; // same generation: as if a weight change had not reached the cursor
    EXPECT_EQ(picks(rr_pick, d, s, c, 4), "CDAC");
}

// Dests with stats ids (their identity across snapshots) and weight 1.
std::vector<dest> with_ids(std::initializer_list<uint32_t> ids) {
    std::vector<dest> d;
    for (uint32_t id : ids) {
        dest x{};
        x.weight = 1;
        x.stats_id = id;
        d.push_back(x);
    }
    return d;
}

// Issue 13: a new generation (the dests changed) no longer restarts rr at the head. IPVS keeps its
// position at the dest it last picked (ip_vs_rr.c: an added dest does not move it).
TEST(rr, a_new_generation_keeps_the_position_at_the_last_picked_dest) {
    auto d = with_ids({10, 11, 12});
    auto s = rr_service(d, 5);
    sched_cursor c;
    EXPECT_EQ(picks(rr_pick, d, s, c, 2), "AB"); // last picked: 11
    EXPECT_EQ(c.gen, 5u);
    d = with_ids({10, 13, 11, 12}); // 13 added before it
    s = rr_service(d, 6);
    EXPECT_EQ(picks(rr_pick, d, s, c, 4), "DABC"); // 12, then around
    EXPECT_EQ(c.gen, 6u);
}

// ip_vs_rr_del_dest: when the last picked dest is removed, the position moves to its predecessor,
// so the dest that followed it comes next.
TEST(rr, a_removed_last_pick_leaves_the_position_at_its_predecessor) {
    auto d = with_ids({10, 11, 12, 13});
    auto s = rr_service(d, 1);
    sched_cursor c;
    EXPECT_EQ(picks(rr_pick, d, s, c, 2), "AB"); // last picked: 11
    d = with_ids({10, 12, 13});
    s = rr_service(d, 2);
    EXPECT_EQ(picks(rr_pick, d, s, c, 3), "BCA"); // 12 13 10
    // The first dest removed: its predecessor is the head, so the new first dest comes next.
    c = {};
    d = with_ids({10, 11});
    EXPECT_EQ(picks(rr_pick, d, rr_service(d, 3), c, 1), "A");
    d = with_ids({11});
    EXPECT_EQ(picks(rr_pick, d, rr_service(d, 4), c, 2), "AA");
}

// The same generation (a republish that left this service alone): the cursor just goes on.
TEST(rr, the_same_generation_continues) {
    auto d = with_ids({10, 11, 12});
    auto s = rr_service(d, 7);
    sched_cursor c;
    EXPECT_EQ(picks(rr_pick, d, s, c, 2), "AB");
    EXPECT_EQ(picks(rr_pick, d, s, c, 2), "CA");
}

TEST(rr, stale_index_past_the_end_is_safe) {
    auto d = with_weights({1, 1});
    sched_cursor c{1, 7, 0}; // same gen, index from a bigger list
    EXPECT_EQ(picks(rr_pick, d, rr_service(d), c, 3), "ABA");
}

TEST(wrr, weights_3_2_1) {
    auto d = with_weights({3, 2, 1});
    sched_cursor c;
    EXPECT_EQ(picks(wrr_pick, d, wrr_service(d), c, 18), "AABABCAABABCAABABC");
}

TEST(wrr, weights_with_gcd) {
    auto d = with_weights({4, 2});
    sched_cursor c;
    EXPECT_EQ(picks(wrr_pick, d, wrr_service(d), c, 9), "AABAABAAB");
    d = with_weights({6, 4, 2});
    c = {};
    EXPECT_EQ(picks(wrr_pick, d, wrr_service(d), c, 12), "AABABCAABABC");
}

TEST(wrr, zero_weights_never_picked) {
    auto d = with_weights({3, 0, 1});
    sched_cursor c;
    EXPECT_EQ(picks(wrr_pick, d, wrr_service(d), c, 8), "AAACAAAC");
    d = with_weights({0, 2, 0});
    c = {};
    EXPECT_EQ(picks(wrr_pick, d, wrr_service(d), c, 3), "BBB");
}

TEST(wrr, all_zero_is_no_dest) {
    auto d = with_weights({0, 0});
    sched_cursor c;
    EXPECT_EQ(picks(wrr_pick, d, wrr_service(d), c, 3), "---");
    std::vector<dest> none;
    EXPECT_EQ(wrr_pick(nullptr, 0, wrr_service(none), c), -1);
}

TEST(wrr, equal_weights_behave_as_rr) {
    auto d = with_weights({5, 5, 0, 5});
    sched_cursor cw, cr;
    EXPECT_EQ(picks(wrr_pick, d, wrr_service(d), cw, 30), picks(rr_pick, d, rr_service(d), cr, 30));
    cw = {};
    EXPECT_EQ(picks(wrr_pick, d, wrr_service(d), cw, 6), "ABDABD");
}

// A new generation: as ip_vs_wrr_dest_changed, back to the head with the current weight kept
// while it is within the new maximum, else restarted at the maximum.
TEST(wrr, a_new_generation_restarts_at_the_head_keeping_the_current_weight) {
    auto d = with_weights({3, 2, 1});
    auto s = wrr_service(d, 1);
    sched_cursor c;
    EXPECT_EQ(picks(wrr_pick, d, s, c, 3), "AAB"); // cw 2 after B
    d = with_weights({1, 1, 1});
    s = wrr_service(d, 2);
    EXPECT_EQ(picks(wrr_pick, d, s, c, 4), "ABCA"); // cw 2 > max 1: restarted at 1
    EXPECT_EQ(c.gen, 2u);
    d = with_weights({3, 2, 1});
    c = {};
    EXPECT_EQ(picks(wrr_pick, d, wrr_service(d, 3), c, 3), "AAB"); // cw 2
    d = with_weights({3, 2, 2});
    EXPECT_EQ(picks(wrr_pick, d, wrr_service(d, 4), c, 4), "ABCA"); // cw 2 kept: A B C, then 1
}

TEST(wrr, matches_reference_expansion) {
    const std::vector<std::vector<uint32_t>> cases = {
        {1},         {7},          {3, 2, 1},     {1, 2, 3},         {4, 2},
        {2, 4},      {6, 9, 3},    {0, 5, 10, 0}, {100, 1},          {1, 100},
        {5, 5, 5},   {8, 12, 4},   {0, 0, 7},     {3, 3, 3, 3, 3},   {65535, 1, 2},
        {10, 0, 15}, {2, 3, 5, 7}, {9, 6, 3, 0},  {1, 1, 1, 1, 1, 2}};
    for (const auto& w : cases) {
        std::vector<dest> d;
        for (uint32_t x : w) {
            dest y{};
            y.weight = x;
            d.push_back(y);
        }
        uint64_t sum = 0;
        for (uint32_t x : w)
            sum += x;
        const size_t n = static_cast<size_t>(std::min<uint64_t>(3 * sum + 7, 5000));
        sched_cursor c;
        EXPECT_EQ(picks(wrr_pick, d, wrr_service(d), c, static_cast<int>(n)), wrr_reference(w, n))
            << "weights " << ::testing::PrintToString(w);
    }
}

TEST(wrr, random_weights_match_reference_and_proportions) {
    uint32_t seed = 99;
    auto rnd = [&seed](uint32_t m) { return ((seed = seed * 1664525 + 1013904223) >> 8) % m; };
    for (int round = 0; round < 200; ++round) {
        std::vector<uint32_t> w(1 + rnd(8));
        const uint32_t scale = 1 + rnd(4); // often a common divisor > 1
        for (auto& x : w)
            x = rnd(4) == 0 ? 0 : scale * (1 + rnd(6));
        std::vector<dest> d;
        for (uint32_t x : w) {
            dest y{};
            y.weight = x;
            d.push_back(y);
        }
        uint32_t g = 0, sum = 0;
        for (uint32_t x : w) {
            if (x)
                g = std::gcd(g, x);
            sum += x;
        }
        sched_cursor c;
        const std::string got = picks(wrr_pick, d, wrr_service(d), c, 1000);
        ASSERT_EQ(got, wrr_reference(w, 1000)) << ::testing::PrintToString(w);
        if (sum == 0)
            continue;
        // Over whole cycles, each dest gets exactly weight / gcd picks per cycle.
        const uint32_t cycle = sum / g;
        for (size_t i = 0; i < w.size(); ++i) {
            const auto count = std::count(got.begin(), got.begin() + cycle, 'A' + i);
            EXPECT_EQ(static_cast<uint32_t>(count), w[i] / g) << ::testing::PrintToString(w);
        }
    }
}
