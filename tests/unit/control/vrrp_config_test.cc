// vrrp_instances in the YAML file: every key read, every mistake reported at its line:col, and
// to_yaml writing what was read.
#include "../config/test_util.h"
#include "ulvs/config/emit.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ulvs::config {
namespace {

using test::errors_of;
const std::string two_ports(test::two_ports); // seven lines: what follows starts on line 8

const std::string full = two_ports + R"(vrrp_instances:
  - name: VI_1
    port: wan
    vrid: 51
    state: master
    priority: 150
    advert_int: 1s
    version: 2
    preempt: false
    preempt_delay: 5s
    authentication: {type: pass, password: "1111"}
    unicast_peers: [203.0.113.11]
    virtual_addresses: [203.0.113.100/24, 203.0.113.101]
    track: {ports: [wan, lan], virtual_servers: [web], scripts: [{path: /bin/true x, interval: 2s, weight: -20}]}
    notify: {master: "/n m", backup: "/n b", fault: "/n f"}
virtual_servers:
  - {name: web, address: 203.0.113.100, port: 80, protocol: tcp, real_servers: []}
)";

TEST(vrrp_config, reads_every_key) {
    auto r = load_string(full, "t.yaml");
    ASSERT_TRUE(r) << r.error().front().to_string();
    ASSERT_EQ(r->vrrp_instances.size(), 1u);
    const vrrp_instance_cfg& v = r->vrrp_instances[0];
    EXPECT_EQ(v.name, "VI_1");
    EXPECT_EQ(v.port, "wan");
    EXPECT_EQ(v.vrid, 51);
    EXPECT_TRUE(v.initial_master);
    EXPECT_EQ(v.priority, 150);
    EXPECT_EQ(v.advert_int.count(), 1000);
    EXPECT_EQ(v.version, 2);
    EXPECT_FALSE(v.preempt);
    EXPECT_EQ(v.preempt_delay.count(), 5000);
    EXPECT_EQ(v.auth_pass, "1111");
    ASSERT_EQ(v.unicast_peers.size(), 1u);
    EXPECT_EQ(v.unicast_peers[0].to_string(), "203.0.113.11");
    ASSERT_EQ(v.virtual_addresses.size(), 2u);
    EXPECT_EQ(v.virtual_addresses[1].to_string(), "203.0.113.101/32");
    EXPECT_EQ(v.track.ports, (std::vector<std::string>{"wan", "lan"}));
    EXPECT_EQ(v.track.virtual_servers, (std::vector<std::string>{"web"}));
    ASSERT_EQ(v.track.scripts.size(), 1u);
    EXPECT_EQ(v.track.scripts[0].path, "/bin/true x");
    EXPECT_EQ(v.track.scripts[0].interval.count(), 2000);
    EXPECT_EQ(v.track.scripts[0].weight, -20);
    EXPECT_EQ(v.notify.master, "/n m");
    EXPECT_EQ(v.notify.backup, "/n b");
    EXPECT_EQ(v.notify.fault, "/n f");
}

TEST(vrrp_config, round_trips_through_to_yaml) {
    auto a = load_string(full, "t.yaml");
    ASSERT_TRUE(a);
    const std::string text = to_yaml(*a);
    auto b = load_string(text, "saved.yaml");
    ASSERT_TRUE(b) << b.error().front().to_string() << "\n" << text;
    EXPECT_EQ(to_yaml(*b), text);
    EXPECT_NE(text.find("preempt: false"), std::string::npos);
    EXPECT_NE(text.find("weight: -20"), std::string::npos);
}

TEST(vrrp_config, defaults) {
    auto r = load_string(two_ports + "vrrp_instances:\n"
                                     "  - {name: a, port: wan, vrid: 1, virtual_addresses: "
                                     "[203.0.113.100]}\n",
                         "t.yaml");
    ASSERT_TRUE(r);
    const vrrp_instance_cfg& v = r->vrrp_instances[0];
    EXPECT_EQ(v.version, 2); // keepalived's default (issue 14)
    EXPECT_EQ(v.priority, 100);
    EXPECT_TRUE(v.preempt);
    EXPECT_FALSE(v.initial_master);
    EXPECT_EQ(v.advert_int.count(), 1000);
}

TEST(vrrp_config, mistakes_at_their_line_and_column) {
    const std::string bad = two_ports + R"(vrrp_instances:
  - name: a
    port: nope
    vrid: 256
    priority: 0
    virtual_addresses: [203.0.113.100]
  - name: b
    port: wan
    vrid: 2
    version: 2
    advert_int: 1500ms
    authentication: {type: ah, password: "123456789"}
    virtual_addresses: []
    track: {ports: [dmz], virtual_servers: [none], scripts: [{path: x, weight: 300}]}
    state: standby
  - name: c
    port: wan
    vrid: 3
    advert_int: 5ms
    authentication: {type: pass, password: "1"}
    virtual_addresses: [203.0.113.10]
    preempt: maybe
    nopreempt: true
  - name: c
    port: wan
    vrid: 3
    virtual_addresses: [203.0.113.101]
)";
    // Sorted by position; instance 0's unknown port is not reported: its vrid is already wrong
    // (one mistake, one message), see the next test.
    const std::vector<std::string> want{
        "11:11: vrrp_instances[0].vrid must be in 1..255, got 256",
        "12:15: vrrp_instances[0].priority must be in 1..255, got 0",
        "18:17: vrrp_instances[1].advert_int must be whole seconds 1s..255s with version 2, got "
        "\"1500ms\"",
        "19:28: vrrp_instances[1].authentication.type must be pass (AH is not supported), got "
        "\"ah\"",
        "19:42: vrrp_instances[1].authentication.password must be 1..8 characters (the packet "
        "holds 8; keepalived sends the first 8: \"12345678\")",
        "20:24: vrrp_instances[1].virtual_addresses must list at least one address",
        "21:21: tracked port \"dmz\" names no port",
        "21:45: tracked virtual server \"none\" names no virtual server",
        "21:80: vrrp_instances[1].track.scripts[0].weight must be an integer in -253..253, got "
        "\"300\"",
        "22:12: vrrp_instances[1].state must be master or backup, got \"standby\"",
        "26:17: vrrp_instances[2].advert_int must be whole seconds 1s..255s with version 2, got "
        "\"5ms\"",
        "28:25: virtual address 203.0.113.10 is a port address: only priority 255 (the owner) may "
        "list it",
        "29:14: vrrp_instances[2].preempt must be true or false, got \"maybe\"",
        "30:5: unknown key \"nopreempt\" in vrrp_instances[2] (did you mean \"preempt\"?)",
        "31:11: VRRP instance name \"c\" is already used by vrrp_instances[2]",
        "33:11: vrid 3 on port \"wan\" is already used by vrrp_instances[2]",
    };
    EXPECT_EQ(errors_of(bad), want);
}

TEST(vrrp_config, unknown_port) {
    EXPECT_EQ(errors_of(two_ports + "vrrp_instances:\n"
                                    "  - {name: a, port: dmz, vrid: 1, virtual_addresses: "
                                    "[203.0.113.100]}\n"),
              std::vector<std::string>{"9:21: VRRP port \"dmz\" names no port"});
}

} // namespace
} // namespace ulvs::config
