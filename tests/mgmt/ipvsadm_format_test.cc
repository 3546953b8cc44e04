// ipvsadm 1.31's layouts, column by column: each expected line is built with ipvsadm's own printf
// format string (from ipvsadm.c) so a difference in width, alignment or suffix fails here.
#include "ulvs/mgmt/ipvsadm_args.h"
#include "ulvs/mgmt/ipvsadm_format.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

namespace ulvs::mgmt {
namespace {

template <class... A> std::string fmt(const char* f, A... a) {
    char buf[512];
    std::snprintf(buf, sizeof buf, f, a...);
    return buf;
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);)
        out.push_back(l);
    return out;
}

json stats(uint64_t c, uint64_t ip, uint64_t op, uint64_t ib, uint64_t ob) {
    return {{"conns", c}, {"inpkts", ip}, {"outpkts", op}, {"inbytes", ib}, {"outbytes", ob}};
}

// Two services given out of order (UDP first, higher VIP first) to check ipvsadm's sorting.
json sample() {
    json web = {
        {"proto", "tcp"},
        {"vip", "203.0.113.100"},
        {"port", 80},
        {"scheduler", "wrr"},
        {"flags", json::array()},
        {"persistent", 50},
        {"netmask", "255.255.255.0"},
        {"stats", stats(123456789, 5, 6, 1234567890123ULL, 99)},
        {"rate", {{"cps", 1}, {"inpps", 2}, {"outpps", 3}, {"inbps", 4}, {"outbps", 5}}},
        {"dests",
         {{{"addr", "198.51.100.12"},
           {"port", 80},
           {"fwd", "nat"},
           {"weight", 0},
           {"upper", 7},
           {"lower", 3},
           {"active", 12},
           {"inactive", 34},
           {"persist", 2},
           {"stats", stats(1, 2, 3, 4, 5)},
           {"rate", {{"cps", 10}, {"inpps", 20}, {"outpps", 30}, {"inbps", 40}, {"outbps", 50}}}},
          {{"addr", "198.51.100.11"},
           {"port", 80},
           {"fwd", "dr"},
           {"weight", 3},
           {"active", 1},
           {"inactive", 0},
           {"stats", stats(0, 0, 0, 0, 0)}}}}};
    json dns = {{"proto", "udp"},    {"vip", "203.0.113.100"}, {"port", 53},
                {"scheduler", "rr"}, {"persistent", nullptr},  {"dests", json::array()}};
    json other = {
        {"proto", "tcp"},
        {"vip", "203.0.113.99"},
        {"port", 443},
        {"scheduler", "sh"},
        {"flags", {"sh-port", "sh-fallback"}},
        {"dests", {{{"addr", "198.51.100.13"}, {"port", 443}, {"fwd", "tun"}, {"weight", 1}}}}};
    return {{"size", 4096},
            {"services", {dns, web, other}},
            {"timeouts", {{"tcp", 900}, {"tcpfin", 120}, {"udp", 300}}}};
}

TEST(largenum, suffixes_as_ipvsadm) {
    EXPECT_EQ(largenum(0, false), fmt("%9llu", 0ULL));
    EXPECT_EQ(largenum(99999999, false), fmt("%9llu", 99999999ULL));
    EXPECT_EQ(largenum(100000000, false), fmt("%8lluK", 100000ULL));
    EXPECT_EQ(largenum(999999999, false), fmt("%8lluK", 999999ULL));
    EXPECT_EQ(largenum(1000000000, false), fmt("%8lluM", 1000ULL));
    EXPECT_EQ(largenum(99999999999ULL, false), fmt("%8lluM", 99999ULL));
    EXPECT_EQ(largenum(100000000000ULL, false), fmt("%8lluG", 100ULL));
    EXPECT_EQ(largenum(100000000000000ULL, false), fmt("%8lluT", 100ULL));
    EXPECT_EQ(largenum(12345678901234567ULL, false), fmt("%8lluT", 12345ULL));
}

TEST(largenum, exact_widens) {
    EXPECT_EQ(largenum(5, true), fmt("%9llu", 5ULL));
    EXPECT_EQ(largenum(12345678, true), fmt("%9llu", 12345678ULL));
    EXPECT_EQ(largenum(123456789, true), " 123456789");
    EXPECT_EQ(largenum(1234567890123ULL, true), " 1234567890123");
}

