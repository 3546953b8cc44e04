// `announce:` and per-service `sloppy:` (issue 20): defaults, values, every mistake with its line
// and column, and the to_yaml round trip.
#include "test_util.h"
#include "ulvs/config/emit.h"

#include <gtest/gtest.h>

using ulvs::ip_addr;
using namespace ulvs::config;
using namespace ulvs::config::test;

namespace {

config load_ok(const std::string& rest) {
    auto r = load_string(std::string(two_ports) + rest, "t.yaml");
    EXPECT_TRUE(r) << (r ? "" : r.error().front().to_string());
    return r ? *r : config{};
}

// A DR service on 203.0.113.100:80 with one real server; `extra` lines go into the service.
std::string service(const std::string& extra, const std::string& fwd = "dr") {
    return "virtual_servers:\n"
           "  - name: web\n"
           "    address: 203.0.113.100\n"
           "    port: 80\n"
           "    protocol: tcp\n"
           "    scheduler: mh\n"
           "    forwarding: " +
           fwd + "\n" + extra +
           "    real_servers:\n"
           "      - {address: 198.51.100.11, port: 80}\n";
}

} // namespace

TEST(Announce, OffByDefault) {
    const config c = load_ok("");
    EXPECT_FALSE(c.announce.enabled);
    EXPECT_EQ(to_yaml(c).find("announce"), std::string::npos);
}

TEST(Announce, Values) {
    const config c =
        load_ok("announce: {table: 100, port: wan, protocol: 201, peers: [203.0.113.1, "
                "203.0.113.2]}\n");
    EXPECT_TRUE(c.announce.enabled);
    EXPECT_EQ(c.announce.table, 100u);
    EXPECT_EQ(c.announce.port, "wan");
    EXPECT_EQ(c.announce.protocol, 201);
    EXPECT_EQ(c.announce.peers, (std::vector<ip_addr>{*ip_addr::parse("203.0.113.1"),
                                                      *ip_addr::parse("203.0.113.2")}));
    const config d = load_ok("announce: {table: 4000000000}\n");
    EXPECT_EQ(d.announce.table, 4000000000u);
    EXPECT_EQ(d.announce.protocol, 200) << "the default";
    EXPECT_TRUE(d.announce.port.empty());
    EXPECT_TRUE(d.announce.peers.empty());
}

TEST(Announce, MistakesWithLineAndColumn) {
    EXPECT_EQ(errors_with_ports("announce: {}\n"),
              std::vector<std::string>{"8:11: announce is missing required key \"table\""});
    EXPECT_EQ(errors_with_ports("announce: {table: 254}\n"),
              std::vector<std::string>{"8:19: announce.table 254 is one of the kernel's own "
                                       "tables (252..255): name a table of its own for the VIP "
                                       "routes"});
    EXPECT_EQ(errors_with_ports("announce: {table: 0}\n").size(), 1u);
    EXPECT_EQ(errors_with_ports("announce: {table: 100, port: dmz}\n"),
              std::vector<std::string>{"8:30: announce.port \"dmz\" names no port"});
    EXPECT_EQ(errors_with_ports("announce: {table: 100, protocol: 4}\n").size(), 1u);
    EXPECT_EQ(errors_with_ports("announce: {table: 100, protocol: 256}\n").size(), 1u);
    EXPECT_EQ(errors_with_ports("announce: {table: 100, peers: [203.0.113.1, 203.0.113.1]}\n"),
              std::vector<std::string>{"8:45: announce.peers[1]: 203.0.113.1 is listed twice"});
    EXPECT_EQ(errors_with_ports("announce: {table: 100, peers: [bgp.example]}\n").size(), 1u);
    EXPECT_EQ(errors_with_ports("announce: {table: 100, bgp: true}\n"),
              std::vector<std::string>{"8:24: unknown key \"bgp\" in announce"});
}

TEST(Announce, RoundTrip) {
    for (const char* text :
         {"announce: {table: 100, port: lan, protocol: 77, peers: [203.0.113.1]}\n",
          "announce: {table: 7}\n"}) {
        const config c = load_ok(text);
        auto again = load_string(to_yaml(c), "again.yaml");
        ASSERT_TRUE(again) << again.error().front().to_string() << "\n" << to_yaml(c);
        EXPECT_EQ(again->announce, c.announce) << to_yaml(c);
    }
}

TEST(Sloppy, OffByDefaultOnWithDrAndTun) {
    EXPECT_FALSE(load_ok(service("")).virtual_servers[0].sloppy);
    EXPECT_TRUE(load_ok(service("    sloppy: true\n")).virtual_servers[0].sloppy);
    EXPECT_TRUE(load_ok(service("    sloppy: true\n", "tun")).virtual_servers[0].sloppy);
    EXPECT_FALSE(load_ok(service("    sloppy: false\n")).virtual_servers[0].sloppy);
}

TEST(Sloppy, RefusedWithNat) {
    EXPECT_EQ(errors_with_ports(service("    sloppy: true\n", "nat")),
              std::vector<std::string>{
                  "15:13: virtual_servers[0].sloppy needs forwarding dr or tun for the service "
                  "and each of its real servers (a NAT flow cannot be picked up mid-stream)"});
    // A NAT real server in a DR service.
    const std::string rs_nat = std::string(two_ports) +
                               "virtual_servers:\n"
                               "  - name: web\n"
                               "    address: 203.0.113.100\n"
                               "    port: 80\n"
                               "    protocol: tcp\n"
                               "    sloppy: true\n"
                               "    real_servers:\n"
                               "      - {address: 198.51.100.11, port: 80, forwarding: nat}\n";
    EXPECT_EQ(errors_of(rs_nat).size(), 1u);
    EXPECT_EQ(errors_with_ports(service("    sloppy: yes\n")).size(), 1u);
}

TEST(Sloppy, RoundTrip) {
    const config c = load_ok(service("    sloppy: true\n"));
    const std::string y = to_yaml(c);
    EXPECT_NE(y.find("    sloppy: true\n"), std::string::npos) << y;
    auto again = load_string(y, "again.yaml");
    ASSERT_TRUE(again) << again.error().front().to_string();
    EXPECT_TRUE(again->virtual_servers[0].sloppy);
}
