// ipvsadm's command line -> requests.
#include "ulvs/mgmt/ipvsadm_args.h"

#include <gtest/gtest.h>

namespace ulvs::mgmt {
namespace {

std::expected<cli_action, std::string> parse(std::string_view line) {
    auto words = split_words(line);
    return parse_cli(words);
}

json svc(const char* proto, const char* vip, int port) {
    return {{"proto", proto}, {"vip", vip}, {"port", port}};
}

TEST(parse_cli, add_service_defaults_to_wlc) {
    auto a = parse("-A -t 203.0.113.100:80");
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->kind, cli_kind::request);
    EXPECT_EQ(a->request["cmd"], "add_service");
    EXPECT_EQ(a->request["service"], svc("tcp", "203.0.113.100", 80));
    EXPECT_EQ(a->request["scheduler"], "wlc");
    EXPECT_FALSE(a->request.contains("persistent"));
}

TEST(parse_cli, long_options_and_values) {
    auto a = parse("--add-service --udp-service 203.0.113.100:53 --scheduler rr --persistent 60 "
                   "--netmask 255.255.255.0");
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->request["service"], svc("udp", "203.0.113.100", 53));
    EXPECT_EQ(a->request["scheduler"], "rr");
    EXPECT_EQ(a->request["persistent"], 60);
    EXPECT_EQ(a->request["netmask"], "255.255.255.0");
}

TEST(parse_cli, persistent_timeout_is_optional) {
    auto a = parse("-E -t 203.0.113.100:80 -p -s wrr");
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->request["cmd"], "edit_service");
    EXPECT_EQ(a->request["persistent"], 300);
    EXPECT_EQ(a->request["scheduler"], "wrr");
}

TEST(parse_cli, add_server_defaults_and_modes) {
    auto a = parse("-a -t 203.0.113.100:80 -r 198.51.100.11");
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->request["cmd"], "add_dest");
    EXPECT_EQ(a->request["dest"], (json{{"addr", "198.51.100.11"}, {"port", 80}}));
    EXPECT_EQ(a->request["fwd"], "dr");
    EXPECT_EQ(a->request["weight"], 1);
    auto m = parse("-e -t 203.0.113.100:80 -r 198.51.100.11:8080 -m -w3 -x 10 -y 5");
    ASSERT_TRUE(m) << m.error();
    EXPECT_EQ(m->request["cmd"], "edit_dest");
    EXPECT_EQ(m->request["dest"]["port"], 8080);
    EXPECT_EQ(m->request["fwd"], "nat");
    EXPECT_EQ(m->request["weight"], 3);
    EXPECT_EQ(m->request["upper"], 10);
    EXPECT_EQ(m->request["lower"], 5);
    auto i = parse("-a -u 203.0.113.100:53 -r 198.51.100.11:53 -i");
    ASSERT_TRUE(i);
    EXPECT_EQ(i->request["fwd"], "tun");
}

TEST(parse_cli, bundled_list_flags) {
    auto a = parse("-Ln --stats --exact");
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->kind, cli_kind::list);
    EXPECT_TRUE(a->fmt.numeric);
    EXPECT_TRUE(a->fmt.exact);
    EXPECT_EQ(a->fmt.view, list_view::stats);
    auto c = parse("-lcn");
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->kind, cli_kind::conns);
    // -c with the listing options ipvsadm accepts beside it: the same paged request (no cursor:
    // the first page; ulvsadm adds the cursors).
    for (const char* line : {"-Lnc --exact", "-L -c", "-c", "-Lc -n --exact"}) {
        auto x = parse(line);
        ASSERT_TRUE(x) << line << ": " << x.error();
        EXPECT_EQ(x->kind, cli_kind::conns) << line;
        EXPECT_EQ(x->request, (json{{"cmd", "connections"}})) << line;
    }
    EXPECT_EQ(parse("-L --timeout")->kind, cli_kind::timeouts);
    EXPECT_EQ(parse("-Ln --rate")->fmt.view, list_view::rate);
    EXPECT_EQ(parse("-Ln --thresholds")->fmt.view, list_view::thresholds);
    EXPECT_EQ(parse("-Ln --persistent-conn")->fmt.view, list_view::persistent_conn);
    EXPECT_EQ(parse("-S -n")->fmt.view, list_view::rule);
    EXPECT_EQ(parse("-S -n")->request, (json{{"cmd", "list"}, {"configured", true}}));
    EXPECT_FALSE(parse("-Ln")->request.contains("configured")); // -L: as the workers see it
    auto one = parse("-L -n -t 203.0.113.100:80");
    ASSERT_TRUE(one);
    EXPECT_EQ(one->request["service"], svc("tcp", "203.0.113.100", 80));
    EXPECT_TRUE(one->fmt.headless);
}