TEST(render_list, plain_layout) {
    auto l = lines(render_list(sample(), {list_view::plain, true, false, false}));
    ASSERT_EQ(l.size(), 9u);
    EXPECT_EQ(l[0], "IP Virtual Server version 1.2.1 (size=4096)");
    EXPECT_EQ(l[1], "Prot LocalAddress:Port Scheduler Flags");
    EXPECT_EQ(l[2], "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn");
    // Sorted: TCP before UDP, then by address, then port; dests by address.
    EXPECT_EQ(l[3], "TCP  203.0.113.99:443 sh (sh-port,sh-fallback)");
    EXPECT_EQ(l[4],
              fmt("  -> %-28s %-7s %-6d %-10u %-10u", "198.51.100.13:443", "Tunnel", 1, 0u, 0u));
    EXPECT_EQ(l[5], "TCP  203.0.113.100:80 wrr persistent 50 mask 255.255.255.0");
    EXPECT_EQ(l[6],
              fmt("  -> %-28s %-7s %-6d %-10u %-10u", "198.51.100.11:80", "Route", 3, 1u, 0u));
    EXPECT_EQ(l[7],
              fmt("  -> %-28s %-7s %-6d %-10u %-10u", "198.51.100.12:80", "Masq", 0, 12u, 34u));
    EXPECT_EQ(l[8], "UDP  203.0.113.100:53 rr");
}

TEST(render_list, names_ports_without_n) {
    auto l = lines(render_list(sample(), {list_view::plain, false, false, false}));
    EXPECT_EQ(l[5], "TCP  203.0.113.100:http wrr persistent 50 mask 255.255.255.0");
    EXPECT_EQ(l[8], "UDP  203.0.113.100:domain rr");
}

TEST(render_list, stats_layout) {
    auto l = lines(render_list(sample(), {list_view::stats, true, false, false}));
    EXPECT_EQ(l[1], fmt("%-33s %8s %8s %8s %8s %8s", "Prot LocalAddress:Port", "Conns", "InPkts",
                        "OutPkts", "InBytes", "OutBytes"));
    EXPECT_EQ(l[2], "  -> RemoteAddress:Port");
    EXPECT_EQ(l[5], fmt("%-33s", "TCP  203.0.113.100:80") + fmt("%8lluK", 123456ULL) +
                        fmt("%9llu", 5ULL) + fmt("%9llu", 6ULL) + fmt("%8lluG", 1234ULL) +
                        fmt("%9llu", 99ULL));
    EXPECT_EQ(l[7], fmt("  -> %-28s", "198.51.100.12:80") + fmt("%9llu", 1ULL) +
                        fmt("%9llu", 2ULL) + fmt("%9llu", 3ULL) + fmt("%9llu", 4ULL) +
                        fmt("%9llu", 5ULL));
    auto exact = lines(render_list(sample(), {list_view::stats, true, true, false}));
    EXPECT_EQ(exact[5], fmt("%-33s", "TCP  203.0.113.100:80") + " 123456789" + fmt("%9llu", 5ULL) +
                            fmt("%9llu", 6ULL) + " 1234567890123" + fmt("%9llu", 99ULL));
}

TEST(render_list, rate_thresholds_persistent_layouts) {
    auto r = lines(render_list(sample(), {list_view::rate, true, false, false}));
    EXPECT_EQ(r[1], fmt("%-33s %8s %8s %8s %8s %8s", "Prot LocalAddress:Port", "CPS", "InPPS",
                        "OutPPS", "InBPS", "OutBPS"));
    EXPECT_EQ(r[7], fmt("  -> %-28s %8u %8u %8u", "198.51.100.12:80", 10u, 20u, 30u) +
                        fmt("%9llu", 40ULL) + fmt("%9llu", 50ULL));
    auto t = lines(render_list(sample(), {list_view::thresholds, true, false, false}));
    EXPECT_EQ(t[1], fmt("%-33s %-10s %-10s %-10s %-10s", "Prot LocalAddress:Port", "Uthreshold",
                        "Lthreshold", "ActiveConn", "InActConn"));
    EXPECT_EQ(t[7],
              fmt("  -> %-28s %-10u %-10u %-10u %-10u", "198.51.100.12:80", 7u, 3u, 12u, 34u));
    auto p = lines(render_list(sample(), {list_view::persistent_conn, true, false, false}));
    EXPECT_EQ(p[1], fmt("%-33s %-9s %-11s %-10s %-10s", "Prot LocalAddress:Port", "Weight",
                        "PersistConn", "ActiveConn", "InActConn"));
    EXPECT_EQ(p[7], fmt("  -> %-28s %-9u %-11u %-10u %-10u", "198.51.100.12:80", 0u, 2u, 12u, 34u));
}

TEST(render_list, rules_for_save) {
    auto l = lines(render_list(sample(), {list_view::rule, true, false, false}));
    ASSERT_EQ(l.size(), 6u);
    EXPECT_EQ(l[0], "-A -t 203.0.113.99:443 -s sh -b sh-port,sh-fallback");
    EXPECT_EQ(l[1], "-a -t 203.0.113.99:443 -r 198.51.100.13:443 -i -w 1");
    EXPECT_EQ(l[2], "-A -t 203.0.113.100:80 -s wrr -p 50 -M 255.255.255.0");
    EXPECT_EQ(l[3], "-a -t 203.0.113.100:80 -r 198.51.100.11:80 -g -w 3");
    EXPECT_EQ(l[4], "-a -t 203.0.113.100:80 -r 198.51.100.12:80 -m -w 0 -x 7 -y 3");
    EXPECT_EQ(l[5], "-A -u 203.0.113.100:53 -s rr");
}

