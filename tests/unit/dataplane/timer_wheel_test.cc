#include "ulvs/dataplane/conn/timer_wheel.h"

#include <gtest/gtest.h>
#include <vector>

using namespace ulvs::dp;

namespace {

// What the connection table does with the wheel: it keeps each entry's deadline and only moves it
// forward on traffic; the wheel's callback expires entries whose deadline has passed and re-files
// the others.
struct fake_table {
    std::vector<uint64_t> deadline;
    std::vector<uint64_t> expired_at; // 0 = still alive
    std::vector<uint32_t> visits;
    uint64_t now = 0;

    explicit fake_table(size_t n) : deadline(n, 0), expired_at(n, 0), visits(n, 0) {}

    uint32_t run(timer_wheel& w, uint64_t t, uint32_t budget = UINT32_MAX) {
        now = t;
        return w.advance(t, budget, [this](uint32_t e) -> uint64_t {
            ++visits[e];
            if (deadline[e] <= now) {
                expired_at[e] = now;
                return 0;
            }
            return deadline[e];
        });
    }
};

uint64_t round_up(uint64_t ms, uint64_t tick) {
    return (ms + tick - 1) / tick * tick;
}

} // namespace

TEST(timer_wheel, expires_at_not_before_the_deadline) {
    timer_wheel w(4, 8, 10, 1000);
    fake_table t(4);
    t.deadline = {1050, 1055, 1000, 1001};
    for (uint32_t e = 0; e < 4; ++e)
        w.schedule(e, t.deadline[e]);
    EXPECT_EQ(w.filed(), 4u);
    for (uint64_t now = 1000; now <= 1100; ++now)
        t.run(w, now);
    EXPECT_EQ(t.expired_at[0], 1050u); // on a tick boundary: exactly then
    EXPECT_EQ(t.expired_at[1], 1060u); // rounded up to the next tick, never early
    EXPECT_EQ(t.expired_at[2], 1000u);
    EXPECT_EQ(t.expired_at[3], 1010u);
    for (uint32_t e = 0; e < 4; ++e)
        EXPECT_EQ(t.visits[e], 1u);
    EXPECT_EQ(w.filed(), 0u);
}

TEST(timer_wheel, nothing_is_visited_before_its_slot) {
    timer_wheel w(1, 16, 1, 0);
    fake_table t(1);
    t.deadline[0] = 7;
    w.schedule(0, 7);
    for (uint64_t now = 0; now < 7; ++now)
        EXPECT_EQ(t.run(w, now), 0u) << now;
    EXPECT_EQ(t.run(w, 7), 1u);
    EXPECT_EQ(t.expired_at[0], 7u);
}

TEST(timer_wheel, past_deadline_fires_on_the_next_advance) {
    timer_wheel w(1, 8, 10, 5000);
    fake_table t(1);
    t.deadline[0] = 10;
    w.schedule(0, 10);
    EXPECT_EQ(t.run(w, 5000), 1u);
    EXPECT_EQ(t.expired_at[0], 5000u);
}

TEST(timer_wheel, refreshed_deadline_is_refiled) {
    timer_wheel w(2, 64, 10, 0);
    fake_table t(2);
    t.deadline = {100, 100};
    w.schedule(0, 100);
    w.schedule(1, 100);
    // Traffic on entry 0 moves its deadline; the wheel is not touched.
    t.deadline[0] = 250;
    for (uint64_t now = 0; now <= 400; now += 5)
        t.run(w, now);
    EXPECT_EQ(t.expired_at[1], 100u);
    EXPECT_EQ(t.expired_at[0], 250u);
    EXPECT_EQ(t.visits[0], 2u); // once at 100 (re-filed), once at 250
    EXPECT_EQ(w.filed(), 0u);
}

TEST(timer_wheel, deadline_beyond_the_horizon) {
    // 8 slots of 10 ms: an 80 ms horizon. A 1 s deadline bounces through the farthest slot.
    timer_wheel w(1, 8, 10, 0);
    fake_table t(1);
    t.deadline[0] = 1000;
    w.schedule(0, 1000);
    for (uint64_t now = 0; now <= 1200; ++now) {
        t.run(w, now);
        if (now < 1000) {
            ASSERT_EQ(t.expired_at[0], 0u) << now;
        }
    }
    EXPECT_EQ(t.expired_at[0], 1000u);
    // One visit per 70 ms (the farthest slot is 7 ticks ahead) plus the final one.
    EXPECT_GE(t.visits[0], 1000u / 80);
    EXPECT_LE(t.visits[0], 1000u / 70 + 2);
}

TEST(timer_wheel, budget_limits_each_call_and_resumes) {
    timer_wheel w(100, 8, 10, 0);
    fake_table t(100);
    for (uint32_t e = 0; e < 100; ++e) {
        t.deadline[e] = 20;
        w.schedule(e, 20);
    }
    EXPECT_EQ(t.run(w, 20, 30), 30u);
    EXPECT_EQ(w.filed(), 70u);
    EXPECT_EQ(t.run(w, 21, 30), 30u);
    EXPECT_EQ(t.run(w, 22, 30), 30u);
    EXPECT_EQ(t.run(w, 23, 30), 10u);
    EXPECT_EQ(t.run(w, 24, 30), 0u);
    EXPECT_EQ(w.filed(), 0u);
    for (uint32_t e = 0; e < 100; ++e)
        EXPECT_NE(t.expired_at[e], 0u) << e;
    EXPECT_EQ(t.run(w, 25, 0), 0u); // budget 0 visits nothing
}

