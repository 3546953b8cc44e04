// Files that must load, and the values and defaults they produce.
#include "test_util.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace std::chrono_literals;
using namespace ulvs::config::test;
using ulvs::ip_addr;
using ulvs::ip_prefix;
using ulvs::mac_addr;
using ulvs::config::check_host;
using ulvs::config::diagnostic;
using ulvs::config::load_file;
using ulvs::config::load_string;
using ulvs::config::real_server_cfg;
using ulvs::config::virtual_server_cfg;
using cfg = ulvs::config::config;
using ulvs::fwd_mode;
using ulvs::l4_proto;

namespace {

std::string join(const std::vector<diagnostic>& ds) {
    std::string s;
    for (const diagnostic& d : ds)
        s += d.to_string() + "\n";
    return s;
}

} // namespace

TEST(ConfigLoad, EveryShippedFileLoads) {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(ULVS_CONFIG_DIR)) {
        if (e.path().extension() != ".yaml")
            continue;
        ++n;
        auto r = load_file(e.path().string());
        EXPECT_TRUE(r.has_value()) << (r ? "" : join(r.error()));
        if (r) {
            EXPECT_EQ(r->path, e.path().string());
        }
    }
    EXPECT_GE(n, 1) << "no config/*.yaml found in " ULVS_CONFIG_DIR;
}

TEST(ConfigLoad, ExampleValues) {
    auto r = load_file(ULVS_CONFIG_DIR "/example.yaml");
    ASSERT_TRUE(r.has_value()) << join(r.error());
    const cfg& c = *r;
    EXPECT_EQ(c.dpdk.eal_args, (std::vector<std::string>{"--no-huge", "-m", "512", "--no-pci"}));
    EXPECT_EQ(c.dpdk.mbufs, 16383u);
    EXPECT_EQ(c.lcores.control, 0u);
    EXPECT_EQ(c.lcores.workers, std::vector<unsigned>{1});
    ASSERT_EQ(c.ports.size(), 2u);
    EXPECT_EQ(c.ports[0].name, "wan");
    EXPECT_EQ(c.ports[0].device, "net_af_packet0,iface=lbwan");
    ASSERT_EQ(c.ports[0].addresses.size(), 1u);
    EXPECT_EQ(c.ports[0].addresses[0], *ip_prefix::parse("203.0.113.10/24"));
    EXPECT_EQ(c.ports[1].name, "lan");
    ASSERT_EQ(c.routes.size(), 1u);
    EXPECT_EQ(c.routes[0].prefix, *ip_prefix::parse("0.0.0.0/0"));
    EXPECT_EQ(c.routes[0].via, *ip_addr::parse("203.0.113.1"));
    ASSERT_EQ(c.neighbors.size(), 1u);
    EXPECT_EQ(c.neighbors[0].mac, *mac_addr::parse("02:00:00:00:00:11"));
    EXPECT_EQ(c.neighbors[0].port, "lan");
    EXPECT_EQ(c.timeouts.tcp, 900s);
    EXPECT_EQ(c.timeouts.tcp_fin, 120s);
    EXPECT_EQ(c.timeouts.udp, 300s);
    EXPECT_EQ(c.connections.max, 1048576u);
    ASSERT_EQ(c.virtual_servers.size(), 3u);
    const virtual_server_cfg& web = c.virtual_servers[0];
    EXPECT_EQ(web.name, "web");
    EXPECT_EQ(web.address, *ip_addr::parse("203.0.113.100"));
    EXPECT_EQ(web.port, 80);
    EXPECT_EQ(web.protocol, l4_proto::tcp);
    EXPECT_EQ(web.scheduler, "wrr");
    EXPECT_EQ(web.forwarding, fwd_mode::dr);
    ASSERT_EQ(web.real_servers.size(), 2u);
    EXPECT_EQ(web.real_servers[0].weight, 3u);
    EXPECT_EQ(web.real_servers[1].forwarding, fwd_mode::dr);
    const virtual_server_cfg& dns = c.virtual_servers[1];
    EXPECT_EQ(dns.protocol, l4_proto::udp);
    EXPECT_EQ(dns.scheduler, "mh");
    EXPECT_EQ(dns.scheduler_flags, std::vector<std::string>{"mh-fallback"});
    EXPECT_EQ(dns.mh_table_size, 65537u);
    EXPECT_TRUE(web.scheduler_flags.empty());
    EXPECT_EQ(web.real_servers[0].thresholds, (ulvs::config::thresholds_cfg{0, 0}));
    EXPECT_EQ(dns.real_servers[1].weight, 0u);
    ASSERT_TRUE(web.persistence);
    EXPECT_EQ(web.persistence->timeout, 300s);
    EXPECT_EQ(web.persistence->granularity, *ip_addr::parse("255.255.255.255"));
    EXPECT_FALSE(web.persistence->expire_quiescent_template);
    EXPECT_FALSE(dns.persistence);
    const virtual_server_cfg& multi = c.virtual_servers[2];
    ASSERT_TRUE(multi.match);
    EXPECT_EQ(multi.match->destinations.size(), 2u);
    EXPECT_EQ(multi.match->ports, (std::vector<uint16_t>{443, 8443}));
    ASSERT_EQ(multi.match->sources.size(), 1u);
    EXPECT_EQ(multi.match->sources[0], *ip_prefix::parse("203.0.113.0/24"));
    EXPECT_EQ(multi.protocol, l4_proto::tcp);
    ASSERT_TRUE(multi.persistence);
    EXPECT_EQ(multi.persistence->timeout, 60s);
    EXPECT_EQ(multi.real_servers[0].port, 0);
    EXPECT_EQ(c.management.socket, "/run/ulvs/ulvsd.sock");
    EXPECT_EQ(c.management.metrics, "127.0.0.1:9145");
    EXPECT_EQ(c.logging.level, "info");
    EXPECT_EQ(c.logging.file, "");
}

