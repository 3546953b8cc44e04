// Quorum and the sorry server through the checker (control/health/checker.h), as keepalived's
// ipwrapper.c does it: weigh_live_realservers() sums the weights of the alive real servers (a
// server without a checker is alive), update_quorum_state() loses quorum when that sum is 0 or
// below quorum - hysteresis, and a lost quorum puts the sorry server in place of the servers.
// keepalived.conf(5): "quorum: Minimum total weight of all live servers in the pool necessary to
// operate VS with no quality regression"; "sorry_server: server to be added to the pool if all
// real servers are down" (down: their live weight no longer makes quorum).
#include "ulvs/control/health/checker.h"

#include <gtest/gtest.h>

namespace ulvs::ctl::health {
namespace {

config::config one_service(std::vector<uint32_t> weights, bool checked) {
    config::config c;
    config::virtual_server_cfg vs;
    vs.name = "web";
    vs.address = *ip_addr::parse("203.0.113.100");
    vs.port = 80;
    vs.health.quorum = 1;
    vs.health.sorry_server = config::sorry_server_cfg{*ip_addr::parse("198.51.100.99"), 80};
    if (checked) { // a check that has not run yet: the servers start up (no alpha)
        config::health_check_cfg chk;
        chk.delay_loop = std::chrono::hours(1);
        vs.health.check = chk;
    }
    for (size_t i = 0; i < weights.size(); ++i) {
        config::real_server_cfg rs;
        rs.address = ip_addr::from_v4(0xc6336400u + 11 + uint32_t(i)); // 198.51.100.11...
        rs.port = 80;
        rs.weight = weights[i];
        vs.real_servers.push_back(rs);
    }
    c.virtual_servers.push_back(vs);
    return c;
}

bool on_sorry_server(const config::config& eff) {
    const auto& rss = eff.virtual_servers.at(0).real_servers;
    return rss.size() == 1 && rss[0].address.to_string() == "198.51.100.99";
}

// Every server alive but every weight 0 (all quiesced: `-e -w 0`, or weight 0 in the file): the
// live weight is 0, so quorum is lost and the sorry server takes the traffic.
TEST(health_quorum, all_alive_at_weight_zero_loses_quorum_to_the_sorry_server) {
    for (bool checked : {false, true}) {
        checker ck;
        const config::config c = one_service({0, 0}, checked);
        ck.sync(c, 0);
        EXPECT_FALSE(ck.quorum_up("web")) << "checked " << checked;
        EXPECT_TRUE(on_sorry_server(ck.effective(c))) << "checked " << checked;
        // A weight back above 0 makes quorum again: the servers return.
        const config::config back = one_service({0, 1}, checked);
        ck.sync(back, 1000);
        EXPECT_TRUE(ck.quorum_up("web")) << "checked " << checked;
        EXPECT_EQ(ck.effective(back).virtual_servers[0].real_servers.size(), 2u);
    }
}

// The live weight below quorum (quorum 3, weights 1 + 1): quorum lost, without checks too.
TEST(health_quorum, unchecked_weights_below_quorum_lose_it) {
    checker ck;
    config::config c = one_service({1, 1}, false);
    c.virtual_servers[0].health.quorum = 3;
    ck.sync(c, 0);
    EXPECT_FALSE(ck.quorum_up("web"));
    EXPECT_TRUE(on_sorry_server(ck.effective(c)));
}

// No real server at all (all deleted with `-d`): nothing alive, so the sorry server serves.
TEST(health_quorum, a_service_without_real_servers_uses_its_sorry_server) {
    checker ck;
    const config::config c = one_service({}, false);
    ck.sync(c, 0);
    EXPECT_FALSE(ck.quorum_up("web"));
    EXPECT_TRUE(on_sorry_server(ck.effective(c)));
}

// serving() (VRRP's tracked virtual servers) agrees with effective(): traffic goes somewhere
// with a weight > 0.
TEST(health_quorum, serving_agrees_with_the_effective_config) {
    checker ck;
    config::config c = one_service({0, 2}, false);
    ck.sync(c, 0);
    EXPECT_TRUE(ck.serving(c.virtual_servers[0]));
    c = one_service({0, 0}, false); // quorum lost: the sorry server serves
    ck.sync(c, 0);
    EXPECT_TRUE(ck.serving(c.virtual_servers[0]));
    c.virtual_servers[0].health.sorry_server.reset(); // and without one, nothing does
    ck.sync(c, 0);
    EXPECT_FALSE(ck.serving(c.virtual_servers[0]));
}

} // namespace
} // namespace ulvs::ctl::health
