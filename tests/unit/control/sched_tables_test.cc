// sh/dh/mh tables for given server lists, the picks that index them, Maglev's properties from
// issue 5's acceptance, the table cache and the aggregation of the workers' counts.
#include "ulvs/control/sched/tables.h"
#include "ulvs/dataplane/sched/dispatch.h"
#include "ulvs/dataplane/sched/hash.h"
#include "ulvs/dataplane/sched/hashing.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

using namespace ulvs;
namespace h = dp::sched_hash;

namespace {

std::string letters(const std::vector<uint16_t>& t, size_t n) {
    std::string s;
    for (size_t i = 0; i < n && i < t.size(); ++i)
        s += t[i] == dp::no_slot ? '-' : static_cast<char>('A' + t[i]);
    return s;
}

struct svc_rig {
    std::vector<dp::dest> d;
    dp::service svc{};
    std::shared_ptr<const dp::sched_table> table;

    svc_rig(dp::sched_kind k, std::vector<uint32_t> weights, uint8_t flags = 0) {
        for (size_t i = 0; i < weights.size(); ++i) {
            dp::dest x{};
            x.ip = htonl(0xC6336400u + 11 + static_cast<uint32_t>(i)); // 198.51.100.11 + i
            x.port = htons(80);
            x.weight = weights[i];
            x.stats_id = static_cast<uint32_t>(i);
            d.push_back(x);
        }
        svc.sched = k;
        svc.sched_flags = flags;
        svc.dest_count = static_cast<uint32_t>(d.size());
    }
    void use(std::shared_ptr<const dp::sched_table> t) {
        table = std::move(t);
        svc.slots = table->slots.data();
        svc.slot_count = static_cast<uint32_t>(table->slots.size());
    }
    int32_t pick(uint32_t src, uint16_t sport = 1234, uint32_t dst = 0xCB007164) {
        dp::sched_args a{{htonl(src), htonl(dst), htons(sport), htons(80)}, {}};
        dp::sched_cursor c;
        return dp::sched_pick(a, d.data(), static_cast<uint32_t>(d.size()), svc, c);
    }
};

} // namespace

