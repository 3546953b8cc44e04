// keepalived's health semantics (control/health/state.h) with injected time.
#include "ulvs/control/health/state.h"

#include <gtest/gtest.h>

namespace ulvs::ctl::health {
namespace {

using namespace std::chrono_literals;

config::health_check_cfg timers(uint32_t retry, std::chrono::milliseconds dbr,
                                std::chrono::milliseconds loop) {
    config::health_check_cfg c;
    c.retry = retry;
    c.delay_before_retry = dbr;
    c.delay_loop = loop;
    return c;
}

TEST(check_fsm, keepalived_defaults) {
    const config::health_check_cfg c;
    EXPECT_EQ(c.delay_loop, 60s);
    EXPECT_EQ(c.connect_timeout, 5s);
    EXPECT_EQ(c.retry, 1u);
    EXPECT_EQ(c.delay_before_retry, 1s);
}

TEST(check_fsm, goes_down_after_retry_plus_one_failures_spaced_delay_before_retry) {
    check_fsm f(timers(3, 2s, 10s), true, 1000, 0);
    EXPECT_EQ(f.due(), 1000u);
    uint64_t t = 1000;
    for (int i = 0; i < 3; ++i) { // three retries: still up, each 2 s after the failure
        EXPECT_FALSE(f.on_result(false, t));
        EXPECT_TRUE(f.up());
        EXPECT_EQ(f.due(), t + 2000);
        t = f.due();
    }
    EXPECT_TRUE(f.on_result(false, t)); // the 4th consecutive failure: down
    EXPECT_FALSE(f.up());
    EXPECT_EQ(f.failures(), 4u);
    EXPECT_EQ(f.due(), t + 10000); // down: probed every delay_loop, no retries
    t = f.due();
    EXPECT_FALSE(f.on_result(false, t));
    EXPECT_EQ(f.due(), t + 10000);
}

TEST(check_fsm, one_success_brings_it_back_and_resets_the_retries) {
    check_fsm f(timers(1, 1s, 5s), true, 0, 0);
    EXPECT_FALSE(f.on_result(false, 0));
    EXPECT_FALSE(f.on_result(true, 1000)); // a success between failures: streak resets
    EXPECT_TRUE(f.up());
    EXPECT_EQ(f.due(), 6000u);
    EXPECT_FALSE(f.on_result(false, 6000));
    EXPECT_TRUE(f.on_result(false, 7000));
    EXPECT_FALSE(f.up());
    EXPECT_TRUE(f.on_result(true, 12000)); // one success
    EXPECT_TRUE(f.up());
    EXPECT_EQ(f.failures(), 0u);
}

TEST(check_fsm, retry_zero_goes_down_at_the_first_failure) {
    check_fsm f(timers(0, 1s, 5s), true, 0, 0);
    EXPECT_TRUE(f.on_result(false, 0));
    EXPECT_FALSE(f.up());
}

TEST(check_fsm, alpha_starts_down_and_first_probe_is_staggered) {
    check_fsm f(timers(1, 1s, 5s), false, 100, 250);
    EXPECT_FALSE(f.up());
    EXPECT_EQ(f.due(), 350u);
    EXPECT_TRUE(f.on_result(true, 350));
    EXPECT_TRUE(f.up());
}

TEST(quorum_state, hysteresis_band) {
    config::vs_health_cfg h;
    h.quorum = 10;
    h.hysteresis = 2;
    quorum_state q;
    EXPECT_FALSE(q.update(8, h)); // 8 >= 10 - 2: kept
    EXPECT_TRUE(q.up);
    EXPECT_TRUE(q.update(7, h)); // < 8: lost
    EXPECT_FALSE(q.up);
    EXPECT_FALSE(q.update(11, h)); // < 12: still lost
    EXPECT_TRUE(q.update(12, h));  // >= quorum + hysteresis: regained
    EXPECT_TRUE(q.up);
}

TEST(quorum_state, zero_weight_always_loses_and_never_regains) {
    config::vs_health_cfg h;
    h.quorum = 1;
    h.hysteresis = 5; // quorum - hysteresis underflows: only a zero sum loses it
    quorum_state q;
    EXPECT_FALSE(q.update(1, h));
    EXPECT_TRUE(q.update(0, h));
    EXPECT_FALSE(q.update(5, h));
    EXPECT_TRUE(q.update(6, h));
}

config::config three_servers() {
    config::config c;
    config::virtual_server_cfg vs;
    vs.name = "web";
    for (uint32_t i = 1; i <= 3; ++i) {
        config::real_server_cfg rs;
        rs.address = ip_addr::from_v4(0xc6336400u + 10 + i);
        rs.port = 80;
        rs.weight = i;
        vs.real_servers.push_back(rs);
    }
    vs.real_servers[1].health.inhibit_on_failure = true;
    vs.health.sorry_server = config::sorry_server_cfg{ip_addr::from_v4(0xc6336463u), 8080};
    c.virtual_servers.push_back(vs);
    return c;
}

TEST(overlay, removes_down_servers_inhibits_and_applies_dynamic_weights) {
    const auto c = three_servers();
    auto out = overlay(
        c,
        [](size_t, size_t r) {
            if (r == 2)
                return rs_view{true, 7u};
            return rs_view{false, std::nullopt};
        },
        [](size_t) { return true; });
    const auto& rss = out.virtual_servers[0].real_servers;
    ASSERT_EQ(rss.size(), 2u); // rs 0 removed
    EXPECT_EQ(rss[0].address, c.virtual_servers[0].real_servers[1].address);
    EXPECT_EQ(rss[0].weight, 0u);                            // inhibit_on_failure
    EXPECT_EQ(rss[1].weight, 7u);                            // misc dynamic
    EXPECT_EQ(c.virtual_servers[0].real_servers.size(), 3u); // the running config is untouched
}

TEST(overlay, quorum_lost_sends_everything_to_the_sorry_server) {
    auto out = overlay(
        three_servers(), [](size_t, size_t) { return rs_view{}; }, [](size_t) { return false; });
    const auto& rss = out.virtual_servers[0].real_servers;
    ASSERT_EQ(rss.size(), 1u);
    EXPECT_EQ(rss[0].address, ip_addr::from_v4(0xc6336463u));
    EXPECT_EQ(rss[0].port, 8080);
    // Without a sorry server, losing quorum leaves the (up) servers in place.
    auto c = three_servers();
    c.virtual_servers[0].health.sorry_server.reset();
    out = overlay(
        c, [](size_t, size_t) { return rs_view{}; }, [](size_t) { return false; });
    EXPECT_EQ(out.virtual_servers[0].real_servers.size(), 3u);
}

} // namespace
} // namespace ulvs::ctl::health
