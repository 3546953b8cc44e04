// Control traffic under a flood (issue 12, "Control traffic is not protected"): the worker's burst
// function and the control lcore's drain joined by the rings ulvsd creates (ctl::connect_worker),
// without NICs. A wave of 5000 pings to the appliance's address, read by the worker before the
// control lcore gets a turn, carries the higher-priority peer's VRRP advertisement: the advert
// must still reach the engine, so the BACKUP stays BACKUP (no split brain).
#include "frames.h"
#include "harness.h"
#include "ulvs/config/load.h"
#include "ulvs/control/control_loop.h"
#include "ulvs/control/vrrp/engine.h"

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <gtest/gtest.h>

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
vrrp_instances:
  - {name: VI_1, port: wan, vrid: 51, priority: 100, version: 3,
     virtual_addresses: [203.0.113.100/25]}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers: [{address: 198.51.100.11, port: 80}]
)";

const test::mac6 peer_mac{2, 0, 0, 0, 0, 0x20};
const test::mac6 client_mac{2, 0, 0, 0, 0, 0x30};
constexpr uint32_t peer_ip = 0xcb007114; // 203.0.113.20, the MASTER at priority 200

// The higher-priority peer's advertisement, as it arrives on wan.
test::frame peer_advert() {
    test::frame f(ctl::vrrp::max_frame);
    ctl::vrrp::advert a;
    a.vrid = 51;
    a.priority = 200;
    a.src_ip = peer_ip;
    a.addrs = {0xcb007164}; // 203.0.113.100
    f.resize(ctl::vrrp::build_advert(a, peer_mac, ctl::vrrp::mcast_mac, 1, f.data()));
    return f;
}

// Echo request number `i` of the flood, from one of 60 clients.
test::frame ping(size_t i, const std::string& dst) {
    const std::string src = "203.0.113." + std::to_string(30 + i % 60);
    return test::make_frame({src, dst, static_cast<uint16_t>(i), static_cast<uint16_t>(i), 1},
                            client_mac, test::pcap_port_mac(0));
}

rte_mbuf* to_mbuf(rte_mempool* pool, const test::frame& f) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
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

// The control lcore of ulvsd (daemon.cc) around a rig's worker 0: its rings from the worker, the
// VRRP engine first in line, the responder; what it transmits lands in `proxy` (as if every port
// lacked a control TX queue), where the test counts it.
class control_side {
public:
    control_side(test::rig& r, const config::config& cfg)
        : m_engine(cfg, engine_io(m_sent)), m_pub(1) {
        r.inputs().vrrp = &m_engine;
        ok = r.reconfigure(cfg);
        auto snap = ctl::build_snapshot(cfg, r.inputs());
        ok = ok && snap.has_value();
        if (!ok)
            return;
        m_pub.publish(std::move(*snap));
        m_proxy = rte_ring_create("ctrl_flood_proxy", 16384, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
        ok = m_proxy != nullptr;
        env.ports.assign(cfg.ports.size(), ctl::control_port{});
        env.addrs = r.addrs();
        env.proxy_tx = m_proxy;
        env.pub = &m_pub;
        env.neigh = &r.neigh();
        env.on_packet = [this](const rte_mbuf* m, uint8_t port, uint64_t now) {
            return m_engine.on_frame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m),
                                     port, now);
        };
        wrt.ctx = &r.worker();
        ok = ok && ctl::connect_worker(env, wrt, 0, m_rings).has_value();
    }
    ~control_side() {
        for (rte_ring* ring : m_rings)
            free_ring(ring);
        if (m_proxy != nullptr)
            free_ring(m_proxy);
    }

    ctl::vrrp::engine& engine() { return m_engine; }

    // The control loop's passes until the rings are empty; returns the frames it transmitted.
    size_t drain(uint64_t now) {
        for (int pass = 0; pass < 10000 && ctl::drain_exceptions(env, now) != 0; ++pass) {
        }
        size_t n = 0;
        void* m;
        while (rte_ring_dequeue(m_proxy, &m) == 0) {
            rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
            ++n;
        }
        return n;
    }

    bool ok = false;
    ctl::control_env env;
    dp::worker_runtime wrt;

private:
    static ctl::vrrp::engine_io engine_io(std::vector<test::frame>& sent) {
        ctl::vrrp::engine_io io;
        io.port_macs = {test::pcap_port_mac(0), test::pcap_port_mac(1)};
        io.send = [&sent](uint8_t, std::span<const uint8_t> f) {
            sent.emplace_back(f.begin(), f.end());
        };
        return io;
    }

    std::vector<test::frame> m_sent;
    ctl::vrrp::engine m_engine;
    dp::publisher m_pub;
    rte_ring* m_proxy = nullptr;
    std::vector<rte_ring*> m_rings;
};

