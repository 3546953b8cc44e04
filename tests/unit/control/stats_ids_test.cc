// Stats id recycling (control/service/stats_ids.h, issue 12): ids of refused builds go back at
// once, ids no worker has seen go back when the config drops them, published ones only after the
// workers said nothing names them, services after their real servers, and the pool of
// dp::max_stats_ids survives any amount of churn.
#include "ulvs/control/service/stats_ids.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

using namespace ulvs;

namespace {

ip_addr ip(const char* s) {
    return *ip_addr::parse(s);
}

config::virtual_server_cfg web(std::vector<const char*> rips) {
    config::virtual_server_cfg vs;
    vs.name = "web";
    vs.address = ip("203.0.113.100");
    vs.port = 80;
    for (const char* r : rips) {
        config::real_server_cfg rs;
        rs.address = ip(r);
        rs.port = 80;
        vs.real_servers.push_back(rs);
    }
    return vs;
}

config::config with(std::vector<config::virtual_server_cfg> vss) {
    config::config c;
    c.virtual_servers = std::move(vss);
    return c;
}

// What build_snapshot does with the ids of `cfg` (without the snapshot itself).
dp::snapshot build(ctl::stats_ids& ids, const config::config& cfg, bool ok = true) {
    dp::snapshot s;
    ids.begin_build();
    for (const auto& vs : cfg.virtual_servers) {
        dp::service svc{};
        svc.stats_id = *ids.service(vs);
        for (const auto& rs : vs.real_servers) {
            dp::dest d{};
            d.stats_id = *ids.dest({svc.stats_id, htonl(rs.address.v4), htons(rs.port)});
            d.neigh = static_cast<uint32_t>(s.dests.size());
            ids.note_slot(d.stats_id, d.neigh);
            s.dests.push_back(d);
        }
        s.services_v.push_back(svc);
    }
    ids.end_build(ok);
    return s;
}

uint32_t dest_id(const ctl::stats_ids& ids, const config::virtual_server_cfg& vs, const char* r) {
    return *ids.find_dest({*ids.find_service(vs), htonl(ip(r).v4), htons(80)});
}

} // namespace

TEST(stats_ids, a_refused_build_gives_its_ids_back_at_once) {
    ctl::stats_ids ids;
    auto cfg = with({web({"198.51.100.11"})});
    build(ids, cfg);
    ids.committed(cfg);
    EXPECT_EQ(ids.in_use(), 2u);
    build(ids, with({web({"198.51.100.11", "198.51.100.12", "198.51.100.13"})}), false);
    EXPECT_EQ(ids.in_use(), 2u);
    EXPECT_FALSE(ids.find_dest({0, htonl(ip("198.51.100.12").v4), htons(80)}));
}

TEST(stats_ids, ids_no_worker_has_seen_go_back_when_the_config_drops_them) {
    ctl::stats_ids ids;
    auto one = with({web({"198.51.100.11"})});
    ids.published(build(ids, one));
    ids.committed(one);
    auto two = with({web({"198.51.100.11", "198.51.100.12"})});
    build(ids, two); // committed, not published yet (waits for ARP)
    ids.committed(two);
    EXPECT_EQ(ids.in_use(), 3u);
    ids.committed(one);
    EXPECT_EQ(ids.in_use(), 2u);
    EXPECT_TRUE(ids.to_check(10).empty());
}

TEST(stats_ids, a_published_real_server_waits_for_the_workers_answer) {
    ctl::stats_ids ids;
    auto two = with({web({"198.51.100.11", "198.51.100.12"})});
    ids.published(build(ids, two));
    ids.committed(two);
    const uint32_t gone = dest_id(ids, two.virtual_servers[0], "198.51.100.12");
    auto one = with({web({"198.51.100.11"})});
    ids.committed(one);
    EXPECT_TRUE(ids.to_check(10).empty()); // still in the workers' snapshot
    ids.published(build(ids, one));
    EXPECT_EQ(ids.in_use(), 3u);
    auto ask = ids.to_check(10);
    ASSERT_EQ(ask, std::vector<uint32_t>{gone});
    ids.release_unused({}); // the workers still have connections to it
    EXPECT_EQ(ids.in_use(), 3u);
    ask = ids.to_check(10);
    ids.release_unused(ask);
    EXPECT_EQ(ids.in_use(), 2u);
    // The next new server reuses it.
    auto other = with({web({"198.51.100.11", "198.51.100.13"})});
    build(ids, other);
    EXPECT_EQ(dest_id(ids, other.virtual_servers[0], "198.51.100.13"), gone);
}

TEST(stats_ids, an_answer_older_than_a_republication_is_void) {
    ctl::stats_ids ids;
    auto two = with({web({"198.51.100.11", "198.51.100.12"})});
    auto one = with({web({"198.51.100.11"})});
    ids.published(build(ids, two));
    ids.committed(one);
    ids.published(build(ids, one));
    auto ask = ids.to_check(10);
    ASSERT_EQ(ask.size(), 1u);
    // Re-added, published (new connections), removed again before the workers answered.
    ids.committed(two);
    ids.published(build(ids, two));
    ids.committed(one);
    ids.published(build(ids, one));
    ids.release_unused(ask);
    EXPECT_EQ(ids.in_use(), 3u);
}

TEST(stats_ids, a_service_goes_back_after_its_real_servers) {
    ctl::stats_ids ids;
    auto cfg = with({web({"198.51.100.11"})});
    ids.published(build(ids, cfg));
    ids.committed(cfg);
    ids.committed(with({}));
    ids.published(build(ids, with({})));
    EXPECT_EQ(ids.in_use(), 2u); // the dest may still have connections: so may the service
    ids.release_unused(ids.to_check(10));
    EXPECT_EQ(ids.in_use(), 0u);
}

TEST(stats_ids, a_released_real_server_lets_go_of_its_neighbour_slot) {
    dp::neigh_table t(1);
    ctl::neigh_manager n(t);
    ctl::stats_ids ids;
    ids.attach_neigh(&n);
    auto cfg = with({web({"198.51.100.11"})});
    auto slot = n.slot_for(ip("198.51.100.11"), 0);
    ids.published(build(ids, cfg)); // note_slot(dest, 0)
    ids.committed(cfg);
    ids.committed(with({}));
    ids.published(build(ids, with({})));
    EXPECT_FALSE(n.slot_for(ip("198.51.100.12"), 0)); // held by the retired server's id
    ids.release_unused(ids.to_check(10));
    EXPECT_EQ(n.slot_for(ip("198.51.100.12"), 0), slot);
}

// Issue 12: 65536 ids in a run, even for refused changes, then every change was refused.
TEST(stats_ids, churn_far_beyond_the_pool_never_exhausts_it) {
    ctl::stats_ids ids;
    auto base = with({web({})});
    ids.published(build(ids, base));
    ids.committed(base);
    for (uint32_t i = 0; i < 3 * dp::max_stats_ids; ++i) {
        auto cfg = base;
        config::real_server_cfg rs;
        rs.address = ip_addr::from_v4(0x0a000000u + i);
        rs.port = 80;
        cfg.virtual_servers[0].real_servers.push_back(rs);
        build(ids, cfg, i % 3 != 0); // every third change refused
        if (i % 3 != 0)
            ids.committed(cfg);
        ids.committed(base);
    }
    EXPECT_EQ(ids.in_use(), 1u);
}
