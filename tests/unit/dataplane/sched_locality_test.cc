// lblc and lblcr against IPVS' documented behaviour (ip_vs_lblc.c, ip_vs_lblcr.c): the same
// destination keeps its server(s) while not overloaded, an overloaded one (more active connections
// than its weight while some server has fewer than half its weight) moves the destination to the
// weighted least-connection server, entries expire after lblc(r)_expiration unused, lblcr sets
// grow and shrink, weight 0 and removed servers get no new connection; plus the table's bounds.
#include "ulvs/dataplane/sched/dispatch.h"
#include "ulvs/dataplane/sched/locality.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

using namespace ulvs::dp;

namespace {

constexpr uint64_t exp_ms = 60000; // a short expiration, so that tests can step over it
constexpr uint32_t addr_x = 0x0A000001, addr_y = 0x0A000002; // network order is all the same

struct rig {
    std::vector<dest> d;
    std::vector<dest_conn_counts> counts = std::vector<dest_conn_counts>(64);
    std::vector<uint32_t> overload = std::vector<uint32_t>(64, 0);
    std::unique_ptr<locality_table> table;
    service svc{};
    sched_cursor cur;
    uint64_t evicted = 0;

    explicit rig(sched_kind k, uint32_t workers = 1)
        : table(std::make_unique<locality_table>(k, workers, exp_ms)) {
        svc.sched = k;
        svc.locality = table.get();
    }
    // Servers get stats ids 10, 11, ... (not their index: entries name them by stats id).
    void add(uint32_t weight, uint32_t upper = 0) {
        dest x{};
        x.weight = weight;
        x.stats_id = 10 + static_cast<uint32_t>(d.size());
        x.upper = upper;
        d.push_back(x);
    }
    void set(size_t i, int64_t active, int64_t inactive = 0) {
        counts[d[i].stats_id] = {active, inactive};
    }
    // The index of the server picked for a new connection to `dst` at `now` (-1: none), by
    // sched_pick, as the burst path calls it.
    int32_t pick(uint32_t dst, uint64_t now, uint32_t worker = 0) {
        sched_args a{{0x01020304, dst, 1234, 80},
                     load_view(counts.data(), nullptr, overload.data())};
        a.worker = worker;
        a.now_ms = now;
        a.locality_evicted = &evicted;
        return sched_pick(a, d.data(), static_cast<uint32_t>(d.size()), svc, cur);
    }
};

// Four addresses of one lblc bucket (IPVS' hash: the host-order address times 2654435761, low
// 10 bits), found by search.
std::vector<uint32_t> same_lblc_bucket(size_t count) {
    std::vector<uint32_t> v;
    const auto bucket = [](uint32_t host) { return (host * 2654435761u) & 1023u; };
    const uint32_t first = 0x0A000001;
    for (uint32_t h = first; v.size() < count; ++h)
        if (bucket(h) == bucket(first))
            v.push_back(__builtin_bswap32(h));
    return v;
}

} // namespace

TEST(lblc, same_destination_keeps_its_server_while_not_overloaded) {
    rig r(sched_kind::lblc);
    r.add(10), r.add(10), r.add(10);
    EXPECT_EQ(r.pick(addr_x, 1000), 0); // all idle: the first least-connection server
    // Server 0 now has more connections than the others (wlc would move on), but no more active
    // ones than its weight: x stays with it.
    r.set(0, 10, 50);
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(r.pick(addr_x, 2000 + i), 0);
    // Another destination is scheduled afresh: the least-connection server.
    EXPECT_EQ(r.pick(addr_y, 3000), 1);
    r.set(1, 3);
    EXPECT_EQ(r.pick(addr_y, 3001), 1);
}

TEST(lblc, overloaded_server_moves_the_destination_to_the_least_connection_server) {
    rig r(sched_kind::lblc);
    r.add(4), r.add(4), r.add(8);
    ASSERT_EQ(r.pick(addr_x, 1000), 0);
    // More active connections than its weight, but no server below half its weight: IPVS sees no
    // less loaded server, and x stays.
    r.set(0, 5), r.set(1, 2), r.set(2, 4);
    EXPECT_EQ(r.pick(addr_x, 1001), 0);
    // Server 1 drops to 1 active (1 * 2 < 4): server 0 is overloaded now; the weighted least
    // connection server is 1 (256/4 < 1024/8 < 1280/4).
    r.set(1, 1);
    EXPECT_EQ(r.pick(addr_x, 1002), 1);
    // The entry now names server 1: it stays there even when server 0 is idle again.
    r.set(0, 0), r.set(1, 3);
    EXPECT_EQ(r.pick(addr_x, 1003), 1);
}