TEST(ConfigLoad, DefaultsWhenKeysAreOmitted) {
    auto r = load_string("ports: [{name: p0, device: dev0, addresses: [198.51.100.1/24]}]\n"
                         "virtual_servers:\n"
                         "  - name: web\n"
                         "    address: 203.0.113.100\n"
                         "    port: 80\n"
                         "    protocol: udp\n"
                         "    scheduler: rr\n"
                         "    real_servers: [{address: 198.51.100.11}]\n",
                         "min.yaml");
    ASSERT_TRUE(r.has_value()) << join(r.error());
    const cfg& c = *r;
    EXPECT_EQ(c.path, "min.yaml");
    EXPECT_EQ(c.dpdk.eal_args, (std::vector<std::string>{"--no-huge", "-m", "512", "--no-pci"}));
    EXPECT_EQ(c.dpdk.mbufs, 16383u);
    EXPECT_EQ(c.lcores.control, 0u);
    EXPECT_EQ(c.lcores.workers, std::vector<unsigned>{1});
    EXPECT_EQ(c.lcores.control_loc.line, 0);
    EXPECT_EQ(c.ports[0].mtu, 1500);
    EXPECT_EQ(c.ports[0].loc.line, 1);
    EXPECT_TRUE(c.routes.empty());
    EXPECT_TRUE(c.neighbors.empty());
    EXPECT_EQ(c.timeouts.tcp, 900s);
    EXPECT_EQ(c.timeouts.tcp_fin, 120s);
    EXPECT_EQ(c.timeouts.udp, 300s);
    EXPECT_EQ(c.connections.max, 1048576u);
    const virtual_server_cfg& vs = c.virtual_servers.at(0);
    EXPECT_EQ(vs.forwarding, fwd_mode::dr);
    EXPECT_EQ(vs.loc.line, 3);
    EXPECT_EQ(vs.loc.col, 5);
    const real_server_cfg& rs = vs.real_servers.at(0);
    EXPECT_EQ(rs.port, 0);
    EXPECT_EQ(rs.weight, 1u);
    EXPECT_FALSE(rs.forwarding.has_value());
    EXPECT_EQ(vs.mode_of(rs), fwd_mode::dr);
    EXPECT_EQ(rs.loc.line, 8);
    EXPECT_EQ(rs.loc.col, 20);
    EXPECT_EQ(c.management.socket, "/run/ulvs/ulvsd.sock");
    EXPECT_EQ(c.management.metrics, "127.0.0.1:9145");
    EXPECT_EQ(c.logging.level, "info");
    EXPECT_EQ(c.logging.file, "");
}