// `frames` received by worker 0 on wan in bursts of dp::max_burst at `now`, each burst handed on
// as its loop does (dp::flush_stages), all before the control lcore runs.
void receive(test::rig& r, control_side& c, const std::vector<test::frame>& frames, uint64_t now) {
    static rte_mempool* pool =
        rte_pktmbuf_pool_create("ctrl_flood_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool, nullptr);
    dp::worker_ctx& w = r.worker();
    for (size_t at = 0; at < frames.size(); at += dp::max_burst) {
        rte_mbuf* pkts[dp::max_burst];
        const auto n = static_cast<uint16_t>(std::min<size_t>(dp::max_burst, frames.size() - at));
        for (uint16_t k = 0; k < n; ++k) {
            pkts[k] = to_mbuf(pool, frames[at + k]);
            ASSERT_NE(pkts[k], nullptr);
        }
        dp::process_burst(w, 0, pkts, n, now);
        for (uint8_t p = 0; p < w.n_ports; ++p)
            ASSERT_EQ(w.tx[p].n, 0u); // nothing here is forwarded (and the rig has no NICs)
        dp::flush_stages(w, c.wrt);
    }
}

// Every second for 6 s (past Master_Down_Interval, 3609 ms, twice over) the peer's advert
// arrives after the 2500th of 5000 pings to the appliance's own address, read in one go.
TEST(ctrl_flood, pings_to_our_address_do_not_starve_the_peers_adverts) {
    auto cfg = config::load_string(yaml, "ctrl_flood_test.yaml");
    ASSERT_TRUE(cfg) << cfg.error().front().to_string();
    test::rig r(*cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    control_side c(r, *cfg);
    ASSERT_TRUE(c.ok);
    c.engine().start(0);
    ASSERT_EQ(c.engine().statuses()[0].st, ctl::vrrp::state::backup);
    c.engine().take_ownership_change(); // whatever start() noted: from here on, none

    size_t replies = 0;
    for (uint64_t now = 1000; now <= 6000; now += 1000) {
        std::vector<test::frame> wave;
        for (size_t i = 0; i < 5000; ++i) {
            if (i == 2500)
                wave.push_back(peer_advert());
            wave.push_back(ping(i, "203.0.113.10"));
        }
        receive(r, c, wave, now);
        replies += c.drain(now);
        c.engine().poll(now + 1, r.snap());
        const auto st = c.engine().statuses()[0];
        EXPECT_EQ(st.st, ctl::vrrp::state::backup) << "at " << now << " ms";
        EXPECT_EQ(st.master_ip, peer_ip) << "at " << now << " ms";
    }
    EXPECT_FALSE(c.engine().take_ownership_change());    // never took the VIP
    EXPECT_EQ(c.engine().statuses()[0].adverts_rx, 6u);  // not one advert lost
    EXPECT_EQ(c.engine().statuses()[0].transitions, 1u); // INIT -> BACKUP only
    EXPECT_GT(replies, 0u);                              // and still answered pings
    // The default policer (1000/s, 100 deep, one worker) passed a full bucket each second: the
    // rest was dropped on the worker, and no ring overflowed.
    const auto& d = r.worker().ctr.drops;
    EXPECT_EQ(replies, 6u * 100u);
    EXPECT_EQ(d[size_t(dp::drop::police_icmp_echo)], 6u * 4900u);
    EXPECT_EQ(d[size_t(dp::drop::ctrl_ring_full)], 0u);
    EXPECT_EQ(d[size_t(dp::drop::ctrl_prio_ring_full)], 0u);
}

// With policing off the flood does fill the exception ring, and the advert still arrives, in the
// control loop's first pass: the priority ring is drained before the exception ring.
TEST(ctrl_flood, the_priority_ring_is_drained_first_even_without_policing) {
    auto cfg = config::load_string(std::string(yaml) + "control_policing: {icmp_echo: {rate: 0}}\n",
                                   "ctrl_flood_test.yaml");
    ASSERT_TRUE(cfg) << cfg.error().front().to_string();
    test::rig r(*cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    control_side c(r, *cfg);
    ASSERT_TRUE(c.ok);
    c.engine().start(0);
    std::vector<test::frame> wave;
    for (size_t i = 0; i < 5000; ++i) {
        if (i == 2500)
            wave.push_back(peer_advert());
        wave.push_back(ping(i, "203.0.113.10"));
    }
    receive(r, c, wave, 1000);
    const auto& d = r.worker().ctr.drops;
    EXPECT_EQ(d[size_t(dp::drop::ctrl_ring_full)], 5000u - 1023u); // a ring holds size - 1
    EXPECT_EQ(d[size_t(dp::drop::police_icmp_echo)], 0u);
    // One pass: the advert, then one burst of pings.
    EXPECT_EQ(ctl::drain_exceptions(c.env, 1001), 1u + dp::max_burst);
    EXPECT_EQ(c.engine().statuses()[0].master_ip, peer_ip);
    EXPECT_EQ(c.drain(1002), 1023u); // every queued ping answered (the first pass's 32 too)
}

// SYNs to our own address (the kernel exception path) are policed by the exception bucket, split
// across the workers, on each worker's own clock. ARP is never policed.
TEST(ctrl_flood, exception_traffic_is_policed_per_worker) {
    std::string text = yaml;
    text.replace(text.find("workers: [1]"), 12, "workers: [1, 2]");
    text += "control_policing: {exception: {rate: 1000, burst: 10}}\n";
    auto cfg = config::load_string(text, "ctrl_flood_test.yaml");
    ASSERT_TRUE(cfg) << cfg.error().front().to_string();
    test::rig r(*cfg, 1000, 2);
    ASSERT_TRUE(r.ok()) << r.error();
    std::vector<test::frame> syns;
    for (uint16_t i = 0; i < 20; ++i)
        syns.push_back(
            test::make_frame({"203.0.113.30", "203.0.113.10", uint16_t(40000 + i), 22, 6},
                             client_mac, test::pcap_port_mac(0), 0x02));
    const auto drops = [&](uint32_t w) {
        return r.worker(w).ctr.drops[size_t(dp::drop::police_exception)];
    };
    // Each worker gets half the depth (5) and half the rate (500/s: one packet per 2 ms).
    r.burst_on(1, 0, syns, 5000);
    EXPECT_EQ(drops(1), 15u);
    EXPECT_EQ(drops(0), 0u);
    r.burst_on(1, 0, syns, 5010);
    EXPECT_EQ(drops(1), 15u + 15u);
    r.burst_on(0, 0, syns, 5010);
    EXPECT_EQ(drops(0), 15u);

    test::frame arp{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    arp.insert(arp.end(), client_mac.begin(), client_mac.end());
    const uint8_t rest[] = {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1};
    arp.insert(arp.end(), std::begin(rest), std::end(rest));
    arp.insert(arp.end(), client_mac.begin(), client_mac.end());
    const uint8_t addrs[] = {203, 0, 113, 30, 0, 0, 0, 0, 0, 0, 203, 0, 113, 10};
    arp.insert(arp.end(), std::begin(addrs), std::end(addrs));
    arp.resize(60, 0);
    EXPECT_EQ(r.burst_on(1, 0, std::vector<test::frame>(32, arp), 5010)[0].size(), 32u);
}

// NAT replies to clients on a connected subnet whose MAC is not known yet: each is handed to the
// control lcore to be held while it resolves the client, over the priority ring (a ping flood must
// not delay it), at most 64 at once per worker (the resolution bucket).
TEST(ctrl_flood, resolution_requests_take_the_priority_ring_within_their_bucket) {
    auto cfg = config::load_string(R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
connections: {max: 4096}
virtual_servers:
  - name: web
    address: 203.0.113.101
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: nat
    real_servers: [{address: 198.51.100.11, port: 8080}]
)",
                                   "ctrl_flood_test.yaml");
    ASSERT_TRUE(cfg) << cfg.error().front().to_string();
    test::rig r(*cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    const test::mac6 rs_mac{2, 0, 0, 0, 0, 0x11};
    std::vector<std::string> clients;
    for (int i = 11; i <= 99; ++i) // 89 clients on wan's subnet, none of them resolved
        clients.push_back("203.0.113." + std::to_string(i));
    for (size_t i = 0; i < clients.size(); i += dp::max_burst) {
        std::vector<test::frame> syns;
        for (size_t k = i; k < std::min(clients.size(), i + dp::max_burst); ++k)
            syns.push_back(test::make_frame({clients[k], "203.0.113.101", 40000, 80, 6}, client_mac,
                                            test::pcap_port_mac(0), 0x02));
        ASSERT_EQ(r.burst(0, syns, 1000)[1].size(), syns.size());
    }
    static rte_mempool* pool =
        rte_pktmbuf_pool_create("ctrl_resolve_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool, nullptr);
    dp::worker_ctx& w = r.worker();
    size_t requests = 0;
    for (size_t i = 0; i < clients.size(); i += dp::max_burst) {
        rte_mbuf* pkts[dp::max_burst];
        uint16_t n = 0;
        for (size_t k = i; k < std::min(clients.size(), i + dp::max_burst); ++k)
            pkts[n++] =
                to_mbuf(pool, test::make_frame({"198.51.100.11", clients[k], 8080, 40000, 6},
                                               rs_mac, test::pcap_port_mac(1), 0x12));
        dp::process_burst(w, 1, pkts, n, 2000);
        EXPECT_EQ(w.to_ctrl.n, 0u);
        for (uint16_t k = 0; k < w.to_ctrl_prio.n; ++k) {
            rte_mbuf* m = w.to_ctrl_prio.pkts[k];
            // towards wan; whole frames the control lcore may hold until the client answers
            EXPECT_EQ(m->port, dp::mbuf_port_resolve_request | dp::mbuf_port_hold | 0);
            rte_pktmbuf_free(m);
        }
        requests += w.to_ctrl_prio.n;
        w.to_ctrl_prio.n = 0;
    }
    EXPECT_EQ(requests, 64u);
    // The carriers are not drops (yet): flush_stages counts them to_control, or a drop when the
    // ring refuses them; the rest, over the bucket, are dropped here.
    EXPECT_EQ(w.ctr.drops[size_t(dp::drop::neigh_unresolved)], clients.size() - 64);
}

// A resolution request rides a packet already counted as dropped (neigh_unresolved): flushing it
// to the control lcore counts it neither as to_control nor, when the ring is full, as a second
// drop, so every received packet is counted once (counters.h, scripts/soak).
TEST(ctrl_flood, resolution_carriers_are_not_counted_twice) {
    static rte_mempool* pool =
        rte_pktmbuf_pool_create("ctrl_carrier_pool", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    static rte_ring* ring =
        rte_ring_create("ctrl_carrier_ring", 4, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(pool, nullptr);
    ASSERT_NE(ring, nullptr);
    test::rig r(*config::load_string(R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
)",
                                     "ctrl_flood_test.yaml"));
    ASSERT_TRUE(r.ok()) << r.error();
    dp::worker_ctx& w = r.worker();
    // The ring holds 3: two carriers and an ARP go in, then two ARPs and a carrier are refused.
    const bool carriers[] = {true, false, true, false, true, false};
    for (bool c : carriers) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        ASSERT_NE(m, nullptr);
        m->port = c ? dp::mbuf_port_resolve_request : 0;
        w.to_ctrl_prio.pkts[w.to_ctrl_prio.n++] = m;
    }
    dp::worker_runtime rt;
    rt.ctx = &w;
    rt.to_ctrl_prio = ring;
    rt.to_ctrl = ring;
    dp::flush_stages(w, rt);
    EXPECT_EQ(w.ctr.to_control, 1u);
    EXPECT_EQ(w.ctr.drops[size_t(dp::drop::ctrl_prio_ring_full)], 2u);
    void* out[4];
    EXPECT_EQ(rte_ring_dequeue_burst(ring, out, 4, nullptr), 3u);
    for (unsigned i = 0; i < 3; ++i)
        rte_pktmbuf_free(static_cast<rte_mbuf*>(out[i]));
    EXPECT_EQ(rte_mempool_in_use_count(pool), 0u);
}

// An advert with a TTL below 255 was routed: it is no VRRP peer's (the engine refuses it), so
// it takes the policed exception ring, not the priority ring.
TEST(ctrl_flood, routed_vrrp_is_not_priority_traffic) {
    auto cfg = config::load_string(yaml, "ctrl_flood_test.yaml");
    ASSERT_TRUE(cfg) << cfg.error().front().to_string();
    test::rig r(*cfg);
    ASSERT_TRUE(r.ok()) << r.error();
    static rte_mempool* pool =
        rte_pktmbuf_pool_create("ctrl_ttl_pool", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool, nullptr);
    dp::worker_ctx& w = r.worker();
    for (uint8_t ttl : {uint8_t{255}, uint8_t{254}}) {
        test::frame f = peer_advert();
        f[14 + 8] = ttl;
        rte_mbuf* m = to_mbuf(pool, f);
        ASSERT_NE(m, nullptr);
        m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD; // the TTL changed, the checksum did not
        dp::process_burst(w, 0, &m, 1, 1000);
        EXPECT_EQ(w.to_ctrl_prio.n, ttl == 255 ? 1u : 0u) << "TTL " << unsigned(ttl);
        EXPECT_EQ(w.to_ctrl.n, ttl == 255 ? 0u : 1u) << "TTL " << unsigned(ttl);
        for (dp::tx_stage* s : {&w.to_ctrl_prio, &w.to_ctrl}) {
            for (uint16_t k = 0; k < s->n; ++k)
                rte_pktmbuf_free(s->pkts[k]);
            s->n = 0;
        }
    }
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("ctrl_flood_test", 512))
        return 1;
    return RUN_ALL_TESTS();
}
