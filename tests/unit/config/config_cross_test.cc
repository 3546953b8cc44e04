// Checks across items: names, subnets, duplicates. Each mistake is reported once, at the item
// that makes it (the second of a duplicate pair).
#include "test_util.h"

#include <gtest/gtest.h>

using namespace ulvs::config;
using namespace ulvs::config::test;

namespace {

using strings = std::vector<std::string>;

// Services from line 8; real servers of "web" given as flow maps from line 15 on.
std::string web_with(std::string_view real_servers, std::string_view more_services = "") {
    return "virtual_servers:\n"
           "  - name: web\n"
           "    address: 203.0.113.100\n"
           "    port: 80\n"
           "    protocol: tcp\n"
           "    scheduler: wrr\n"
           "    real_servers:\n" +
           std::string(real_servers) + std::string(more_services);
}

} // namespace

TEST(ConfigCross, Ports) {
    EXPECT_EQ(errors_of("logging: {level: info}\nports: []\n"),
              strings{"2:1: at least one port is required (ports: [...])"});
    EXPECT_EQ(errors_of("logging: {level: info}\n"),
              strings{"1:1: at least one port is required (ports: [...])"});
    EXPECT_EQ(errors_of("ports:\n"
                        "  - {name: wan, device: d0}\n"
                        "  - {name: lan, device: d1}\n"
                        "  - {name: wan, device: d2}\n"),
              strings{"4:12: port name \"wan\" is already used by ports[0]"});
    EXPECT_EQ(errors_of("ports:\n"
                        "  - {name: a, device: d0, addresses: [198.51.100.1/24]}\n"
                        "  - {name: b, device: d1, addresses: [203.0.113.1/24, 198.51.100.1/25]}\n"
                        "  - {name: c, device: d2, addresses: [192.0.2.1/24, 192.0.2.1/24]}\n"),
              (strings{"3:55: address 198.51.100.1 is already on port \"a\"",
                       "4:53: address 192.0.2.1 is already earlier on this port"}));
}

TEST(ConfigCross, RoutesAndNeighbors) {
    EXPECT_EQ(errors_with_ports("routes: [{prefix: 0.0.0.0/0, via: 192.0.2.1}]\n"),
              strings{"8:35: route via 192.0.2.1 is not on a connected subnet of any port"});
    EXPECT_EQ(errors_with_ports("routes:\n"
                                "  - {prefix: 192.0.2.0/24, via: 203.0.113.1}\n"
                                "  - {prefix: 192.0.2.0/24, via: 198.51.100.254}\n"),
              strings{"10:5: route 192.0.2.0/24 is already defined by routes[0]"});
    EXPECT_EQ(errors_with_ports(
                  "neighbors: [{address: 198.51.100.11, mac: \"02:00:00:00:00:11\", port: dmz}]\n"),
              strings{"8:70: neighbor port \"dmz\" names no port (ports: wan, lan)"});
    EXPECT_EQ(errors_with_ports(
                  "neighbors: [{address: 198.51.100.11, mac: \"02:00:00:00:00:11\", port: wan}]\n"),
              strings{"8:23: neighbor 198.51.100.11 is not on a subnet of port \"wan\""});
    EXPECT_EQ(
        errors_with_ports("neighbors:\n"
                          "  - {address: 198.51.100.11, mac: \"02:00:00:00:00:11\", port: lan}\n"
                          "  - {address: 198.51.100.11, mac: \"02:00:00:00:00:12\", port: lan}\n"),
        strings{"10:15: neighbor 198.51.100.11 is already defined by neighbors[0]"});
}

TEST(ConfigCross, VirtualServers) {
    // Same VIP:port on another protocol is another service; the same triple is an error.
    std::string more = "  - {name: dns, address: 203.0.113.100, port: 80, protocol: udp, "
                       "scheduler: rr}\n"
                       "  - {name: web2, address: 203.0.113.100, port: 80, protocol: tcp, "
                       "scheduler: rr}\n"
                       "  - {name: dns, address: 203.0.113.101, port: 80, protocol: tcp, "
                       "scheduler: rr}\n";
    EXPECT_EQ(
        errors_with_ports(web_with("      - {address: 198.51.100.11}\n", more)),
        (strings{"17:5: service tcp 203.0.113.100:80 is already defined by virtual_servers[0]",
                 "18:12: virtual server name \"dns\" is already used by virtual_servers[1]"}));
}

TEST(ConfigCross, RealServers) {
    EXPECT_EQ(errors_with_ports(web_with("      - {address: 198.51.100.11, port: 80}\n"
                                         "      - {address: 198.51.100.12, port: 80}\n"
                                         "      - {address: 198.51.100.11, port: 80}\n")),
              strings{"17:9: real server 198.51.100.11 is listed twice in virtual_servers[0] "
                      "(also real_servers[0])"});
    // DR reaches the server on the service port whatever is written: same server.
    EXPECT_EQ(errors_with_ports(web_with("      - {address: 198.51.100.11, port: 80}\n"
                                         "      - {address: 198.51.100.11, port: 8080}\n")),
              strings{"16:9: real server 198.51.100.11 is listed twice in virtual_servers[0] "
                      "(also real_servers[0])"});
    EXPECT_EQ(errors_with_ports(web_with("      - {address: 198.51.100.11}\n"
                                         "      - {address: 192.0.2.11}\n")),
              strings{"16:19: DR real server 192.0.2.11 is not on a connected subnet of any port"});
    // A server on the wan side is still on a connected subnet.
    EXPECT_EQ(errors_with_ports(web_with("      - {address: 203.0.113.50}\n")), strings{});
}

TEST(ConfigCross, NoCascades) {
    // A bad port address makes subnets unknown: the real server and route are not blamed for it.
    EXPECT_EQ(errors_of("ports: [{name: lan, device: d, addresses: [198.51.100.1/33]}]\n"
                        "routes: [{prefix: 0.0.0.0/0, via: 198.51.100.254}]\n" +
                        web_with("      - {address: 198.51.100.11}\n")),
              strings{"1:44: ports[0].addresses[0] must be an IPv4 prefix a.b.c.d/len, got "
                      "\"198.51.100.1/33\""});
    // A bad port name: the neighbor that names it is not blamed.
    EXPECT_EQ(errors_of("ports: [{name: [lan], device: d, addresses: [198.51.100.1/24]}]\n"
                        "neighbors: [{address: 198.51.100.11, mac: \"02:00:00:00:00:11\", "
                        "port: lan}]\n"),
              strings{"1:16: ports[0].name must be a string, got a list"});
    // A bad real server address: no duplicate or subnet errors about it.
    EXPECT_EQ(errors_with_ports(web_with("      - {address: 198.51.100.300}\n"
                                         "      - {address: 198.51.100.300}\n")),
              (strings{"15:19: virtual_servers[0].real_servers[0].address must be an IPv4 "
                       "address a.b.c.d, got \"198.51.100.300\"",
                       "16:19: virtual_servers[0].real_servers[1].address must be an IPv4 "
                       "address a.b.c.d, got \"198.51.100.300\""}));
    // An unknown key or bad weight leaves the server's place known: the subnet check still runs.
    EXPECT_EQ(errors_with_ports(web_with("      - {address: 192.0.2.11, weight: -1}\n")),
              (strings{"15:19: DR real server 192.0.2.11 is not on a connected subnet of any port",
                       "15:39: virtual_servers[0].real_servers[0].weight must be in 0..65535, "
                       "got -1"}));
}