TEST(ConfigLoad, ValuesAcceptedAtTheEdges) {
    auto r =
        load_string(std::string(two_ports) +
                        "dpdk: {eal_args: [], mbufs: 16777215}\n"
                        "lcores: {control: 3, workers: [0, 2, 1]}\n"
                        "timeouts: {tcp: 1, tcp_fin: 500ms, udp: 1h}\n"
                        "connections: {max: 67108864}\n"
                        "vrrp_instances: []\n"
                        "virtual_servers:\n"
                        "  - {name: a, address: 203.0.113.100, port: 65535, protocol: tcp,\n"
                        "     scheduler: wrr, real_servers: [{address: 198.51.100.11,\n"
                        "     port: 65535, weight: 65535}, {address: 198.51.100.12, weight: 0}]}\n"
                        "  - {name: b, address: 203.0.113.100, port: 1, protocol: tcp,\n"
                        "     scheduler: rr, real_servers: []}\n"
                        "  - {name: c, address: 203.0.113.100, port: 1, protocol: udp,\n"
                        "     scheduler: rr}\n"
                        "management: {socket: /tmp/x.sock, metrics: \"\"}\n"
                        "logging: {level: \"off\", file: /var/log/ulvs.log}\n",
                    "edge.yaml");
    ASSERT_TRUE(r.has_value()) << join(r.error());
    EXPECT_TRUE(r->dpdk.eal_args.empty());
    EXPECT_EQ(r->dpdk.mbufs, 16777215u); // 1023, the lower edge, is below any config's minimum
    EXPECT_EQ(r->lcores.control, 3u);
    EXPECT_EQ(r->lcores.workers, (std::vector<unsigned>{0, 2, 1}));
    ASSERT_EQ(r->lcores.worker_locs.size(), 3u);
    EXPECT_EQ(r->lcores.worker_locs[1].line, 9);
    EXPECT_EQ(r->lcores.worker_locs[1].col, 35);
    EXPECT_EQ(r->timeouts.tcp, 1s);
    EXPECT_EQ(r->timeouts.tcp_fin, 500ms);
    EXPECT_EQ(r->timeouts.udp, 1h);
    EXPECT_EQ(r->connections.max, 67108864u);
    EXPECT_EQ(r->virtual_servers[0].port, 65535);
    EXPECT_EQ(r->virtual_servers[0].real_servers[0].weight, 65535u);
    EXPECT_EQ(r->virtual_servers[0].real_servers[1].weight, 0u);
    EXPECT_TRUE(r->virtual_servers[2].real_servers.empty());
    EXPECT_EQ(r->management.metrics, "");
    EXPECT_EQ(r->logging.level, "off");
    EXPECT_EQ(r->logging.file, "/var/log/ulvs.log");
}

TEST(ConfigLoad, PortFor) {
    cfg c;
    c.ports.push_back({"a", "d0", {*ip_prefix::parse("10.0.0.1/8")}, 1500, {}});
    c.ports.push_back({"b", "d1", {*ip_prefix::parse("10.1.0.1/16")}, 1500, {}});
    c.ports.push_back({"c",
                       "d2",
                       {*ip_prefix::parse("192.0.2.1/24"), *ip_prefix::parse("198.51.100.1/24")},
                       1500,
                       {}});
    EXPECT_EQ(c.port_for(*ip_addr::parse("10.2.3.4")), 0u);
    EXPECT_EQ(c.port_for(*ip_addr::parse("10.1.3.4")), 1u); // longest prefix wins
    EXPECT_EQ(c.port_for(*ip_addr::parse("198.51.100.200")), 2u);
    EXPECT_EQ(c.port_for(*ip_addr::parse("203.0.113.1")), std::nullopt);
}

TEST(ConfigLoad, CheckHost) {
    // Three workers on two devices that hold descriptors need more than the default pool.
    auto r = load_string(std::string(two_ports) +
                             "lcores:\n  control: 2\n  workers: [3, 4, 1]\ndpdk: {mbufs: 65535}\n",
                         "h.yaml");
    ASSERT_TRUE(r.has_value()) << join(r.error());
    EXPECT_TRUE(check_host(*r, 5).empty());
    auto ds = check_host(*r, 4);
    ASSERT_EQ(ds.size(), 1u);
    EXPECT_EQ(ds[0].to_string(), "h.yaml:10:16: error: worker lcore 4 does not exist on this host "
                                 "(this host has 4 CPUs: 0..3)");
    ds = check_host(*r, 2);
    ASSERT_EQ(ds.size(), 3u);
    EXPECT_EQ(ds[0].line, 9); // control: 2
    EXPECT_EQ(ds[0].col, 12);
    EXPECT_EQ(ds[1].col, 13); // 3
    EXPECT_EQ(ds[2].col, 16); // 4
}

TEST(ConfigLoad, CheckHostOnDefaults) {
    auto r = load_string(two_ports, "d.yaml");
    ASSERT_TRUE(r.has_value()) << join(r.error());
    auto ds = check_host(*r, 1); // default worker 1 on a one-CPU host
    ASSERT_EQ(ds.size(), 1u);
    EXPECT_EQ(ds[0].to_string(), "d.yaml: error: worker lcore 1 does not exist on this host (this "
                                 "host has 1 CPUs: 0..0)");
}

TEST(ConfigLoad, DiagnosticFormat) {
    EXPECT_EQ((diagnostic{"a.yaml", 3, 7, "boom"}.to_string()), "a.yaml:3:7: error: boom");
    EXPECT_EQ((diagnostic{"a.yaml", 0, 0, "gone"}.to_string()), "a.yaml: error: gone");
}

TEST(ConfigLoad, UnreadableFile) {
    auto r = load_file("/nonexistent/ulvs.yaml");
    ASSERT_FALSE(r.has_value());
    ASSERT_EQ(r.error().size(), 1u);
    EXPECT_EQ(r.error()[0].to_string(),
              "/nonexistent/ulvs.yaml: error: cannot read: No such file or directory");
    auto dir = load_file(ULVS_CONFIG_DIR);
    ASSERT_FALSE(dir.has_value());
    EXPECT_EQ(dir.error()[0].message, "cannot read: Is a directory");
}