TEST(render_list, truncates_long_names_as_ipvsadm) {
    json r = {{"services",
               {{{"proto", "tcp"},
                 {"vip", "203.0.113.100"},
                 {"port", 65535},
                 {"scheduler", "rr"},
                 {"dests", {{{"addr", "198.51.100.111"}, {"port", 65535}, {"fwd", "dr"}}}}}}}};
    auto l = lines(render_list(r, {list_view::stats, true, false, false}));
    EXPECT_EQ(l[3].substr(0, 33), fmt("%-33s", "TCP  203.0.113.100:65535"));
    EXPECT_EQ(l[4].substr(0, 33), fmt("  -> %-28s", "198.51.100.111:65535"));
}

TEST(render, timeouts_and_conns) {
    EXPECT_EQ(render_timeouts(sample()), "Timeout (tcp tcpfin udp): 900 120 300\n");
    json c = {{"conns",
               {{{"proto", "tcp"},
                 {"expire", 899},
                 {"state", "ESTABLISHED"},
                 {"client", "203.0.113.130:40000"},
                 {"vip", "203.0.113.100:80"},
                 {"dest", "198.51.100.11:80"}}}}};
    auto l = lines(render_conns_header() + render_conns_page(c));
    EXPECT_EQ(l[0], "IPVS connection entries");
    EXPECT_EQ(l[1],
              fmt("pro expire %-11s %-18s %-18s %s", "state", "source", "virtual", "destination"));
    EXPECT_EQ(l[2], fmt("%-3s %-6s %-11s %-18s %-18s %s", "TCP", "14:59", "ESTABLISHED",
                        "203.0.113.130:40000", "203.0.113.100:80", "198.51.100.11:80"));
}

// -S output fed to -R: the same ops that would rebuild the same services.
TEST(save_restore, round_trip) {
    json list = sample();
    std::string saved = render_list(list, {list_view::rule, false, false, false}); // names
    auto batch = parse_restore(saved);
    ASSERT_TRUE(batch) << batch.error();
    const json& ops = (*batch)["ops"];
    ASSERT_EQ(ops.size(), 6u);
    EXPECT_EQ(ops[0]["cmd"], "add_service");
    EXPECT_EQ(ops[0]["service"], (json{{"proto", "tcp"}, {"vip", "203.0.113.99"}, {"port", 443}}));
    EXPECT_EQ(ops[0]["flags"], (json{"sh-port", "sh-fallback"}));
    EXPECT_EQ(ops[2]["persistent"], 50);
    EXPECT_EQ(ops[2]["netmask"], "255.255.255.0");
    EXPECT_EQ(ops[4]["cmd"], "add_dest");
    EXPECT_EQ(ops[4]["dest"], (json{{"addr", "198.51.100.12"}, {"port", 80}}));
    EXPECT_EQ(ops[4]["fwd"], "nat");
    EXPECT_EQ(ops[4]["weight"], 0);
    EXPECT_EQ(ops[4]["upper"], 7);
    EXPECT_EQ(ops[4]["lower"], 3);
    EXPECT_EQ(ops[5]["service"], (json{{"proto", "udp"}, {"vip", "203.0.113.100"}, {"port", 53}}));
}

TEST(render_conns, ipvsadm_lc_layout_page_by_page) {
    // ipvsadm 1.31 print_conn: "%-3s %-6s %-11s %-18s %-18s %s\n" after its two header lines;
    // pages append lines only.
    EXPECT_EQ(render_conns_header(), "IPVS connection entries\n"
                                     "pro expire state       source             virtual            "
                                     "destination\n");
    const json page = {{"conns",
                        {{{"proto", "tcp"},
                          {"expire", 899},
                          {"state", "ESTABLISHED"},
                          {"client", "203.0.113.130:20000"},
                          {"vip", "203.0.113.100:80"},
                          {"dest", "198.51.100.11:80"}},
                         {{"proto", "udp"},
                          {"expire", 5},
                          {"state", "UDP"},
                          {"client", "203.0.113.7:53000"},
                          {"vip", "203.0.113.100:53"},
                          {"dest", "198.51.100.12:53"}}}},
                       {"more", true},
                       {"cursor", {0, 1234}}};
    EXPECT_EQ(render_conns_page(page),
              "TCP 14:59  ESTABLISHED 203.0.113.130:20000 203.0.113.100:80   198.51.100.11:80\n"
              "UDP 00:05  UDP         203.0.113.7:53000  203.0.113.100:53   198.51.100.12:53\n");
    EXPECT_EQ(render_conns_page({{"conns", json::array()}, {"more", false}}), "");
}

} // namespace
} // namespace ulvs::mgmt
