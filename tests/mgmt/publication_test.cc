// A committed configuration's way to the workers (mgmt/publication.h, issue 13): a change that
// brings a next hop the workers never had waits for it at most publish_wait_ms, counted from the
// FIRST pending change; a VRRP or health change is published at once, next hops or not; a next
// hop that the workers already use unresolved (a dead real server) holds nothing. The old
// publication restarted its 2 s wait at every change and waited for every unresolved next hop,
// so with a dead server and flapping health nothing was ever published. Needs the EAL (rig).
#include "harness.h"
#include "ulvs/config/load.h"
#include "ulvs/dataplane/fwd/publisher.h"
#include "ulvs/mgmt/publication.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

using namespace ulvs;

namespace {

// .11 is a static neighbour; .50 never resolves (no host): the dead real server.
constexpr const char* yaml = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]
connections: {max: 64}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 80}
      - {address: 198.51.100.50, port: 80}
)";

// `cfg` plus a real server 198.51.100.<last> (a next hop the workers never had).
config::config with_server(config::config cfg, int last) {
    config::real_server_cfg rs = cfg.virtual_servers[0].real_servers[0];
    rs.address = *ip_addr::parse("198.51.100." + std::to_string(last));
    cfg.virtual_servers[0].real_servers.push_back(rs);
    return cfg;
}

bool publishes(const dp::snapshot* s, int last) {
    const uint32_t ip = htonl(ip_addr::parse("198.51.100." + std::to_string(last))->v4);
    return s != nullptr && std::any_of(s->dests.begin(), s->dests.end(),
                                       [&](const dp::dest& d) { return d.ip == ip; });
}

class publication_test : public ::testing::Test {
protected:
    config::config cfg = *config::load_string(yaml, "publication_test.yaml");
    test::rig r{cfg, 1000};
    dp::publisher pub{1}; // no worker online: a grace period ends at once
    std::unique_ptr<mgmt::publication> p;
    uint64_t now = 1000;

    void SetUp() override {
        ASSERT_TRUE(r.ok()) << r.error();
        pub.publish(std::move(*ctl::build_snapshot(cfg, r.inputs()))); // as ulvsd starts
        r.neigh().published(*pub.current());
        r.ids().published(*pub.current());
        mgmt::publication_deps deps;
        deps.inputs = &r.inputs();
        deps.neigh_table = &r.table();
        deps.pub = &pub;
        p = std::make_unique<mgmt::publication>(deps);
    }
    // A committed change, as the manager makes one (check, then committed).
    void commit(const config::config& next) {
        ASSERT_TRUE(p->check(next));
        cfg = next;
        p->committed(cfg, now);
    }
    // `ms` pass with the manager's poll every 10 ms.
    void advance(uint64_t ms) {
        for (uint64_t end = now + ms; now < end;) {
            now += 10;
            p->poll(cfg, now);
        }
    }
};

} // namespace

// A CLI add of a server whose MAC is unknown still waits (its first connections would be
// dropped), and is published as soon as the MAC is learnt.
TEST_F(publication_test, a_new_next_hop_is_waited_for_until_it_resolves) {
    commit(with_server(cfg, 60));
    EXPECT_TRUE(p->pending());
    advance(500);
    EXPECT_TRUE(p->pending());
    EXPECT_FALSE(publishes(pub.current(), 60));
    r.neigh().learn(*ip_addr::parse("198.51.100.60"), 1, *mac_addr::parse("02:00:00:00:00:60"),
                    now);
    advance(20);
    EXPECT_FALSE(p->pending());
    EXPECT_TRUE(publishes(pub.current(), 60));
}

// Changes every 100 ms, each adding a server that never resolves (a script re-adding servers):
// the wait is bounded from the first of them, not restarted by each.
TEST_F(publication_test, the_wait_is_bounded_from_the_first_pending_change) {
    const uint64_t first = now;
    uint64_t published_at = 0;
    for (int i = 0; i < 30 && published_at == 0; ++i) {
        commit(with_server(cfg, 60 + i));
        advance(100);
        if (!p->pending())
            published_at = now;
    }
    ASSERT_NE(published_at, 0u) << "nothing published in 3 s of changes";
    EXPECT_LE(published_at - first, mgmt::publication::publish_wait_ms + 100);
}

// Health or VRRP changes every 100 ms while a change waits for a next hop that never resolves:
// the first one publishes everything, at once.
TEST_F(publication_test, republishes_do_not_starve_a_pending_change) {
    commit(with_server(cfg, 60));
    ASSERT_TRUE(p->pending());
    const uint64_t first = now;
    uint64_t published_at = 0;
    for (int i = 0; i < 30 && published_at == 0; ++i) {
        advance(100);
        p->republish(cfg, now);
        if (!p->pending())
            published_at = now;
    }
    ASSERT_NE(published_at, 0u) << "nothing published in 3 s of republishes";
    EXPECT_EQ(published_at - first, 100u);
    EXPECT_TRUE(publishes(pub.current(), 60));
}

// A VRRP or health change with the dead server's next hop unresolved: published at once.
TEST_F(publication_test, a_state_change_is_published_at_once) {
    const dp::snapshot* before = pub.current();
    p->republish(cfg, now);
    EXPECT_FALSE(p->pending());
    EXPECT_NE(pub.current(), before);
}

// The dead server's next hop is already in the workers' snapshot, unresolved: a change that adds
// no next hop (a weight) does not wait for it.
TEST_F(publication_test, a_next_hop_the_workers_already_have_holds_nothing) {
    config::config next = cfg;
    next.virtual_servers[0].real_servers[0].weight = 5;
    commit(next);
    EXPECT_FALSE(p->pending());
    EXPECT_EQ(pub.current()->dests[0].weight, 5u);
}

// Memory: 100 republishes share one route table (rte_lpm, 64 MiB); the snapshots themselves are
// retired one by one.
TEST_F(publication_test, republishes_share_one_route_table) {
    const size_t built = r.inputs().routes.builds();
    size_t max_live = 0, published = 0;
    for (int i = 0; i < 100; ++i) {
        advance(10);
        const dp::snapshot* before = pub.current();
        p->republish(cfg, now);
        published += pub.current() != before;
        max_live = std::max(max_live, r.inputs().routes.live());
    }
    std::printf("100 republishes: %zu published, %zu route tables built, at most %zu alive\n",
                published, r.inputs().routes.builds() - built, max_live);
    EXPECT_EQ(published, 100u);
    EXPECT_EQ(r.inputs().routes.builds(), built);
    EXPECT_EQ(max_live, 1u);
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("publication_test", 512))
        return 1;
    return RUN_ALL_TESTS();
}