TEST(parse_cli, other_commands) {
    EXPECT_EQ(parse("-D -t 203.0.113.100:80")->request["cmd"], "del_service");
    EXPECT_EQ(parse("-C")->request["cmd"], "clear");
    EXPECT_EQ(parse("-Z")->request, (json{{"cmd", "zero"}}));
    EXPECT_EQ(parse("-Z -t 203.0.113.100:80")->request["service"], svc("tcp", "203.0.113.100", 80));
    auto d = parse("-d -t 203.0.113.100:80 -r 198.51.100.11:80");
    EXPECT_EQ(d->request["cmd"], "del_dest");
    auto s = parse("--set 900 120 300");
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->request,
              (json{{"cmd", "set_timeouts"}, {"tcp", 900}, {"tcpfin", 120}, {"udp", 300}}));
    EXPECT_EQ(parse("-R")->kind, cli_kind::restore);
    EXPECT_EQ(parse("status")->request["cmd"], "status");
    EXPECT_EQ(parse("save-yaml")->request["cmd"], "save_yaml");
    EXPECT_FALSE(parse("save-yaml")->request.contains("write"));
    EXPECT_EQ(parse("save-yaml --write")->request, (json{{"cmd", "save_yaml"}, {"write", true}}));
    EXPECT_EQ(parse("save-yaml --write")->kind, cli_kind::text);
    EXPECT_FALSE(parse("save-yaml --wrte"));
    EXPECT_EQ(parse("reload")->kind, cli_kind::text);
    EXPECT_EQ(parse("")->kind, cli_kind::list); // bare ipvsadm lists
}

// ECMP (issue 20): drain [VIP] / undrain [VIP]; no VIP: every VIP.
TEST(parse_cli, drain_and_undrain) {
    EXPECT_EQ(parse("drain")->request, (json{{"cmd", "drain"}}));
    EXPECT_EQ(parse("undrain")->request, (json{{"cmd", "undrain"}}));
    EXPECT_EQ(parse("drain 203.0.113.100")->request,
              (json{{"cmd", "drain"}, {"vip", "203.0.113.100"}}));
    EXPECT_EQ(parse("undrain 203.0.113.100")->kind, cli_kind::text);
    EXPECT_EQ(parse("drain 203.0.113.300").error(),
              "invalid VIP `203.0.113.300' (an IPv4 address)");
    EXPECT_EQ(parse("drain 203.0.113.100 203.0.113.101").error(), "usage: ulvsadm drain [VIP]");
}

TEST(parse_cli, errors) {
    EXPECT_FALSE(parse("-A -D -t 203.0.113.100:80")); // multiple commands
    EXPECT_FALSE(parse("-A"));                        // no service
    EXPECT_FALSE(parse("-A -t 203.0.113.300:80"));    // bad address
    EXPECT_FALSE(parse("-A -t 203.0.113.100:99999")); // bad port
    EXPECT_FALSE(parse("-a -t 203.0.113.100:80"));    // no -r
    EXPECT_FALSE(parse("-a -t 203.0.113.100:80 -r 198.51.100.11 -w 70000"));
    EXPECT_FALSE(parse("-a -t 203.0.113.100:80 -r 198.51.100.11 -g -m"));
    EXPECT_FALSE(parse("-A -t 203.0.113.100:80 -u 203.0.113.100:80"));
    EXPECT_FALSE(parse("-A -f 1"));
    EXPECT_FALSE(parse("--bogus"));
    EXPECT_FALSE(parse("--set 1 2"));
    EXPECT_FALSE(parse("frobnicate"));
    EXPECT_EQ(parse("-A -D -t 1.2.3.4:80").error(), "multiple commands specified");
}

TEST(parse_restore, comments_and_errors) {
    auto ok = parse_restore("# saved\n\n-A -t 203.0.113.100:80 -s rr\n"
                            "-a -t 203.0.113.100:80 -r 198.51.100.11:80 -g -w 1\n");
    ASSERT_TRUE(ok) << ok.error();
    EXPECT_EQ((*ok)["cmd"], "batch");
    EXPECT_EQ((*ok)["ops"].size(), 2u);
    auto bad = parse_restore("-A -t 203.0.113.100:80 -s rr\n-L -n\n");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("line 2"), std::string::npos);
}

} // namespace
} // namespace ulvs::mgmt