TEST(timer_wheel, budget_exhausted_across_slots_resumes_in_order) {
    timer_wheel w(6, 8, 1, 0);
    fake_table t(6);
    for (uint32_t e = 0; e < 6; ++e) {
        t.deadline[e] = 1 + e / 2; // two entries at 1, 2, 3
        w.schedule(e, t.deadline[e]);
    }
    EXPECT_EQ(t.run(w, 10, 3), 3u);
    EXPECT_EQ(w.filed(), 3u);
    // The first three visited are both of tick 1 and one of tick 2.
    EXPECT_NE(t.expired_at[0], 0u);
    EXPECT_NE(t.expired_at[1], 0u);
    EXPECT_EQ(t.expired_at[4] + t.expired_at[5], 0u);
    EXPECT_EQ(t.run(w, 10, 3), 3u);
    EXPECT_EQ(w.filed(), 0u);
}

namespace {

// 20000 entries with deadlines up to 10 s on a wheel whose horizon is 2 s, a third of them
// refreshed once; advance every 3 ms with `budget`. Returns the table for the checks.
fake_table many_entries(uint32_t budget, timer_wheel& w, uint64_t start) {
    constexpr uint32_t n = 20000;
    fake_table t(n);
    uint32_t seed = 7;
    auto rnd = [&seed](uint32_t m) { return ((seed = seed * 1664525 + 1013904223) >> 8) % m; };
    for (uint32_t e = 0; e < n; ++e) {
        t.deadline[e] = start + rnd(10000);
        w.schedule(e, t.deadline[e]);
    }
    EXPECT_EQ(w.filed(), n);
    for (uint64_t now = start; now <= start + 20000; now += 3) {
        if (now == start + 501)
            for (uint32_t e = 0; e < n; e += 3)
                if (t.expired_at[e] == 0)
                    t.deadline[e] += rnd(5000); // only ever forward, as the data path does
        t.run(w, now, budget);
    }
    EXPECT_EQ(w.filed(), 0u);
    return t;
}

} // namespace

TEST(timer_wheel, many_entries_expire_exactly_on_time) {
    constexpr uint64_t tick = 8, start = 123456;
    timer_wheel w(20000, 256, tick, start); // horizon 2048 ms
    fake_table t = many_entries(UINT32_MAX, w, start);
    for (uint32_t e = 0; e < t.deadline.size(); ++e) {
        // Expired at the first advance (every 3 ms) at or after the tick the deadline rounds to.
        const uint64_t due = round_up(t.deadline[e], tick);
        const uint64_t first_call = start + (due - start + 2) / 3 * 3;
        ASSERT_EQ(t.expired_at[e], first_call) << e;
    }
}

TEST(timer_wheel, many_entries_with_a_budget_expire_late_never_early) {
    // Everything past the horizon starts in one slot: a budget of 100 spreads that burst over
    // many calls, so entries may expire late, but never early and none is lost.
    constexpr uint64_t start = 5000;
    timer_wheel w(20000, 256, 8, start);
    fake_table t = many_entries(100, w, start);
    uint32_t late = 0;
    for (uint32_t e = 0; e < t.deadline.size(); ++e) {
        ASSERT_NE(t.expired_at[e], 0u) << e;
        ASSERT_GE(t.expired_at[e], t.deadline[e]) << e;
        late += t.expired_at[e] > round_up(t.deadline[e], 8) + 3;
    }
    EXPECT_GT(late, 0u); // the budget really did bite
}

TEST(timer_wheel, advance_to_refiles_an_earlier_deadline) {
    timer_wheel w(3, 1024, 10, 0);
    fake_table t(3);
    for (uint32_t e = 0; e < 3; ++e) {
        t.deadline[e] = 5000;
        w.schedule(e, 5000);
    }
    // Entry 1 (in the middle of its slot's list) now expires at 300: it must not wait for 5000.
    t.deadline[1] = 300;
    w.advance_to(1, 300);
    // A later deadline is not an advance: entry 2 stays where it is.
    w.advance_to(2, 9000);
    EXPECT_EQ(w.filed(), 3u);
    EXPECT_EQ(t.run(w, 290), 0u);
    EXPECT_EQ(t.run(w, 300), 1u);
    EXPECT_EQ(t.expired_at[1], 300u);
    EXPECT_EQ(t.expired_at[0], 0u);
    EXPECT_EQ(t.run(w, 5000), 2u);
    EXPECT_EQ(t.expired_at[0], 5000u);
    EXPECT_EQ(t.expired_at[2], 5000u);
    EXPECT_EQ(w.filed(), 0u);
}

namespace {

// Issue 12: cancelling an entry that is not filed (a connection ended twice, or one never
// scheduled) used to unlink it again from the slot it was last in, cutting that slot's list: the
// entries after it never came due, and the table filled for good.
TEST(timer_wheel, cancel_of_an_entry_not_filed_changes_nothing) {
    timer_wheel w(4, 64, 10, 0);
    fake_table t(4);
    t.deadline = {100, 100, 100, 0};
    w.schedule(0, 100);
    w.schedule(1, 100); // the slot's list: 1, 0
    w.cancel(1);
    EXPECT_FALSE(w.is_filed(1));
    w.cancel(1); // again
    w.cancel(3); // never filed
    EXPECT_TRUE(w.is_filed(0));
    EXPECT_EQ(w.filed(), 1u);
    t.run(w, 200);
    EXPECT_EQ(t.expired_at[0], 200u) << "an entry was lost from its slot";
    EXPECT_EQ(w.filed(), 0u);
}

} // namespace
