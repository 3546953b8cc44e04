// ipvsadm's sync daemon commands (issue 18): --start-daemon / --stop-daemon / -L --daemon parsed
// as ipvsadm parses them, applied to the running config's `sync:` (master + backup = both),
// shown by save-yaml, and -L --daemon printed as ipvsadm 1.31 prints it.
#include "ulvs/config/emit.h"
#include "ulvs/config/load.h"
#include "ulvs/mgmt/config_edit.h"
#include "ulvs/mgmt/ipvsadm_args.h"
#include "ulvs/mgmt/ipvsadm_format.h"
#include "ulvs/mgmt/sync_daemon.h"

#include <gtest/gtest.h>

namespace ulvs::mgmt {
namespace {

constexpr std::string_view two_ports = R"(
ports:
  - {name: wan, device: dev0, addresses: [203.0.113.10/24]}
  - {name: lan, device: dev1, addresses: [198.51.100.1/24], mtu: 1400}
management: {socket: "/tmp/x.sock", metrics: ""}
)";

config::config load(std::string_view yaml) {
    auto c = config::load_string(yaml, "base.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return c ? *c : config::config{};
}

std::expected<cli_action, std::string> parse(std::string_view line) {
    return parse_cli(split_words(line));
}

json op(std::string_view line) {
    auto a = parse(line);
    EXPECT_TRUE(a) << line << ": " << (a ? "" : a.error());
    return a ? a->request : json();
}

// What ulvsd does with a change: apply it to a copy, then judge the copy as a file.
std::expected<config::config, error> change(const config::config& c, std::string_view line) {
    config::config next = c;
    if (auto r = apply_op(next, op(line)); !r)
        return std::unexpected(r.error());
    return revalidate(next);
}

std::string listing(const config::config& c) {
    return render_daemons(make_ok(daemon_listing(c)));
}

TEST(sync_daemon_cli, start_daemon_and_its_options) {
    auto a = parse("--start-daemon master --mcast-interface wan --syncid 7 --sync-maxlen 1200 "
                   "--mcast-group 239.1.1.1 --mcast-port 9000 --mcast-ttl 2");
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->kind, cli_kind::request);
    EXPECT_EQ(a->request, (json{{"cmd", "start_daemon"},
                                {"state", "master"},
                                {"mcast_ifn", "wan"},
                                {"syncid", 7},
                                {"maxlen", 1200},
                                {"group", "239.1.1.1"},
                                {"port", 9000},
                                {"ttl", 2}}));
    // --opt=value as popt takes it; only what is given is sent.
    EXPECT_EQ(op("--start-daemon=backup --syncid=0"),
              (json{{"cmd", "start_daemon"}, {"state", "backup"}, {"syncid", 0}}));
    EXPECT_EQ(op("--stop-daemon master"), (json{{"cmd", "stop_daemon"}, {"state", "master"}}));
    EXPECT_EQ(op("--stop-daemon backup --syncid 3")["cmd"], "stop_daemon"); // allowed, unused
}

TEST(sync_daemon_cli, list_daemon) {
    for (const char* line : {"-L --daemon", "-l --daemon", "--list --daemon", "-Ln --daemon"}) {
        auto a = parse(line);
        ASSERT_TRUE(a) << line << ": " << a.error();
        EXPECT_EQ(a->kind, cli_kind::daemon) << line;
        EXPECT_EQ(a->request, (json{{"cmd", "daemon"}})) << line;
    }
}

TEST(sync_daemon_cli, refused_in_ipvsadm_words) {
    const std::pair<const char*, const char*> cases[] = {
        {"--start-daemon slave", "illegal start-daemon parameter specified"},
        {"--stop-daemon both", "illegal stop-daemon parameter specified"},
        {"--start-daemon", "option --start-daemon needs a value"},
        {"--start-daemon master --syncid 256", "illegal syncid specified"},
        {"--start-daemon master --syncid x", "illegal syncid specified"},
        {"--start-daemon master --sync-maxlen 0", "illegal sync-maxlen specified"},
        {"--start-daemon master --sync-maxlen 65508", "illegal sync-maxlen specified"},
        {"--start-daemon master --mcast-port 0", "illegal mcast-port specified"},
        {"--start-daemon master --mcast-ttl 256", "illegal mcast-ttl specified"},
        {"--start-daemon master --mcast-group 10.0.0.1", "invalid IPv4 mcast-group `10.0.0.1'"},
        {"--start-daemon master --mcast-group ff02::1",
         "invalid IPv4 mcast-group `ff02::1' (ulvs syncs over IPv4 only)"},
        {"--start-daemon master -t 203.0.113.100:80",
         "Illegal 'service-address' option with the 'start-daemon' command"},
        {"--stop-daemon master --mcast-interface wan",
         "Illegal 'mcast-interface' option with the 'stop-daemon' command"},
        {"-A -t 203.0.113.100:80 --syncid 1",
         "Illegal 'syncid' option with the 'add-service' command"},
        {"-C --mcast-ttl 3", "Illegal 'mcast-ttl' option with the 'flush' command"},
        {"-S --daemon", "Illegal 'daemon' option with the 'save' command"},
        {"--start-daemon master --stop-daemon master", "multiple commands specified"},
        {"-L --daemon -c", "The option 'daemon' conflicts with the 'connection' option in the "
                           "'list' command"},
        {"-L --daemon --timeout",
         "The option 'daemon' conflicts with the 'timeout' option in the 'list' command"},
        {"-L -t 203.0.113.100:80 --daemon",
         "The option 'daemon' conflicts with the 'service-address' option in the 'list' command"},
        {"-L --daemon --stats", "options conflicts in the list command"},
    };
    for (const auto& [line, want] : cases) {
        auto a = parse(line);
        ASSERT_FALSE(a) << line;
        EXPECT_EQ(a.error(), want) << line;
    }
}

TEST(sync_daemon_cli, usage_names_them) {
    const std::string u = usage_text();
    EXPECT_NE(u.find("--start-daemon master|backup"), std::string::npos);
    EXPECT_NE(u.find("--stop-daemon master|backup"), std::string::npos);
    EXPECT_NE(u.find("-L --daemon"), std::string::npos);
}

TEST(sync_daemon_edit, start_both_stop) {
    const config::config c0 = load(two_ports);
    EXPECT_EQ(listing(c0), "");

    auto c1 = change(c0, "--start-daemon master --mcast-interface wan --syncid 3");
    ASSERT_TRUE(c1) << c1.error().message;
    ASSERT_TRUE(c1->sync);
    EXPECT_EQ(c1->sync->role, config::sync_role::master);
    EXPECT_EQ(listing(*c1), "master sync daemon (mcast=wan, syncid=3, maxlen=1472, "
                            "group=224.0.0.81, port=8848, ttl=1)\n");
    EXPECT_NE(config::to_yaml(*c1).find("\nsync: {role: master, interface: \"wan\", port: 8848, "
                                        "group: 224.0.0.81, syncid: 3, threshold: 3, period: "
                                        "50, ttl: 1}\n"),
              std::string::npos)
        << config::to_yaml(*c1);

    // The same daemon again: IPVS' EEXIST.
    auto again = change(*c1, "--start-daemon master --mcast-interface wan");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, errc::exists);
    EXPECT_EQ(again.error().message, "Daemon has already run");

