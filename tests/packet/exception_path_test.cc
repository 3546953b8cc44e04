// The kernel exception path's filter (issue 13): frames for the appliance's addresses go through
// the worker and the control lcore's drain (ctl::drain_exceptions) to kernel_taps, whose TAPs
// are socketpair ends here: what the "kernel" gets is read from the other end, what it sends is
// written there. Only replies to the appliance's own health checks (flows the kernel opened to a
// check's target), ICMP errors about them and what exception_path.allow lets in may pass;
// everything else is dropped and counted.
#include "frames.h"
#include "harness.h"
#include "ulvs/config/load.h"
#include "ulvs/control/control_loop.h"
#include "ulvs/control/exception/kernel_tap.h"
#include "ulvs/control/vrrp/engine.h"
#include "ulvs/control/vrrp/overlay.h"

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

using namespace ulvs;

namespace {

constexpr const char* yaml = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
connections: {max: 4096}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 80, health_check: {type: http, port: 8080, connect_timeout: 3s}}
      - {address: 198.51.100.12, port: 80, health_check: {type: udp, port: 53, payload: "00"}}
      - {address: 198.51.100.13, port: 80, health_check: {type: misc, path: "true", timeout: 1s}}
)";
constexpr const char* allow_ssh =
    "exception_path: {allow: [{port: wan, protocol: tcp, ports: [22], sources: "
    "[203.0.113.0/25]}]}\n";

const test::mac6 peer_mac{2, 0, 0, 0, 0, 0x30};
constexpr uint8_t wan = 0, lan = 1;
constexpr uint8_t syn = 0x02, syn_ack = 0x12;

void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

// RFC 1071, written here rather than taken from the code under test.
uint16_t csum(const uint8_t* p, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i < n; i += 2)
        s += uint32_t{p[i]} << 8 | (i + 1 < n ? p[i + 1] : 0);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(~s);
}

// What the kernel sends: a frame from our address (its MAC does not matter here).
test::frame kernel_sends(const test::flow& f, uint8_t flags = syn) {
    return test::make_frame(f, test::pcap_port_mac(lan), peer_mac, flags);
}

// What arrives on a port for the appliance.
test::frame arrives(uint8_t port, const test::flow& f, uint8_t flags = syn_ack) {
    return test::make_frame(f, peer_mac, test::pcap_port_mac(port), flags);
}

// ICMP `type`/`code` from `from` to `to`, quoting the IP header and 8 bytes of `quoted`.
test::frame icmp_about(const std::string& from, const std::string& to, uint8_t port,
                       const test::frame& quoted, uint8_t type = 3, uint8_t code = 3) {
    test::frame f = test::make_frame({from, to, 0, 0, 1}, peer_mac, test::pcap_port_mac(port));
    const size_t q_len = 20 + 8;
    f.resize(14 + 20 + 8);
    f.insert(f.end(), quoted.begin() + 14, quoted.begin() + 14 + q_len);
    uint8_t* ip = f.data() + 14;
    put16(ip + 2, static_cast<uint16_t>(20 + 8 + q_len));
    put16(ip + 10, 0);
    put16(ip + 10, csum(ip, 20));
    uint8_t* icmp = ip + 20;
    icmp[0] = type;
    icmp[1] = code;
    std::memset(icmp + 2, 0, 6);
    put16(icmp + 2, csum(icmp, 8 + q_len));
    return f;
}

test::frame echo_reply(const std::string& from, const std::string& to, uint16_t id) {
    test::frame f = test::make_frame({from, to, id, 1, 1}, peer_mac, test::pcap_port_mac(lan));
    uint8_t* icmp = f.data() + 14 + 20;
    icmp[0] = 0;
    put16(icmp + 2, 0);
    put16(icmp + 2, csum(icmp, f.size() - 14 - 20));
    return f;
}

rte_mbuf* to_mbuf(const test::frame& f) {
    rte_mbuf* m = rte_pktmbuf_alloc(test::test_pool());
    if (m != nullptr)
        std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
    return m;
}

void free_ring(rte_ring* r) {
    void* m;
    while (rte_ring_dequeue(r, &m) == 0)
        rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
}

