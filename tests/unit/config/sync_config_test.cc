// `sync:` (issue 18): defaults as ipvsadm's, every key, every mistake with its line and column,
// and the to_yaml round trip.
#include "test_util.h"
#include "ulvs/config/emit.h"

#include <gtest/gtest.h>

using ulvs::ip_addr;
using namespace ulvs::config;
using namespace ulvs::config::test;

namespace {

config load_ok(const std::string& text) {
    auto r = load_string(text, "t.yaml");
    EXPECT_TRUE(r) << (r ? "" : r.error().front().to_string());
    return r ? *r : config{};
}

ip_addr addr(const char* s) {
    return *ip_addr::parse(s);
}

constexpr std::string_view one_port =
    "ports:\n"
    "  - {name: wan, device: dev0, addresses: [203.0.113.10/24]}\n";

} // namespace

TEST(SyncConfig, AbsentIsOff) {
    EXPECT_FALSE(load_ok(std::string(two_ports)).sync);
    EXPECT_EQ(to_yaml(load_ok(std::string(two_ports))).find("sync:"), std::string::npos);
}

TEST(SyncConfig, DefaultsAreIpvsOnes) {
    // One port: the interface may be left out and is that port.
    const config c = load_ok(std::string(one_port) + "sync: {role: master}\n");
    ASSERT_TRUE(c.sync);
    const sync_cfg& s = *c.sync;
    EXPECT_EQ(s.role, sync_role::master);
    EXPECT_EQ(s.interface, "wan");
    EXPECT_EQ(s.port, 8848);
    EXPECT_EQ(s.group, addr("224.0.0.81"));
    EXPECT_FALSE(s.peer);
    EXPECT_EQ(s.syncid, 0);
    EXPECT_EQ(s.threshold, 3u); // sync_threshold "3 50"
    EXPECT_EQ(s.period, 50u);
    EXPECT_EQ(s.maxlen, 0); // derived: 1472 for a master (wire.h default_maxlen)
    EXPECT_EQ(s.ttl, 1);
}

TEST(SyncConfig, EveryKey) {
    const config c =
        load_ok(std::string(two_ports) +
                "sync:\n  role: both\n  interface: lan\n  port: 9000\n  group: 239.1.2.3\n"
                "  peer: 198.51.100.2\n  syncid: 7\n  threshold: 0\n  period: 0\n"
                "  maxlen: 1400\n  ttl: 4\n");
    ASSERT_TRUE(c.sync);
    sync_cfg want;
    want.role = sync_role::both;
    want.interface = "lan";
    want.port = 9000;
    want.group = addr("239.1.2.3");
    want.peer = addr("198.51.100.2");
    want.syncid = 7;
    want.threshold = 0;
    want.period = 0;
    want.maxlen = 1400;
    want.ttl = 4;
    EXPECT_EQ(*c.sync, want);
    EXPECT_TRUE(has_master(c.sync->role) && has_backup(c.sync->role));
    EXPECT_FALSE(has_backup(sync_role::master));
    EXPECT_FALSE(has_master(sync_role::backup));
}

TEST(SyncConfig, RoundTrip) {
    for (const char* s :
         {"sync: {role: backup, interface: wan}\n",
          "sync: {role: master, interface: lan, peer: 198.51.100.9, syncid: 255, maxlen: 70}\n",
          "sync: {role: both, interface: wan, group: 224.0.0.82, port: 1, threshold: 10, "
          "period: 100, ttl: 255}\n"}) {
        const config c = load_ok(std::string(two_ports) + s);
        ASSERT_TRUE(c.sync) << s;
        const std::string yaml = to_yaml(c);
        EXPECT_NE(yaml.find("\nsync: {role: "), std::string::npos) << yaml;
        const config again = load_ok(yaml);
        ASSERT_TRUE(again.sync) << yaml;
        EXPECT_EQ(*again.sync, *c.sync) << yaml;
    }
}

TEST(SyncConfig, EmittedLine) {
    const config c = load_ok(std::string(one_port) + "sync: {role: master}\n");
    EXPECT_NE(to_yaml(c).find("\nsync: {role: master, interface: \"wan\", port: 8848, group: "
                              "224.0.0.81, syncid: 0, threshold: 3, period: 50, ttl: 1}\n"),
              std::string::npos)
        << to_yaml(c);
}

TEST(SyncConfig, MistakesWithLineAndColumn) {
    auto err = [](std::string_view text) { return errors_with_ports(text); };
    using v = std::vector<std::string>;
    EXPECT_EQ(err("sync: {role: master, interface: wan, mcast: 1}\n"),
              v{"8:38: unknown key \"mcast\" in sync"});
    EXPECT_EQ(err("sync: {interface: wan}\n"), v{"8:7: sync is missing required key \"role\""});
    EXPECT_EQ(err("sync: {role: slave, interface: wan}\n"),
              v{"8:14: sync.role must be one of master, backup, both, got \"slave\""});
    EXPECT_EQ(err("sync: {role: master}\n"),
              v{"8:7: sync.interface must name the port sync uses when there is not exactly one "
                "port (ports: wan, lan)"});
    EXPECT_EQ(err("sync: {role: master, interface: dmz}\n"),
              v{"8:33: sync.interface \"dmz\" names no port (ports: wan, lan)"});
    EXPECT_EQ(err("sync: {role: master, interface: wan, group: 10.0.0.1}\n"),
              v{"8:45: sync.group must be an IPv4 multicast address (224.0.0.0/4), got 10.0.0.1"});
    EXPECT_EQ(err("sync: {role: master, interface: wan, peer: 224.0.0.81}\n"),
              v{"8:44: sync.peer must be a unicast address (the other node), got 224.0.0.81"});
    EXPECT_EQ(err("sync: {role: master, interface: wan, syncid: 256}\n").size(), 1u);
    EXPECT_EQ(err("sync: {role: master, interface: wan, port: 0}\n").size(), 1u);
    EXPECT_EQ(err("sync: {role: master, interface: wan, ttl: 0}\n").size(), 1u);
    EXPECT_EQ(err("sync: {role: master, interface: wan, maxlen: 69}\n").size(), 1u);
    EXPECT_EQ(err("sync: {role: master, interface: wan, threshold: 50}\n"),
              v{"8:49: sync.threshold (50) must be less than sync.period (50), or period 0 (as "
                "IPVS' sync_threshold)"});
    EXPECT_EQ(err("sync: {role: master, interface: wan, period: 3}\n"),
              v{"8:46: sync.threshold (3) must be less than sync.period (3), or period 0 (as "
                "IPVS' sync_threshold)"});
    EXPECT_EQ(err("sync: {role: master, interface: wan, maxlen: 1473}\n"),
              v{"8:46: sync.maxlen 1473 does not fit port \"wan\"'s mtu 1500 with the IP and UDP "
                "headers (at most 1472)"});
    EXPECT_EQ(err("sync: [master]\n").size(), 1u);
}
