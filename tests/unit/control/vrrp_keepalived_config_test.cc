// The keepalived VRRP options of issue 14 in the YAML file: version 2 by default with PASS
// authentication, source_address, garp, notify stop/any, track script rise/fall/timeout and
// vrrp_sync_groups; each read, each mistake at its line:col, and to_yaml writing what was read.
#include "../config/test_util.h"
#include "ulvs/config/emit.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ulvs::config {
namespace {

using test::errors_of;
using strings = std::vector<std::string>;
const std::string two_ports(test::two_ports); // seven lines: what follows starts on line 8

// A keepalived NAT pair's instances: wan and lan, in one sync group.
const std::string nat_pair = two_ports + R"(vrrp_instances:
  - name: VI_WAN
    port: wan
    vrid: 51
    authentication: {type: PASS, password: "secret1"}
    source_address: 203.0.113.10
    virtual_addresses: [203.0.113.100/24]
    garp: {master_delay: 2s, master_refresh: 30s}
    notify: {stop: "/n stop", any: "/n any"}
    track: {scripts: [{path: /bin/chk, interval: 2s, weight: 0, rise: 3, fall: 2, timeout: 1s}]}
  - name: VI_LAN
    port: lan
    vrid: 52
    virtual_addresses: [198.51.100.254/24]
vrrp_sync_groups:
  - name: G_NAT
    instances: [VI_WAN, VI_LAN]
    notify: {master: "/g m", backup: "/g b", fault: "/g f", any: "/g any"}
)";

TEST(vrrp_keepalived_config, reads_every_new_key) {
    auto r = load_string(nat_pair, "t.yaml");
    ASSERT_TRUE(r) << r.error().front().to_string();
    ASSERT_EQ(r->vrrp_instances.size(), 2u);
    const vrrp_instance_cfg& w = r->vrrp_instances[0];
    EXPECT_EQ(w.version, 2); // keepalived's default: authentication needs no `version: 2`
    EXPECT_EQ(w.auth_pass, "secret1");
    ASSERT_TRUE(w.source_address);
    EXPECT_EQ(w.source_address->to_string(), "203.0.113.10");
    EXPECT_EQ(w.garp.master_delay.count(), 2000);
    EXPECT_EQ(w.garp.master_refresh.count(), 30000);
    EXPECT_EQ(w.notify.stop, "/n stop");
    EXPECT_EQ(w.notify.any, "/n any");
    ASSERT_EQ(w.track.scripts.size(), 1u);
    EXPECT_EQ(w.track.scripts[0].rise, 3u);
    EXPECT_EQ(w.track.scripts[0].fall, 2u);
    EXPECT_EQ(w.track.scripts[0].timeout.count(), 1000);
    ASSERT_EQ(r->vrrp_sync_groups.size(), 1u);
    const vrrp_sync_group_cfg& g = r->vrrp_sync_groups[0];
    EXPECT_EQ(g.name, "G_NAT");
    EXPECT_EQ(g.instances, (strings{"VI_WAN", "VI_LAN"}));
    EXPECT_EQ(g.notify.master, "/g m");
    EXPECT_EQ(g.notify.backup, "/g b");
    EXPECT_EQ(g.notify.fault, "/g f");
    EXPECT_EQ(g.notify.any, "/g any");
}

TEST(vrrp_keepalived_config, defaults_are_keepalived_s) {
    auto r = load_string(two_ports + "vrrp_instances:\n"
                                     "  - {name: a, port: wan, vrid: 1, virtual_addresses: "
                                     "[203.0.113.100], track: {scripts: [{path: /bin/x}]}}\n",
                         "t.yaml");
    ASSERT_TRUE(r) << r.error().front().to_string();
    const vrrp_instance_cfg& v = r->vrrp_instances[0];
    EXPECT_EQ(v.version, 2);
    EXPECT_FALSE(v.source_address);
    EXPECT_EQ(v.garp.master_delay.count(), 5000); // garp_master_delay 5
    EXPECT_EQ(v.garp.master_refresh.count(), 0);  // no refresh
    EXPECT_EQ(v.track.scripts[0].rise, 1u);
    EXPECT_EQ(v.track.scripts[0].fall, 1u);
    EXPECT_EQ(v.track.scripts[0].timeout.count(), 0); // = the interval
    EXPECT_TRUE(r->vrrp_sync_groups.empty());
}