// ulvsd's control lcore around a rig's worker 0, with kernel_taps over socketpairs: `kernel[p]`
// is the kernel's end of port p's "TAP".
class control_side {
public:
    control_side(test::rig& r, const config::config& cfg) : m_rig(r), m_pub(1) {
        auto snap = ctl::build_snapshot(cfg, r.inputs());
        if (!snap)
            return;
        m_pub.publish(std::move(*snap));
        m_proxy = rte_ring_create("exc_path_proxy", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
        std::vector<int> ours;
        for (int p = 0; p < 2; ++p) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
                return;
            ours.push_back(sv[0]);
            kernel[p] = sv[1];
        }
        taps = ctl::kernel_taps::over_fds(ours);
        taps->sync(cfg);
        env.ports.assign(cfg.ports.size(), ctl::control_port{});
        env.addrs = r.addrs();
        env.proxy_tx = m_proxy;
        env.pub = &m_pub;
        env.neigh = &r.neigh();
        env.taps = taps.get();
        wrt.ctx = &r.worker();
        ok = m_proxy != nullptr && ctl::connect_worker(env, wrt, 0, m_rings).has_value();
    }
    ~control_side() {
        for (rte_ring* ring : m_rings)
            free_ring(ring);
        if (m_proxy != nullptr)
            free_ring(m_proxy);
        for (int fd : kernel)
            if (fd >= 0)
                close(fd);
    }

    // The kernel sends `f` on port `p`'s TAP; the control lcore moves it to the port.
    void kernel_send(uint8_t p, const test::frame& f, uint64_t now) {
        ASSERT_EQ(write(kernel[p], f.data(), f.size()), ssize_t(f.size()));
        taps->poll(now);
        size_t sent = 0;
        taps->from_kernel(test::test_pool(), [&](uint8_t port, rte_mbuf* m) {
            EXPECT_EQ(port, p);
            rte_pktmbuf_free(m);
            ++sent;
        });
        EXPECT_EQ(sent, 1u);
    }

    // `f` received by worker 0 on `port`, then the control lcore's passes: the frames the
    // kernel got on that port's TAP.
    std::vector<test::frame> receive(uint8_t port, const test::frame& f, uint64_t now) {
        taps->poll(now);
        rte_mbuf* m = to_mbuf(f);
        dp::process_burst(m_rig.worker(), port, &m, 1, now);
        dp::flush_stages(m_rig.worker(), wrt);
        for (int pass = 0; pass < 100 && ctl::drain_exceptions(env, now) != 0; ++pass) {
        }
        std::vector<test::frame> got;
        for (int p = 0; p < 2; ++p) {
            uint8_t buf[2048];
            ssize_t n;
            while ((n = read(kernel[p], buf, sizeof buf)) > 0) {
                EXPECT_EQ(p, port) << "a frame reached the TAP of another port";
                got.emplace_back(buf, buf + n);
            }
        }
        return got;
    }
    // True when `f` arriving on `port` reaches the kernel, unchanged.
    bool passes(uint8_t port, const test::frame& f, uint64_t now) {
        const auto got = receive(port, f, now);
        return got.size() == 1 && got[0] == f;
    }

    bool ok = false;
    int kernel[2] = {-1, -1};
    std::unique_ptr<ctl::kernel_taps> taps;
    ctl::control_env env;
    dp::worker_runtime wrt;

private:
    test::rig& m_rig;
    dp::publisher m_pub;
    rte_ring* m_proxy = nullptr;
    std::vector<rte_ring*> m_rings;
};

config::config load(const std::string& extra = "") {
    auto cfg = config::load_string(std::string(yaml) + extra, "exception_path_test.yaml");
    EXPECT_TRUE(cfg) << cfg.error().front().to_string();
    return cfg ? *cfg : config::config{};
}

uint64_t drops(test::rig& r, dp::drop d) {
    return r.worker().ctr.drops[static_cast<size_t>(d)];
}

// Local services on a VIP (issue 15): nginx on :8000 of the VIP, ssh on :22.
constexpr const char* allow_vip_ports =
    "exception_path: {allow: [{port: wan, protocol: tcp, ports: [8000, 80, 22]}]}\n";
const test::flow to_vip_8000{"203.0.113.50", "203.0.113.100", 50000, 8000, 6};

} // namespace