TEST(sched_hash, siphash_matches_the_reference_vectors) {
    // SipHash-2-4 test vectors (Aumasson & Bernstein): key 00..0f, messages 00..(len-1).
    const h::sip_key k{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
    EXPECT_EQ((h::siphash<2, 4>(k, nullptr, 0, 0, 0)), 0x726fdb47dd0e0e31ull);
    const uint64_t w = 0x0706050403020100ull;
    EXPECT_EQ((h::siphash<2, 4>(k, &w, 1, 0x000e0d0c0b0a0908ull, 15)), 0xa129ca6149be45e5ull);
}

TEST(sched_hash, sh_and_dh_keys_are_ipvs_hashes) {
    // hash_32(v, 8) = (v * 0x61C88647) >> 24, computed by hand for 10.0.0.1.
    EXPECT_EQ(h::sh_key(0x0A000001u, 0, 0), 0x27u);
    EXPECT_EQ(h::sh_key(0x0A000001u, 8080, 0), 0x70u);
    EXPECT_EQ(h::sh_key(0x0A000001u, 0, 0xdd), (0x27u + 0xdd) & 0xff);
    EXPECT_EQ(h::dh_key(0xC0A80107u), 215u); // 192.168.1.7 * 2654435761 mod 256
}

TEST(sh_table, fills_buckets_by_weight_in_order) {
    // Each dest takes `weight` consecutive buckets, cycling; weight 0 still takes one.
    EXPECT_EQ(letters(ctl::sh_table(std::vector<uint32_t>{3, 1, 2}), 14), "AAABCCAAABCCAA");
    EXPECT_EQ(letters(ctl::sh_table(std::vector<uint32_t>{0, 2}), 9), "ABBABBABB");
    EXPECT_EQ(letters(ctl::sh_table(std::vector<uint32_t>{1}), 4), "AAAA");
    EXPECT_EQ(letters(ctl::sh_table(std::vector<uint32_t>{}), 3), "---");
    // Over the whole table the count per dest follows the expansion exactly.
    const std::vector<uint32_t> w{5, 0, 7, 1};
    const auto t = ctl::sh_table(w);
    ASSERT_EQ(t.size(), 256u);
    std::string ref;
    while (ref.size() < 256)
        for (size_t i = 0; i < w.size(); ++i)
            ref += std::string(std::max<uint32_t>(w[i], 1), static_cast<char>('A' + i));
    EXPECT_EQ(letters(t, 256), ref.substr(0, 256));
}

TEST(dh_table, round_robin_over_buckets) {
    EXPECT_EQ(letters(ctl::dh_table(3), 7), "ABCABCA");
    EXPECT_EQ(letters(ctl::dh_table(0), 3), "---");
    EXPECT_EQ(ctl::dh_table(300)[255], 255);
}

TEST(sh_pick, same_client_same_server_and_ipvs_availability) {
    svc_rig r(dp::sched_kind::sh, {1, 1, 1});
    r.use(ctl::default_table_cache().sh(std::vector<uint32_t>{1, 1, 1}));
    const uint32_t client = 0x0A000001;
    const int32_t p = r.pick(client);
    EXPECT_EQ(p, static_cast<int32_t>(0x27 % 3)); // bucket 0x27 of A B C A B C ...
    for (uint16_t port = 1; port < 50; ++port)
        EXPECT_EQ(r.pick(client, port), p); // the source port plays no part without sh-port
    // Quiesced: no server for that client (IPVS returns NULL), unless sh-fallback.
    r.d[static_cast<size_t>(p)].weight = 0;
    EXPECT_EQ(r.pick(client), -1);
    r.svc.sched_flags = dp::sched_flag::fallback;
    const int32_t q = r.pick(client);
    EXPECT_GE(q, 0);
    EXPECT_NE(q, p);
    EXPECT_EQ(r.pick(client), q); // deterministic replacement
    // sh-port: the port is hashed too.
    r.d[static_cast<size_t>(p)].weight = 1;
    r.svc.sched_flags = dp::sched_flag::port;
    EXPECT_EQ(r.pick(client, 8080), static_cast<int32_t>(0x70 % 3));
    // Empty service: no table, no server.
    svc_rig e(dp::sched_kind::sh, {});
    e.use(ctl::default_table_cache().sh(std::vector<uint32_t>{}));
    EXPECT_EQ(e.pick(client), -1);
}

TEST(dh_pick, by_destination_without_fallback) {
    svc_rig r(dp::sched_kind::dh, {1, 0, 1, 1}); // dh ignores weights except 0
    r.use(ctl::default_table_cache().dh(4));
    EXPECT_EQ(r.pick(1, 1, 0xC0A80107u), 215 % 4);  // 3
    EXPECT_EQ(r.pick(99, 7, 0xC0A80107u), 215 % 4); // any client
    uint32_t dst = 0;
    while (h::dh_key(dst) % 4 != 1)
        ++dst;
    EXPECT_EQ(r.pick(1, 1, dst), -1); // its bucket's server is quiesced
    r.svc.sched_flags = dp::sched_flag::fallback;
    EXPECT_EQ(r.pick(1, 1, dst), -1); // dh has no fallback
}

namespace {

std::vector<ctl::mh_dest> mh_dests(const std::vector<uint32_t>& w, uint32_t first = 11) {
    std::vector<ctl::mh_dest> v;
    for (size_t i = 0; i < w.size(); ++i)
        v.push_back({0xC6336400u + first + static_cast<uint32_t>(i), 80, w[i]});
    return v;
}

std::vector<double> shares(const std::vector<uint16_t>& t, size_t n) {
    std::vector<double> s(n, 0);
    for (uint16_t x : t)
        s[x] += 1.0 / static_cast<double>(t.size());
    return s;
}

} // namespace

TEST(maglev, deterministic_and_every_slot_filled) {
    const auto d = mh_dests({1, 2, 3, 4, 5});
    const auto a = ctl::mh_table(d, 65537), b = ctl::mh_table(d, 65537);
    ASSERT_EQ(a.size(), 65537u);
    EXPECT_EQ(a, b);
    for (uint16_t x : a)
        ASSERT_LT(x, 5);
    EXPECT_TRUE(ctl::mh_table(mh_dests({0, 0}), 251).empty()); // no weight: no table
}

TEST(maglev, shares_follow_weights) {
    // M >= 100 x servers: equal weights within 1% (relative) of 1/N ...
    for (uint32_t m : {1009u, 4093u, 65537u}) {
        const auto s = shares(ctl::mh_table(mh_dests(std::vector<uint32_t>(10, 7)), m), 10);
        for (double x : s)
            EXPECT_NEAR(x, 0.1, 0.001) << "M=" << m;
    }
    // ... and unequal weights within 1% of their weight share (relative at the default size,
    // absolute at the smallest allowed one, where one round of turns is 1/18 of the table).
    const std::vector<uint32_t> w{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    for (uint32_t m : {1009u, 65537u}) {
        const auto s = shares(ctl::mh_table(mh_dests(w), m), w.size());
        for (size_t i = 0; i < w.size(); ++i) {
            const double want = w[i] / 55.0;
            EXPECT_NEAR(s[i], want, m == 65537 ? want * 0.01 : 0.01) << "M=" << m << " i=" << i;
        }
    }
    // Large weights are shifted as IPVS does, keeping the proportions.
    const auto s = shares(ctl::mh_table(mh_dests({1000, 3000}), 65537), 2);
    EXPECT_NEAR(s[0], 0.25, 0.0025);
}

TEST(maglev, removing_one_server_moves_few_slots) {
    for (uint32_t n : {3u, 10u, 50u}) {
        std::vector<uint32_t> w(n, 1);
        const auto before = ctl::mh_table(mh_dests(w), 65537);
        for (uint32_t gone : {0u, n / 2, n - 1}) {
            auto d = mh_dests(w);
            d.erase(d.begin() + gone);
            const auto after = ctl::mh_table(d, 65537);
            size_t moved = 0;
            for (size_t i = 0; i < before.size(); ++i) {
                // Compare identities: indexes after `gone` shifted by one.
                const uint32_t was = before[i], now = after[i] >= gone ? after[i] + 1u : after[i];
                moved += was != now;
            }
            EXPECT_LE(static_cast<double>(moved) / 65537.0, 1.0 / n + 0.01)
                << "n=" << n << " removed " << gone;
        }
    }
}

TEST(mh_pick, lookup_quiesce_and_fallback) {
    ctl::table_cache cache;
    svc_rig r(dp::sched_kind::mh, {1, 1, 1, 1});
    std::vector<ctl::mh_dest> md;
    for (const auto& x : r.d)
        md.push_back({ntohl(x.ip), ntohs(x.port), x.weight});
    r.use(cache.mh(md, 251));
    const uint32_t client = 0x0A000009;
    const uint32_t slot = h::mh_key(h::mh_key1, client, 0, 0) % 251;
    const int32_t p = r.pick(client);
    EXPECT_EQ(p, r.table->slots[slot]);
    EXPECT_EQ(r.pick(client, 999), p); // without mh-port the port plays no part
    r.d[static_cast<size_t>(p)].weight = 0;
    EXPECT_EQ(r.pick(client), -1);
    r.svc.sched_flags = dp::sched_flag::fallback;
    const int32_t q = r.pick(client);
    EXPECT_GE(q, 0);
    EXPECT_NE(q, p);
    for (auto& x : r.d)
        x.weight = 0;
    EXPECT_EQ(r.pick(client), -1);
}

TEST(table_cache, rebuilds_only_when_servers_or_weights_change) {
    ctl::table_cache c;
    const auto d = mh_dests({1, 2, 3});
    auto a = c.mh(d, 4093);
    auto b = c.mh(d, 4093);
    EXPECT_EQ(a.get(), b.get());
    EXPECT_EQ(c.builds(), 1u);
    auto w = mh_dests({1, 2, 4});
    EXPECT_NE(c.mh(w, 4093).get(), a.get());
    EXPECT_NE(c.mh(d, 4099).get(), a.get());
    EXPECT_EQ(c.builds(), 3u);
    // last_weight: a quiesced server keeps its slots; one added at 0 has none.
    EXPECT_EQ(c.last_weight(7, 5), 5u);
    EXPECT_EQ(c.last_weight(7, 0), 5u);
    EXPECT_EQ(c.last_weight(7, 2), 2u);
    EXPECT_EQ(c.last_weight(8, 0), 0u);
}

TEST(build_sched, tables_in_the_snapshot) {
    ctl::table_cache cache;
    dp::snapshot s;
    for (uint32_t i = 0; i < 3; ++i) {
        dp::dest x{};
        x.ip = htonl(0xC6336400u + 11 + i);
        x.weight = i + 1;
        x.stats_id = i;
        s.dests.push_back(x);
    }
    dp::service svc{};
    svc.dest_count = 3;
    svc.sched = dp::sched_kind::sh;
    ASSERT_TRUE(ctl::build_sched(svc, s, 65537, cache));
    ASSERT_EQ(svc.slot_count, 256u);
    EXPECT_EQ(letters(std::vector<uint16_t>(svc.slots, svc.slots + 8), 8), "ABBCCCAB");
    svc.sched = dp::sched_kind::mh;
    ASSERT_TRUE(ctl::build_sched(svc, s, 251, cache));
    EXPECT_EQ(svc.slot_count, 251u);
    EXPECT_FALSE(ctl::build_sched(svc, s, 250, cache)); // not prime
    svc.sched = dp::sched_kind::wrr;
    ASSERT_TRUE(ctl::build_sched(svc, s, 65537, cache));
    EXPECT_EQ(svc.slot_count, 0u);
    EXPECT_EQ(svc.wrr.max_weight, 3);
    // Quiescing a server keeps the Maglev table (IPVS last_weight): only availability changes.
    svc.sched = dp::sched_kind::mh;
    ASSERT_TRUE(ctl::build_sched(svc, s, 4093, cache));
    const uint16_t* before = svc.slots;
    s.dests[1].weight = 0;
    ASSERT_TRUE(ctl::build_sched(svc, s, 4093, cache));
    EXPECT_EQ(svc.slots, before);
}

TEST(build_sched, locality_table_lives_across_snapshots_of_the_service) {
    // lblc/lblcr (sched/locality.h): the table a snapshot names stays the same object in the next
    // snapshots of the service (its entries outlive edits, as IPVS' do), with a row per worker.
    ctl::table_cache cache;
    auto s1 = std::make_unique<dp::snapshot>();
    dp::service svc{};
    svc.stats_id = 7;
    svc.sched = dp::sched_kind::lblc;
    ASSERT_TRUE(ctl::build_sched(svc, *s1, 65537, cache, 3));
    dp::locality_table* t = svc.locality;
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->kind(), dp::sched_kind::lblc);
    EXPECT_EQ(t->workers(), 3u);
    EXPECT_NE(t->lblc_row(2), nullptr);
    EXPECT_EQ(t->lblc_row(3), nullptr);
    EXPECT_EQ(t->lblcr_row(0), nullptr);
    t->lblc_row(1)[5].used = true; // a worker's entry
    auto s2 = std::make_unique<dp::snapshot>();
    ASSERT_TRUE(ctl::build_sched(svc, *s2, 65537, cache, 3));
    EXPECT_EQ(svc.locality, t);
    EXPECT_TRUE(svc.locality->lblc_row(1)[5].used);
    // Another scheduler: a table of its kind; none for a scheduler without one.
    svc.sched = dp::sched_kind::lblcr;
    auto s3 = std::make_unique<dp::snapshot>();
    ASSERT_TRUE(ctl::build_sched(svc, *s3, 65537, cache, 3));
    ASSERT_NE(svc.locality, nullptr);
    EXPECT_NE(svc.locality->lblcr_row(0), nullptr);
    EXPECT_FALSE(svc.locality->lblcr_row(0)[5].used);
    svc.sched = dp::sched_kind::wlc;
    ASSERT_TRUE(ctl::build_sched(svc, *s3, 65537, cache, 3));
    EXPECT_EQ(svc.locality, nullptr);
    // Once no snapshot holds a table it is freed: the service starts afresh.
    s1.reset(), s2.reset(), s3.reset();
    svc.sched = dp::sched_kind::lblc;
    dp::snapshot s4;
    ASSERT_TRUE(ctl::build_sched(svc, s4, 65537, cache, 3));
    EXPECT_FALSE(svc.locality->lblc_row(1)[5].used);
}

TEST(aggregate_loads, each_worker_gets_the_others_sum) {
    dp::load_board board(3);
    dp::snapshot s;
    dp::dest x{};
    x.stats_id = 5;
    s.dests.push_back(x);
    std::vector<std::vector<dp::dest_conn_counts>> w(3, std::vector<dp::dest_conn_counts>(8));
    w[0][5] = {1, 10};
    w[1][5] = {2, 20};
    w[2][5] = {4, 40};
    w[2][6] = {100, 100}; // not a dest of the snapshot: not aggregated
    const dp::dest_conn_counts* rows[3] = {w[0].data(), w[1].data(), w[2].data()};
    ctl::aggregate_loads(board, s, rows);
    EXPECT_EQ(board.others(0)[5].active.load(), 6);
    EXPECT_EQ(board.others(0)[5].inactive.load(), 60);
    EXPECT_EQ(board.others(1)[5].active.load(), 5);
    EXPECT_EQ(board.others(2)[5].inactive.load(), 30);
    EXPECT_EQ(board.others(0)[6].active.load(), 0);
    // A worker's view: its own live counts plus the others'.
    dp::load_view v(w[1].data(), board.others(1), board.overload(1));
    EXPECT_EQ(v.active(x), 7);
    EXPECT_EQ(v.inactive(x), 70);
}