TEST(lblc, upper_threshold_is_not_checked_for_the_cached_server_as_in_ipvs) {
    rig r(sched_kind::lblc);
    r.add(100, /*upper=*/5), r.add(100);
    ASSERT_EQ(r.pick(addr_x, 1000), 0);
    r.set(0, 1, 10); // OVERLOADED by its threshold; lblc's own rule does not find it overloaded
    EXPECT_EQ(r.pick(addr_x, 1001), 0);
    // A new destination's least-connection choice skips it, as wlc does.
    EXPECT_EQ(r.pick(addr_y, 1002), 1);
}

TEST(lblc, unused_entry_expires_after_lblc_expiration) {
    rig r(sched_kind::lblc);
    r.add(10), r.add(10);
    ASSERT_EQ(r.pick(addr_x, 1000), 0);
    r.set(0, 5); // a fresh schedule would now choose server 1
    // Each use restarts the wait.
    EXPECT_EQ(r.pick(addr_x, 1000 + exp_ms - 1), 0);
    EXPECT_EQ(r.pick(addr_x, 1000 + 2 * exp_ms - 2), 0);
    // Unused for the expiration: forgotten, scheduled afresh, and remembered with the new server.
    EXPECT_EQ(r.pick(addr_x, 1000 + 3 * exp_ms - 2), 1);
    r.set(0, 0), r.set(1, 5);
    EXPECT_EQ(r.pick(addr_x, 1000 + 3 * exp_ms), 1);
    EXPECT_EQ(r.evicted, 0u);
}

TEST(lblc, the_default_expiration_is_ipvs_24_hours) {
    EXPECT_EQ(locality_default_expiration_ms, 24ull * 3600 * 1000);
    locality_table t(sched_kind::lblc, 1);
    EXPECT_EQ(t.expiration_ms(), 24ull * 3600 * 1000);
}

TEST(lblc, weight_0_server_gets_no_new_connection) {
    rig r(sched_kind::lblc);
    r.add(10), r.add(10), r.add(10);
    ASSERT_EQ(r.pick(addr_x, 1000), 0);
    r.d[0].weight = 0; // quiesced
    r.set(1, 2);
    EXPECT_EQ(r.pick(addr_x, 1001), 2);
    // The entry moved: with its weight back, server 0 does not get x again.
    r.d[0].weight = 10;
    EXPECT_EQ(r.pick(addr_x, 1002), 2);
    // Every server at weight 0: no destination, as IPVS.
    for (auto& x : r.d)
        x.weight = 0;
    EXPECT_EQ(r.pick(addr_x, 1003), -1);
    EXPECT_EQ(r.pick(addr_y, 1003), -1);
}

TEST(lblc, removed_server_moves_the_destination) {
    rig r(sched_kind::lblc);
    r.add(10), r.add(10), r.add(10);
    r.set(0, 1);
    ASSERT_EQ(r.pick(addr_x, 1000), 1); // stats id 11
    r.d.erase(r.d.begin() + 1);         // server 11 leaves the service
    EXPECT_EQ(r.pick(addr_x, 1001), 1); // index 1 is now stats id 12, the least loaded
    EXPECT_EQ(r.d[1].stats_id, 12u);
}

