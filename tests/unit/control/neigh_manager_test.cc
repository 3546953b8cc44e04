#include "ulvs/control/neigh/neigh_manager.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

using namespace ulvs;

namespace {

ip_addr ip(const char* s) {
    return *ip_addr::parse(s);
}
mac_addr mac(const char* s) {
    return *mac_addr::parse(s);
}

uint8_t last_byte(const dp::neigh_table& t, uint32_t slot) {
    uint8_t m[6] = {};
    EXPECT_TRUE(t.get(slot, m));
    return m[5];
}

} // namespace

TEST(neigh_manager, slots_are_stable_and_unresolved_until_learned) {
    dp::neigh_table t(4);
    ctl::neigh_manager n(t);
    auto a = n.slot_for(ip("198.51.100.11"), 1);
    auto b = n.slot_for(ip("198.51.100.12"), 1);
    ASSERT_TRUE(a && b);
    EXPECT_NE(*a, *b);
    EXPECT_EQ(n.slot_for(ip("198.51.100.11"), 1), a);
    EXPECT_FALSE(t.valid(*a));
    EXPECT_TRUE(n.learn(ip("198.51.100.11"), 1, mac("02:00:00:00:00:11"), 0));
    EXPECT_EQ(last_byte(t, *a), 0x11);
    EXPECT_FALSE(n.learn(ip("198.51.100.11"), 1, mac("02:00:00:00:00:11"), 0)); // no change
    // Learning never adds untracked addresses, nor from another port.
    EXPECT_FALSE(n.learn(ip("198.51.100.99"), 1, mac("02:00:00:00:00:99"), 0));
    EXPECT_FALSE(n.learn(ip("198.51.100.12"), 0, mac("02:00:00:00:00:12"), 0));
    EXPECT_FALSE(t.valid(*b));
}

TEST(neigh_manager, table_full_of_held_slots_is_reported) {
    dp::neigh_table t(1);
    ctl::neigh_manager n(t);
    EXPECT_TRUE(n.slot_for(ip("198.51.100.11"), 0, true)); // pinned
    EXPECT_FALSE(n.slot_for(ip("198.51.100.12"), 0));
}

// Issue 12: slots were never recycled, so churn of next hops ended in "out of neighbour slots".
TEST(neigh_manager, unheld_slots_are_reclaimed_after_a_grace_period_when_full) {
    dp::neigh_table t(2);
    ctl::neigh_manager n(t);
    int grace = 0;
    n.set_synchronize([&] { ++grace; });
    auto a = n.slot_for(ip("198.51.100.11"), 0); // routed-traffic host: cached, not held
    auto b = n.slot_for(ip("198.51.100.12"), 0, true);
    n.learn(ip("198.51.100.11"), 0, mac("02:00:00:00:00:11"), 0);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(grace, 0);
    auto c = n.slot_for(ip("198.51.100.13"), 0);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, *a);
    EXPECT_EQ(grace, 1);
    EXPECT_FALSE(t.valid(*c)); // the reused slot does not carry the old MAC
    EXPECT_EQ(t.find(htonl(ip("198.51.100.11").v4)), dp::neigh_table::no_slot);
    EXPECT_EQ(t.find(htonl(ip("198.51.100.13").v4)), *c);
    EXPECT_EQ(t.find(htonl(ip("198.51.100.12").v4)), *b);
    EXPECT_FALSE(n.mac_of(ip("198.51.100.11")));
}

TEST(neigh_manager, builds_publications_and_holds_keep_their_slots) {
    dp::neigh_table t(3);
    ctl::neigh_manager n(t);
    dp::snapshot s;
    n.begin_build();
    auto gw = n.slot_for(ip("198.51.100.1"), 0);
    n.end_build(true); // the committed config's next hop
    auto pub = n.slot_for(ip("198.51.100.2"), 0);
    s.dests.push_back(dp::dest{});
    s.dests.back().neigh = *pub;
    n.published(s); // in the workers' snapshot
    auto held = n.slot_for(ip("198.51.100.3"), 0);
    n.hold(*held); // a real server's stats id: its connections copy the slot
    EXPECT_FALSE(n.slot_for(ip("198.51.100.4"), 0));
    n.unhold(*held);
    auto d = n.slot_for(ip("198.51.100.4"), 0);
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, *held);
    EXPECT_EQ(n.slot_for(ip("198.51.100.1"), 0), gw);
    EXPECT_EQ(n.slot_for(ip("198.51.100.2"), 0), pub);
}

TEST(neigh_manager, a_failed_build_gives_back_what_it_created_at_once) {
    dp::neigh_table t(2);
    ctl::neigh_manager n(t);
    auto keep = n.slot_for(ip("198.51.100.1"), 0, true);
    n.begin_build();
    auto fresh = n.slot_for(ip("198.51.100.2"), 0);
    ASSERT_TRUE(keep && fresh);
    n.end_build(false);
    EXPECT_EQ(t.find(htonl(ip("198.51.100.2").v4)), dp::neigh_table::no_slot);
    EXPECT_EQ(n.tracked(), 1u);
    EXPECT_EQ(n.unused_slots(), 1u);
}

TEST(neigh_manager, retries_unresolved_every_second_and_refreshes_resolved_ones) {
    dp::neigh_table t(4);
    ctl::neigh_manager n(t);
    n.slot_for(ip("198.51.100.11"), 1);
    EXPECT_EQ(n.due(0).size(), 1u);
    EXPECT_TRUE(n.due(999).empty());
    EXPECT_EQ(n.due(1000).size(), 1u);
    n.learn(ip("198.51.100.11"), 1, mac("02:00:00:00:00:11"), 1500);
    EXPECT_TRUE(n.due(2000).empty());
    EXPECT_TRUE(n.due(1500 + ctl::neigh_manager::refresh_ms - 1).empty());
    auto due = n.due(1500 + ctl::neigh_manager::refresh_ms);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].port, 1);
    // While refreshing, the known MAC stays in use.
    EXPECT_TRUE(t.valid(*n.slot_for(ip("198.51.100.11"), 1)));
}

TEST(neigh_manager, static_entries_are_never_requested_or_overwritten) {
    dp::neigh_table t(4);
    ctl::neigh_manager n(t);
    auto s = n.set_static(ip("198.51.100.11"), 1, mac("02:00:00:00:00:11"));
    ASSERT_TRUE(s);
    EXPECT_TRUE(n.due(0).empty());
    EXPECT_FALSE(n.learn(ip("198.51.100.11"), 1, mac("02:00:00:00:00:66"), 0));
    EXPECT_EQ(last_byte(t, *s), 0x11);
    EXPECT_EQ(n.mac_of(ip("198.51.100.11")), mac("02:00:00:00:00:11"));
}