    // The backup joins the master: role both; options that contradict it are refused.
    auto clash = change(*c1, "--start-daemon backup --syncid 4");
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error().message,
              "the master and backup sync daemons share one configuration (sync: in the file): "
              "--syncid 4 differs from the running master daemon's syncid 3");
    auto clash_if = change(*c1, "--start-daemon backup --mcast-interface lan");
    ASSERT_FALSE(clash_if);
    EXPECT_NE(clash_if.error().message.find("--mcast-interface lan differs from the running "
                                            "master daemon's mcast-interface wan"),
              std::string::npos);
    auto c2 = change(*c1, "--start-daemon backup --mcast-interface wan --syncid 3");
    ASSERT_TRUE(c2) << c2.error().message;
    EXPECT_EQ(c2->sync->role, config::sync_role::both);
    EXPECT_EQ(listing(*c2), "master sync daemon (mcast=wan, syncid=3, maxlen=1472, "
                            "group=224.0.0.81, port=8848, ttl=1)\n"
                            "backup sync daemon (mcast=wan, syncid=3, maxlen=1472, "
                            "group=224.0.0.81, port=8848, ttl=1)\n");
    EXPECT_NE(config::to_yaml(*c2).find("\nsync: {role: both, "), std::string::npos);

    // Stopping one leaves the other; stopping what does not run: IPVS' ESRCH.
    auto c3 = change(*c2, "--stop-daemon master");
    ASSERT_TRUE(c3) << c3.error().message;
    EXPECT_EQ(c3->sync->role, config::sync_role::backup);
    EXPECT_EQ(listing(*c3), "backup sync daemon (mcast=wan, syncid=3, maxlen=1472, "
                            "group=224.0.0.81, port=8848, ttl=1)\n");
    auto none = change(*c3, "--stop-daemon master");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, errc::not_found);
    EXPECT_EQ(none.error().message, "No daemon is running");
    auto c4 = change(*c3, "--stop-daemon backup");
    ASSERT_TRUE(c4) << c4.error().message;
    EXPECT_FALSE(c4->sync);
    EXPECT_EQ(listing(*c4), "");
    EXPECT_EQ(config::to_yaml(*c4).find("sync:"), std::string::npos);
}