TEST(lblc, a_full_bucket_forgets_its_least_recently_used_destination_and_counts_it) {
    rig r(sched_kind::lblc);
    r.add(100), r.add(100);
    const auto addrs = same_lblc_bucket(locality_ways + 1);
    for (uint32_t i = 0; i < locality_ways; ++i) {
        r.set(0, i % 2 == 0 ? 0 : 1), r.set(1, i % 2 == 0 ? 1 : 0);
        ASSERT_EQ(r.pick(addrs[i], 1000 + i), static_cast<int32_t>(i % 2));
    }
    EXPECT_EQ(r.evicted, 0u);
    r.set(0, 0), r.set(1, 0);
    ASSERT_EQ(r.pick(addrs[locality_ways], 2000), 0); // takes addrs[0]'s way (used at 1000)
    EXPECT_EQ(r.evicted, 1u);
    // addrs[1] (server 1) is still known; addrs[0]'s entry was taken for addrs[8], so addrs[1]
    // is the least recently used now and would be evicted next.
    r.set(0, 0), r.set(1, 5);
    EXPECT_EQ(r.pick(addrs[1], 2001), 1);
    // An expired way is reused without counting.
    EXPECT_EQ(r.pick(addrs[0], 2000 + exp_ms + 10), 0);
    EXPECT_EQ(r.evicted, 1u);
}

TEST(lblc, each_worker_has_its_own_row) {
    rig r(sched_kind::lblc, 2);
    r.add(10), r.add(10);
    ASSERT_EQ(r.pick(addr_x, 1000, 0), 0);
    r.set(0, 3);
    EXPECT_EQ(r.pick(addr_x, 1001, 1), 1); // worker 1 never saw x: least connection
    EXPECT_EQ(r.pick(addr_x, 1002, 0), 0);
    // A worker beyond the table's rows schedules as wlc and remembers nothing.
    r.set(0, 0), r.set(1, 3);
    EXPECT_EQ(r.pick(addr_x, 1003, 5), 0);
}

TEST(lblcr, destination_set_grows_with_the_least_connection_server_when_overloaded) {
    rig r(sched_kind::lblcr);
    r.add(4), r.add(4), r.add(4);
    ASSERT_EQ(r.pick(addr_x, 1000), 0); // set {0}
    r.set(0, 4), r.set(2, 1);
    EXPECT_EQ(r.pick(addr_x, 1001), 0); // 4 active: not above its weight
    r.set(0, 5);                        // overloaded (server 1 has 0 * 2 < 4)
    EXPECT_EQ(r.pick(addr_x, 1002), 1); // the least-connection server joins: set {1, 0}
    // Now the set's own least-connection member serves x: server 0 when it is the least loaded
    // of the two, though server 2 is idle.
    r.set(0, 1), r.set(1, 3), r.set(2, 0);
    EXPECT_EQ(r.pick(addr_x, 1003), 0);
    r.set(0, 3), r.set(1, 1);
    EXPECT_EQ(r.pick(addr_x, 1004), 1);
}

TEST(lblcr, set_loses_its_most_loaded_member_after_the_expiration_without_change) {
    rig r(sched_kind::lblcr);
    r.add(4), r.add(4), r.add(4);
    ASSERT_EQ(r.pick(addr_x, 1000), 0);
    r.set(0, 5);
    ASSERT_EQ(r.pick(addr_x, 2000), 1); // set {1, 0}, modified at 2000
    r.set(0, 2), r.set(1, 3);
    // Used often but unchanged: at lastmod + expiration it still has both members.
    EXPECT_EQ(r.pick(addr_x, 2000 + exp_ms / 2), 0);
    EXPECT_EQ(r.pick(addr_x, 2000 + exp_ms), 0);
    // Past it: the most loaded member (server 1) leaves; the least loaded (0) serves.
    EXPECT_EQ(r.pick(addr_x, 2001 + exp_ms), 0);
    // Server 1 is no longer a member: even when server 0 is busier, x stays on 0.
    r.set(0, 3), r.set(1, 0);
    EXPECT_EQ(r.pick(addr_x, 2002 + exp_ms), 0);
}