// A TCP check's SYN opens its flow: the server's SYN-ACK to that port passes, before it did not;
// nothing else from that server, or to that port from anyone else, does.
TEST(exception_path, tcp_check_replies_pass_and_nothing_else) {
    const auto cfg = load();
    test::rig r(cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    control_side c(r, cfg);
    ASSERT_TRUE(c.ok);
    const test::flow reply{"198.51.100.11", "198.51.100.1", 8080, 40000, 6};
    EXPECT_FALSE(c.passes(lan, arrives(lan, reply), 1000)) << "before the check's SYN";
    EXPECT_EQ(c.taps->counters().refused, 1u);

    c.kernel_send(lan, kernel_sends({"198.51.100.1", "198.51.100.11", 40000, 8080, 6}), 1001);
    EXPECT_TRUE(c.passes(lan, arrives(lan, reply), 1002));
    EXPECT_TRUE(c.passes(lan, arrives(lan, reply, 0x10), 1003)); // and the rest of it
    EXPECT_EQ(c.taps->counters().check_replies, 2u);

    // Same server, other port; other server, same ports; the check's port from outside.
    EXPECT_FALSE(
        c.passes(lan, arrives(lan, {"198.51.100.11", "198.51.100.1", 8081, 40000, 6}), 1004));
    EXPECT_FALSE(
        c.passes(lan, arrives(lan, {"198.51.100.12", "198.51.100.1", 8080, 40000, 6}), 1005));
    EXPECT_FALSE(
        c.passes(wan, arrives(wan, {"203.0.113.50", "203.0.113.10", 8080, 40000, 6}), 1006));
    EXPECT_FALSE(c.passes(lan, arrives(lan, {"198.51.100.11", "198.51.100.1", 8080, 22, 6}), 1007));
    EXPECT_EQ(c.taps->counters().refused, 5u);
    EXPECT_EQ(c.taps->counters().to_kernel, 2u);
}

// sshd and the metrics port behind the TAP: closed by default, open exactly as allowed.
TEST(exception_path, listeners_of_the_host_only_as_allowed) {
    const test::flow ssh{"203.0.113.50", "203.0.113.10", 50000, 22, 6};
    const test::flow metrics{"203.0.113.50", "203.0.113.10", 50001, 9145, 6};
    {
        const auto cfg = load();
        test::rig r(cfg);
        ASSERT_TRUE(r.ok()) << r.error();
        control_side c(r, cfg);
        ASSERT_TRUE(c.ok);
        EXPECT_FALSE(c.passes(wan, arrives(wan, ssh, syn), 1000));
        EXPECT_FALSE(c.passes(wan, arrives(wan, metrics, syn), 1001));
        EXPECT_EQ(c.taps->counters().refused, 2u);
        EXPECT_EQ(c.taps->counters().to_kernel, 0u);
    }
    const auto cfg = load(allow_ssh);
    test::rig r(cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    control_side c(r, cfg);
    ASSERT_TRUE(c.ok);
    EXPECT_TRUE(c.passes(wan, arrives(wan, ssh, syn), 1000));
    EXPECT_FALSE(c.passes(wan, arrives(wan, metrics, syn), 1001)) << "port not allowed";
    EXPECT_FALSE(
        c.passes(wan, arrives(wan, {"203.0.113.200", "203.0.113.10", 50000, 22, 6}, syn), 1002))
        << "source outside 203.0.113.0/25";
    EXPECT_FALSE(
        c.passes(lan, arrives(lan, {"198.51.100.50", "198.51.100.1", 50000, 22, 6}, syn), 1003))
        << "the rule names wan";
    EXPECT_EQ(c.taps->counters().allowed, 1u);
    EXPECT_EQ(c.taps->counters().refused, 3u);
    // Path MTU discovery for an allowed connection: an ICMP error quoting our reply.
    const test::frame our_reply =
        kernel_sends({"203.0.113.10", "203.0.113.50", 22, 50000, 6}, syn_ack);
    EXPECT_TRUE(
        c.passes(wan, icmp_about("203.0.113.1", "203.0.113.10", wan, our_reply, 3, 4), 1004));
    // A reload without the rule closes it again.
    c.taps->sync(load());
    EXPECT_FALSE(c.passes(wan, arrives(wan, ssh, syn), 1005));
}

// A UDP check fails on an ICMP port unreachable: that error must reach its socket; one quoting
// another port must not.
TEST(exception_path, icmp_errors_about_checks_pass) {
    const auto cfg = load();
    test::rig r(cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    control_side c(r, cfg);
    ASSERT_TRUE(c.ok);
    const test::frame probe = kernel_sends({"198.51.100.1", "198.51.100.12", 41000, 53, 17});
    const test::frame unreachable = icmp_about("198.51.100.12", "198.51.100.1", lan, probe);
    EXPECT_FALSE(c.passes(lan, unreachable, 1000)) << "before the probe";
    c.kernel_send(lan, probe, 1001);
    EXPECT_TRUE(c.passes(lan, unreachable, 1002));
    EXPECT_TRUE(
        c.passes(lan, arrives(lan, {"198.51.100.12", "198.51.100.1", 53, 41000, 17}), 1003));
    const test::frame other = kernel_sends({"198.51.100.1", "198.51.100.12", 41001, 53, 17});
    EXPECT_FALSE(c.passes(lan, icmp_about("198.51.100.12", "198.51.100.1", lan, other), 1004));
    EXPECT_FALSE(
        c.passes(lan, arrives(lan, {"198.51.100.12", "198.51.100.1", 54, 41000, 17}), 1005));
}

// A misc check's script makes its own connections to its server (any port) and may ping it.
TEST(exception_path, misc_check_flows_to_their_server) {
    const auto cfg = load();
    test::rig r(cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    control_side c(r, cfg);
    ASSERT_TRUE(c.ok);
    const test::flow ping{"198.51.100.1", "198.51.100.13", 77, 1, 1};
    EXPECT_FALSE(c.passes(lan, echo_reply("198.51.100.13", "198.51.100.1", 77), 1000));
    c.kernel_send(lan, test::make_frame(ping, test::pcap_port_mac(lan), peer_mac), 1001);
    EXPECT_TRUE(c.passes(lan, echo_reply("198.51.100.13", "198.51.100.1", 77), 1002));
    EXPECT_FALSE(c.passes(lan, echo_reply("198.51.100.13", "198.51.100.1", 78), 1003));
    c.kernel_send(lan, kernel_sends({"198.51.100.1", "198.51.100.13", 42000, 6379, 6}), 1004);
    EXPECT_TRUE(
        c.passes(lan, arrives(lan, {"198.51.100.13", "198.51.100.1", 6379, 42000, 6}), 1005));
    // Not to a server without a misc check.
    c.kernel_send(lan, kernel_sends({"198.51.100.1", "198.51.100.11", 42001, 6379, 6}), 1006);
    EXPECT_FALSE(
        c.passes(lan, arrives(lan, {"198.51.100.11", "198.51.100.1", 6379, 42001, 6}), 1007));
}

// A flow lives while it is used and passes nothing once idle for flow_idle_ms (connect_timeout
// 3s + 5s margin, at least 10 s); it is forgotten soon after.
TEST(exception_path, check_flows_expire) {
    const auto cfg = load();
    test::rig r(cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    control_side c(r, cfg);
    ASSERT_TRUE(c.ok);
    ASSERT_EQ(c.taps->filter().policy().flow_idle_ms, 10000u);
    const test::flow reply{"198.51.100.11", "198.51.100.1", 8080, 40000, 6};
    c.kernel_send(lan, kernel_sends({"198.51.100.1", "198.51.100.11", 40000, 8080, 6}), 1000);
    uint64_t t = 1000;
    for (; t <= 40000; t += 9999) // used every 9.999 s: stays
        EXPECT_TRUE(c.passes(lan, arrives(lan, reply, 0x10), t)) << "at " << t;
    t -= 9999;
    EXPECT_FALSE(c.passes(lan, arrives(lan, reply, 0x10), t + 10000)) << "idle 10 s";
    c.receive(wan, arrives(wan, {"203.0.113.50", "203.0.113.10", 1, 1, 6}), t + 30000);
    EXPECT_EQ(c.taps->filter().flows(), 0u);
}

// Without a rule, what no virtual server takes of a VIP is dropped by the worker (no_service) and
// never offered to the control lcore.
TEST(exception_path, vip_ports_closed_without_a_rule) {
    const auto cfg = load();
    test::rig r(cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    control_side c(r, cfg);
    ASSERT_TRUE(c.ok);
    EXPECT_FALSE(c.passes(wan, arrives(wan, to_vip_8000, syn), 1000));
    EXPECT_EQ(drops(r, dp::drop::no_service), 1u);
    EXPECT_EQ(c.taps->counters().refused, 0u) << "the worker dropped it";
}

// With a rule, a port of an owned VIP that no virtual server uses reaches the kernel as allowed;
// other ports are refused and counted; the virtual server's port never reaches the kernel, even
// when a rule names it.
TEST(exception_path, local_services_on_a_vip_as_allowed) {
    const auto cfg = load(allow_vip_ports);
    test::rig r(cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    control_side c(r, cfg);
    ASSERT_TRUE(c.ok);
    EXPECT_TRUE(c.passes(wan, arrives(wan, to_vip_8000, syn), 1000));
    EXPECT_TRUE(c.passes(wan, arrives(wan, to_vip_8000, 0x10), 1001)); // and the rest of it
    EXPECT_TRUE(
        c.passes(wan, arrives(wan, {"203.0.113.50", "203.0.113.100", 50001, 22, 6}, syn), 1002));
    EXPECT_EQ(c.taps->counters().allowed, 3u);
    EXPECT_FALSE(
        c.passes(wan, arrives(wan, {"203.0.113.50", "203.0.113.100", 50002, 9000, 6}, syn), 1003))
        << "port not allowed";
    EXPECT_FALSE(
        c.passes(wan, arrives(wan, {"203.0.113.50", "203.0.113.100", 50003, 8000, 17}), 1004))
        << "udp not allowed";
    EXPECT_EQ(c.taps->counters().refused, 2u);
    EXPECT_EQ(drops(r, dp::drop::no_service), 0u);
    // :80 is the virtual server's: to its real server (out on lan), not to the kernel (the next
    // pass of the control lcore finds nothing of it).
    const auto out =
        r.burst(wan, {arrives(wan, {"203.0.113.50", "203.0.113.100", 50004, 80, 6}, syn)}, 1005);
    EXPECT_EQ(out[lan].size(), 1u);
    EXPECT_TRUE(
        c.receive(wan, arrives(wan, {"203.0.113.50", "203.0.113.100", 50005, 9000, 6}, syn), 1006)
            .empty());
    EXPECT_EQ(c.taps->counters().allowed, 3u);
    EXPECT_EQ(c.taps->counters().refused, 3u);
    // The control lcore refuses it too, should a worker hand it over (a snapshot of its own).
    rte_mbuf* m = to_mbuf(arrives(wan, {"203.0.113.50", "203.0.113.100", 50006, 80, 6}, syn));
    ASSERT_NE(m, nullptr);
    EXPECT_FALSE(c.taps->to_kernel(r.snap(), m, wan));
    rte_pktmbuf_free(m);
}

// Under VRRP the VIP's local services follow ownership: a BACKUP drops (vip_not_owned), the
// MASTER's kernel gets them.
TEST(exception_path, local_services_on_a_vrrp_vip_follow_mastership) {
    const auto cfg = load(std::string(allow_vip_ports) +
                          "vrrp_instances:\n  - {name: VI_1, port: wan, vrid: 51, priority: 100, "
                          "version: 3, virtual_addresses: [203.0.113.100/25]}\n");
    test::rig r(cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    ctl::vrrp::engine_io io;
    io.port_macs = {test::pcap_port_mac(0), test::pcap_port_mac(1)};
    io.send = [](uint8_t, std::span<const uint8_t>) {};
    ctl::vrrp::engine e(cfg, io);
    r.inputs().vrrp = &e;
    ASSERT_TRUE(r.reconfigure(cfg));
    control_side c(r, cfg);
    ASSERT_TRUE(c.ok);
    e.start(0);
    EXPECT_FALSE(c.passes(wan, arrives(wan, to_vip_8000, syn), 1000));
    EXPECT_EQ(drops(r, dp::drop::vip_not_owned), 1u);
    e.poll(3609, r.snap()); // no advertisement heard: MASTER
    ASSERT_EQ(e.statuses()[0].st, ctl::vrrp::state::master);
    ASSERT_TRUE(e.take_ownership_change());
    ctl::vrrp::publish_ownership(e, r.inputs().owners); // what ulvsd does on a transition
    EXPECT_TRUE(c.passes(wan, arrives(wan, to_vip_8000, syn), 3700));
    EXPECT_EQ(c.taps->counters().allowed, 1u);
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("exception_path_test", 256))
        return 1;
    return RUN_ALL_TESTS();
}
