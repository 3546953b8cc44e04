// `scripts: {user, group}` (keepalived's script_user) and the command-line check every script
// gets at load (--check) time.
#include "test_util.h"

#include "ulvs/config/emit.h"

#include <gtest/gtest.h>

namespace ulvs::config {
namespace {

using test::errors_with_ports;
using strings = std::vector<std::string>;

TEST(scripts_config, default_is_as_the_daemon) {
    auto c = load_string(std::string(test::two_ports), "t.yaml");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->scripts, scripts_cfg{});
    EXPECT_EQ(to_yaml(*c).find("scripts:"), std::string::npos);
}

TEST(scripts_config, user_and_group_resolve_and_round_trip) {
    auto c = load_string(std::string(test::two_ports) + "scripts: {user: nobody, group: nogroup}\n",
                         "t.yaml");
    ASSERT_TRUE(c) << c.error()[0].to_string();
    EXPECT_EQ(c->scripts.user, "nobody");
    EXPECT_EQ(c->scripts.group, "nogroup");
    EXPECT_EQ(c->scripts.uid, 65534u);
    EXPECT_EQ(c->scripts.gid, 65534u);
    auto again = load_string(to_yaml(*c), "again.yaml");
    ASSERT_TRUE(again) << again.error()[0].to_string() << "\n" << to_yaml(*c);
    EXPECT_EQ(again->scripts, c->scripts);
    // Without a group: the user's primary group (root's is 0).
    auto r = load_string(std::string(test::two_ports) + "scripts: {user: root}\n", "t.yaml");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->scripts.uid, 0u);
    EXPECT_EQ(r->scripts.gid, 0u);
    EXPECT_EQ(to_yaml(*r).find("group"), std::string::npos);
}

TEST(scripts_config, unknown_names_are_errors_at_the_value) {
    EXPECT_EQ(errors_with_ports("scripts: {user: no-such-user-ulvs}\n"),
              (strings{"8:17: scripts.user: no user \"no-such-user-ulvs\" on this host"}));
    EXPECT_EQ(errors_with_ports("scripts: {user: nobody, group: no-such-group-ulvs}\n"),
              (strings{"8:32: scripts.group: no group \"no-such-group-ulvs\" on this host"}));
    EXPECT_EQ(errors_with_ports("scripts: {group: nogroup}\n"),
              (strings{"8:11: scripts.group needs scripts.user (as keepalived's script_user "
                       "USER [GROUP])"}));
    EXPECT_EQ(errors_with_ports("scripts: {user: \"\"}\n"),
              (strings{"8:17: scripts.user must not be empty"}));
    EXPECT_EQ(errors_with_ports("scripts: {uid: 0}\n").size(), 1u); // unknown key
}

// Every script's command line must split (common/command_line.h): an unterminated quote is a
// --check error pointing at the string, not a script that fails at run time.
TEST(scripts_config, command_lines_that_do_not_split_are_errors) {
    const std::string vs = "virtual_servers:\n"
                           "  - {name: web, address: 203.0.113.100, port: 80, protocol: tcp,\n"
                           "     forwarding: nat, real_servers: [{address: 198.51.100.20,\n";
    EXPECT_EQ(errors_with_ports(vs + "      health_check: {type: misc, path: \"chk 'a\"}}]}\n"),
              (strings{"11:40: virtual_servers[0].real_servers[0].health_check.path: missing the "
                       "closing ' (scripts are split as keepalived splits them: README "
                       "\"Scripts\")"}));
    EXPECT_EQ(errors_with_ports(vs + "      notify: {up: \"x\\\\\"}}]}\n"),
              (strings{"11:20: virtual_servers[0].real_servers[0].notify.up: a backslash ends "
                       "the command line (scripts are split as keepalived splits them: README "
                       "\"Scripts\")"}));
    const std::string vrrp = "vrrp_instances:\n"
                             "  - {name: a, port: wan, vrid: 1, virtual_addresses: "
                             "[203.0.113.100],\n";
    EXPECT_EQ(errors_with_ports(vrrp + "     track: {scripts: [{path: \"chk \\\"x\"}]}}\n"),
              (strings{"10:31: vrrp_instances[0].track.scripts[0].path: missing the closing \" "
                       "(scripts are split as keepalived splits them: README \"Scripts\")"}));
    EXPECT_EQ(errors_with_ports(vrrp + "     notify: {master: \"n '\"}}\n"),
              (strings{"10:23: vrrp_instances[0].notify.master: missing the closing ' (scripts "
                       "are split as keepalived splits them: README \"Scripts\")"}));
}

} // namespace
} // namespace ulvs::config