TEST(lblcr, shrink_takes_one_member_per_connection_and_restarts_the_wait) {
    rig r(sched_kind::lblcr);
    r.add(2), r.add(2), r.add(2), r.add(2);
    ASSERT_EQ(r.pick(addr_x, 1000), 0);
    r.set(0, 3);
    ASSERT_EQ(r.pick(addr_x, 1001), 1); // {1, 0}
    r.set(1, 3);
    ASSERT_EQ(r.pick(addr_x, 1002), 2); // {2, 1, 0}, modified at 1002
    // Loads: 0 most loaded, then 1, then 2; none overloaded (no server below half its weight).
    r.set(0, 3), r.set(1, 2), r.set(2, 1), r.set(3, 2);
    EXPECT_EQ(r.pick(addr_x, 1003 + exp_ms), 2);     // 0 leaves; modified now
    EXPECT_EQ(r.pick(addr_x, 1004 + exp_ms), 2);     // within the new wait: nothing leaves
    EXPECT_EQ(r.pick(addr_x, 1004 + 2 * exp_ms), 2); // 1 leaves
    // Only server 2 is left, and a set of one is never shrunk: past the wait again (the entry
    // kept in use), it still serves x though server 1 is idle now.
    r.set(1, 0), r.set(2, 2);
    EXPECT_EQ(r.pick(addr_x, 1004 + 2 * exp_ms + exp_ms / 2), 2);
    EXPECT_EQ(r.pick(addr_x, 1005 + 3 * exp_ms), 2);
    EXPECT_EQ(r.pick(addr_x, 1006 + 3 * exp_ms), 2);
}

TEST(lblcr, weight_0_member_is_never_chosen) {
    rig r(sched_kind::lblcr);
    r.add(4), r.add(4), r.add(4);
    ASSERT_EQ(r.pick(addr_x, 1000), 0);
    r.set(0, 5);
    ASSERT_EQ(r.pick(addr_x, 1001), 1); // {1, 0}
    r.set(0, 0), r.set(1, 2);
    r.d[0].weight = 0; // the least loaded member, quiesced
    EXPECT_EQ(r.pick(addr_x, 1002), 1);
    // Every member quiesced: the least-connection server of the service joins.
    r.d[1].weight = 0;
    EXPECT_EQ(r.pick(addr_x, 1003), 2);
    EXPECT_EQ(r.pick(addr_x, 1004), 2);
}

TEST(lblcr, removed_member_is_dropped_and_the_rest_of_the_set_serves) {
    rig r(sched_kind::lblcr);
    r.add(4), r.add(4), r.add(4);
    ASSERT_EQ(r.pick(addr_x, 1000), 0);
    r.set(0, 5);
    ASSERT_EQ(r.pick(addr_x, 1001), 1); // {id 11, id 10}
    r.set(0, 0), r.set(1, 3);
    r.d.erase(r.d.begin()); // id 10 leaves; id 11 is index 0 now, id 12 index 1
    EXPECT_EQ(r.pick(addr_x, 1002), 0);
}

TEST(lblcr, entry_expires_after_lblcr_expiration) {
    rig r(sched_kind::lblcr);
    r.add(4), r.add(4);
    ASSERT_EQ(r.pick(addr_x, 1000), 0);
    r.set(0, 2);
    EXPECT_EQ(r.pick(addr_x, 999 + exp_ms), 0);
    EXPECT_EQ(r.pick(addr_x, 999 + 2 * exp_ms), 1); // forgotten: least connection, a new set
}

TEST(lblcr, full_set_replaces_its_most_loaded_member_and_counts_it) {
    rig r(sched_kind::lblcr);
    for (uint32_t i = 0; i <= lblcr_set_max + 1; ++i)
        r.add(2);
    ASSERT_EQ(r.pick(addr_x, 1000), 0);
    // Each step overloads every member and leaves the next server idle: it joins.
    for (uint32_t i = 1; i <= lblcr_set_max; ++i) {
        for (uint32_t j = 0; j < i; ++j)
            r.set(j, 3 + (j == 2 ? 1 : 0)); // server 2 the most loaded member
        ASSERT_EQ(r.pick(addr_x, 1000 + i), static_cast<int32_t>(i));
    }
    EXPECT_EQ(r.evicted, 1u); // the 9th member took server 2's place
    // Server 2 left the set: with every other member busier and not overloaded, and server 2
    // idle, x still goes to a member.
    for (uint32_t j = 0; j <= lblcr_set_max + 1; ++j)
        r.set(j, 2);
    r.set(2, 0), r.set(lblcr_set_max + 1, 2);
    const int32_t got = r.pick(addr_x, 2000);
    EXPECT_NE(got, 2);
}

TEST(lblcr, no_available_server_gives_none) {
    rig r(sched_kind::lblcr);
    r.add(0), r.add(4, /*upper=*/1);
    r.set(1, 1);
    EXPECT_EQ(r.pick(addr_x, 1000), -1);
}