TEST(vrrp_keepalived_config, round_trips_through_to_yaml) {
    auto a = load_string(nat_pair, "t.yaml");
    ASSERT_TRUE(a) << a.error().front().to_string();
    const std::string text = to_yaml(*a);
    auto b = load_string(text, "saved.yaml");
    ASSERT_TRUE(b) << b.error().front().to_string() << "\n" << text;
    EXPECT_EQ(to_yaml(*b), text);
    EXPECT_EQ(b->vrrp_instances, a->vrrp_instances);
    EXPECT_EQ(b->vrrp_sync_groups, a->vrrp_sync_groups);
    EXPECT_NE(text.find("source_address: 203.0.113.10"), std::string::npos) << text;
    EXPECT_NE(text.find("garp: {master_delay: 2s, master_refresh: 30s}"), std::string::npos);
    EXPECT_NE(text.find("rise: 3, fall: 2, timeout: 1s"), std::string::npos);
    EXPECT_NE(text.find("vrrp_sync_groups:"), std::string::npos);
}

TEST(vrrp_keepalived_config, mistakes_at_their_line_and_column) {
    const std::string bad = two_ports + R"(vrrp_instances:
  - name: a
    port: wan
    vrid: 1
    version: 3
    authentication: {type: pass, password: "1"}
    source_address: 198.51.100.1
    virtual_addresses: [203.0.113.100]
    garp: {master_delay: soon, every: 1s}
    notify: {stop: "/x 'y", any: ""}
    track: {scripts: [{path: /bin/x, rise: 0, fall: -1, timeout: 2}]}
  - name: b
    port: lan
    vrid: 2
    source_address: 1.2.3
    virtual_addresses: [198.51.100.254]
vrrp_sync_groups:
  - name: g
    instances: [a, nosuch, a]
    notify: {stop: /bin/x}
  - name: g
    instances: [a]
  - {name: h, instances: []}
)";
    const strings want{
        "13:5: vrrp_instances[0].authentication is only defined for VRRP version 2 (RFC 5798 "
        "removed authentication)",
        "14:21: source_address 198.51.100.1 is not an address of port \"wan\"",
        "16:26: vrrp_instances[0].garp.master_delay must be a duration, got \"soon\" (use e.g. "
        "500ms, 6s, 2m, 1h, or a bare number of seconds)",
        "16:32: unknown key \"every\" in vrrp_instances[0].garp",
        "17:20: vrrp_instances[0].notify.stop: missing the closing ' (scripts are split as "
        "keepalived splits them: README \"Scripts\")",
        "18:44: vrrp_instances[0].track.scripts[0].rise must be in 1..2147483647, got 0",
        "18:53: vrrp_instances[0].track.scripts[0].fall must be in 1..2147483647, got -1",
        "22:21: vrrp_instances[1].source_address must be an IPv4 address a.b.c.d, got \"1.2.3\"",
        "26:20: sync group member \"nosuch\" names no VRRP instance",
        "26:28: sync group member \"a\" is listed twice in \"g\"",
        "27:14: unknown key \"stop\" in vrrp_sync_groups[0].notify",
        "28:11: sync group name \"g\" is already used by vrrp_sync_groups[0]",
        "29:17: VRRP instance \"a\" is already in sync group \"g\"",
        "30:26: vrrp_sync_groups[2].instances must name at least one VRRP instance",
    };
    EXPECT_EQ(errors_of(bad), want);
}

TEST(vrrp_keepalived_config, sync_group_members_track_without_weights) {
    EXPECT_EQ(errors_of(two_ports + "vrrp_instances:\n"
                                    "  - {name: a, port: wan, vrid: 1, virtual_addresses: "
                                    "[203.0.113.100], track: {scripts: [{path: /x, weight: 5}]}}\n"
                                    "vrrp_sync_groups: [{name: g, instances: [a]}]\n"),
              (strings{"10:42: VRRP instance \"a\" is in a sync group: its track scripts must "
                       "have weight 0 (a failure is FAULT for the whole group; keepalived "
                       "ignores weighted ones)"}));
}

TEST(vrrp_keepalived_config, script_timeout_is_a_duration) {
    EXPECT_EQ(errors_of(two_ports + "vrrp_instances:\n"
                                    "  - {name: a, port: wan, vrid: 1, virtual_addresses: "
                                    "[203.0.113.100], track: {scripts: [{path: /x, timeout: "
                                    "soon}]}}\n"),
              (strings{"9:109: vrrp_instances[0].track.scripts[0].timeout must be a duration, "
                       "got \"soon\" (use e.g. 500ms, 6s, 2m, 1h, or a bare number of "
                       "seconds)"}));
}

TEST(vrrp_keepalived_config, long_password_names_what_keepalived_sends) {
    EXPECT_EQ(errors_of(two_ports + "vrrp_instances:\n"
                                    "  - {name: a, port: wan, vrid: 1, virtual_addresses: "
                                    "[203.0.113.100], authentication: {type: PASS, password: "
                                    "longpassword}}\n"),
              (strings{"9:110: vrrp_instances[0].authentication.password must be 1..8 "
                       "characters (the packet holds 8; keepalived sends the first 8: "
                       "\"longpass\")"}));
}

} // namespace
} // namespace ulvs::config