TEST(sync_daemon_edit, options_land_in_the_config) {
    auto c = change(load(two_ports), "--start-daemon backup --mcast-interface lan --syncid 9 "
                                     "--sync-maxlen 1300 --mcast-group 239.0.0.9 --mcast-port "
                                     "9001 --mcast-ttl 5");
    ASSERT_TRUE(c) << c.error().message;
    config::sync_cfg want;
    want.role = config::sync_role::backup;
    want.interface = "lan";
    want.syncid = 9;
    want.maxlen = 1300;
    want.group = *ip_addr::parse("239.0.0.9");
    want.port = 9001;
    want.ttl = 5;
    EXPECT_EQ(*c->sync, want);
    EXPECT_EQ(listing(*c), "backup sync daemon (mcast=lan, syncid=9, maxlen=1300, "
                           "group=239.0.0.9, port=9001, ttl=5)\n");
}

TEST(sync_daemon_edit, the_file_keeps_its_other_keys_while_a_daemon_runs) {
    // peer, threshold and period have no ipvsadm option: a second daemon leaves them alone.
    auto c0 = load(std::string(two_ports) + "sync: {role: master, interface: lan, peer: "
                                            "198.51.100.2, threshold: 5, period: 100}\n");
    auto c1 = change(c0, "--start-daemon backup");
    ASSERT_TRUE(c1) << c1.error().message;
    EXPECT_EQ(c1->sync->role, config::sync_role::both);
    EXPECT_EQ(c1->sync->peer, ip_addr::parse("198.51.100.2"));
    EXPECT_EQ(c1->sync->threshold, 5u);
    EXPECT_EQ(c1->sync->period, 100u);
    // The default maxlen is 1472, less on a port whose MTU is smaller (lan: 1400 - 28).
    EXPECT_EQ(listing(*c1), "master sync daemon (mcast=lan, syncid=0, maxlen=1372, "
                            "group=224.0.0.81, port=8848, ttl=1, peer=198.51.100.2)\n"
                            "backup sync daemon (mcast=lan, syncid=0, maxlen=1372, "
                            "group=224.0.0.81, port=8848, ttl=1, peer=198.51.100.2)\n");
}

TEST(sync_daemon_edit, interface_needed_and_checked) {
    const config::config c0 = load(two_ports);
    auto no_if = change(c0, "--start-daemon master");
    ASSERT_FALSE(no_if);
    EXPECT_EQ(no_if.error().message, "You need to supply the 'mcast-interface' option for the "
                                     "'start-daemon' command (ports: wan, lan)");
    auto bad_if = change(c0, "--start-daemon master --mcast-interface dmz");
    ASSERT_FALSE(bad_if);
    EXPECT_EQ(bad_if.error().code, errc::invalid);
    EXPECT_NE(bad_if.error().message.find("\"dmz\" names no port"), std::string::npos)
        << bad_if.error().message;
    auto too_long = change(c0, "--start-daemon master --mcast-interface wan --sync-maxlen 1473");
    ASSERT_FALSE(too_long);
    EXPECT_NE(too_long.error().message.find("does not fit port \"wan\"'s mtu 1500"),
              std::string::npos)
        << too_long.error().message;
    // One port: the interface may be left out, as the file allows.
    auto one = load("ports: [{name: wan, device: dev0, addresses: [203.0.113.10/24]}]\n"
                    "management: {socket: \"/tmp/x.sock\", metrics: \"\"}\n");
    auto c = change(one, "--start-daemon master");
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->sync->interface, "wan");
}

TEST(sync_daemon_edit, is_a_config_change_in_batches_too) {
    EXPECT_TRUE(is_config_change("start_daemon"));
    EXPECT_TRUE(is_config_change("stop_daemon"));
    EXPECT_FALSE(is_config_change("daemon"));
    // -R takes daemon lines as ipvsadm-restore does.
    auto batch = parse_restore("--start-daemon master --mcast-interface wan\n"
                               "--start-daemon backup\n");
    ASSERT_TRUE(batch) << batch.error();
    config::config c = load(two_ports);
    ASSERT_TRUE(apply_op(c, *batch));
    EXPECT_EQ(c.sync->role, config::sync_role::both);
}

TEST(render_daemons, as_ipvsadm) {
    EXPECT_EQ(render_daemons(json{{"daemons", json::array()}}), "");
    EXPECT_EQ(render_daemons(json::object()), "");
    const json reply = {{"daemons",
                         {{{"state", "master"},
                           {"mcast_ifn", "wan"},
                           {"syncid", 0},
                           {"maxlen", 1472},
                           {"group", "224.0.0.81"},
                           {"port", 8848},
                           {"ttl", 1}}}}};
    EXPECT_EQ(render_daemons(reply), "master sync daemon (mcast=wan, syncid=0, maxlen=1472, "
                                     "group=224.0.0.81, port=8848, ttl=1)\n");
}

} // namespace
} // namespace ulvs::mgmt
