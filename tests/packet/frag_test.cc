// Fragments through the worker's burst path where the packet tables cannot reach: reassembly
// timeouts over injected time, the table's bound and its recovery, chained output copied into one
// mbuf for devices without multi-segment TX (compared byte for byte with the chained output),
// pieces of one datagram arriving at two workers, and IP IDs that never collide across workers.
// rte_eth_dev_conf_get (what a port was configured with) is experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API
#include "frames.h"
#include "harness.h"
#include "ulvs/config/load.h"
#include "ulvs/dataplane/fwd/ip_id.h"
#include "ulvs/dataplane/port/port.h"

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <unistd.h>

using namespace ulvs;
using test::flow;
using test::frame;
using test::mac6;

namespace {

constexpr const char* config_text = R"(
lcores: {control: 0, workers: [1]}
ports:
  - {name: wan, device: "net_pcap0", addresses: [203.0.113.10/25]}
  - {name: lan, device: "net_pcap1", addresses: [198.51.100.1/24]}
routes: [{prefix: 0.0.0.0/0, via: 203.0.113.1}]
neighbors:
  - {address: 203.0.113.1, mac: "02:00:00:00:00:01", port: wan}
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
  - {address: 198.51.100.12, mac: "02:00:00:00:00:12", port: lan}
connections: {max: 4096}
virtual_servers:
  - name: dns
    address: 203.0.113.100
    port: 53
    protocol: udp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 53}
  - name: dns_tcp
    address: 203.0.113.100
    port: 53
    protocol: tcp
    scheduler: rr
    forwarding: nat
    real_servers:
      - {address: 198.51.100.12, port: 5353}
  - name: tun
    address: 203.0.113.102
    port: 53
    protocol: udp
    scheduler: rr
    forwarding: tun
    real_servers:
      - {address: 198.51.100.11, port: 53}
      - {address: 198.51.100.12, port: 53}
)";

const mac6 router = {2, 0, 0, 0, 0, 1};
const mac6 wan = test::pcap_port_mac(0);
constexpr uint64_t timeout = dp::frag_table::timeout_ms;

config::config load() {
    auto c = config::load_string(config_text, "frag_test.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return *c;
}

uint64_t drops(test::rig& r, dp::drop d, uint32_t w = 0) {
    return r.worker(w).ctr.drops[static_cast<size_t>(d)];
}

uint16_t get16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

void set_ip_csum(uint8_t* ip) {
    put16(ip + 10, 0);
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2)
        s += get16(ip + i);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    put16(ip + 10, static_cast<uint16_t>(~s));
}

// A client UDP datagram to `vip`:53 of IP total length `total`, no DF, IP ID `id`.
frame datagram(uint16_t sport, size_t total, uint16_t id, const char* vip = "203.0.113.100",
               const std::string& client = "203.0.113.130") {
    frame f = test::make_frame(flow{client, vip, sport, 53, 17}, router, wan, 0, total - 28);
    uint8_t* ip = f.data() + 14;
    put16(ip + 4, id);
    put16(ip + 6, 0);
    for (size_t i = 42; i < f.size(); ++i)
        f[i] = static_cast<uint8_t>(i * 7);
    set_ip_csum(ip);
    // The UDP checksum is 0 (none): the payload changed after make_frame summed it.
    put16(ip + 26, 0);
    return f;
}

// The IP packet of `whole` (IHL 5) cut into pieces of `sizes` data bytes, the last the rest.
std::vector<frame> split(const frame& whole, std::vector<size_t> sizes) {
    const size_t data = whole.size() - 34;
    std::vector<frame> out;
    size_t off = 0;
    sizes.push_back(data); // the rest
    for (size_t n : sizes) {
        const bool last = off + n >= data;
        n = last ? data - off : n;
        frame f(whole.begin(), whole.begin() + 34);
        f.insert(f.end(), whole.begin() + 34 + static_cast<long>(off),
                 whole.begin() + 34 + static_cast<long>(off + n));
        uint8_t* ip = f.data() + 14;
        put16(ip + 2, static_cast<uint16_t>(20 + n));
        put16(ip + 6, static_cast<uint16_t>((last ? 0 : 0x2000) | off / 8));
        set_ip_csum(ip);
        out.push_back(std::move(f));
        off += n;
        if (last)
            break;
    }
    return out;
}

// Every received packet ended somewhere (counters.h): forwarded, dropped (tx_full aside) or
// merged into a reassembled datagram. None of these tests hands packets to the control lcore or
// leaves fragments waiting when it checks this.
void expect_accounted(test::rig& r, uint32_t workers) {
    uint64_t rx = 0, ended = 0;
    for (uint32_t w = 0; w < workers; ++w) {
        const dp::worker_counters& c = r.worker(w).ctr;
        rx += c.rx_pkts;
        ended += c.forwarded + c.to_control + c.frags_merged;
        for (size_t d = 0; d < c.drops.size(); ++d)
            if (static_cast<dp::drop>(d) != dp::drop::tx_full)
                ended += c.drops[d];
    }
    EXPECT_EQ(rx, ended);
}

size_t total_out(const std::vector<std::vector<frame>>& out) {
    size_t n = 0;
    for (const auto& p : out)
        n += p.size();
    return n;
}

TEST(fragments, incomplete_datagrams_time_out_and_are_counted) {
    test::rig r(load());
    ASSERT_TRUE(r.ok()) << r.error();
    const auto a = split(datagram(50001, 600, 0x101), {296});
    EXPECT_EQ(total_out(r.burst(0, {a[0]}, 1000)), 0u);
    dp::expire_fragments(r.worker(), 1000 + timeout); // not yet: the timeout has to pass
    EXPECT_EQ(drops(r, dp::drop::frag_timeout), 0u);
    dp::expire_fragments(r.worker(), 1001 + timeout); // the worker loop's call
    EXPECT_EQ(drops(r, dp::drop::frag_timeout), 1u);
    // The second piece now starts a datagram of its own, which never completes either; the
    // burst path expires it when later fragments arrive.
    EXPECT_EQ(total_out(r.burst(0, {a[1]}, 5000)), 0u);
    const auto b = split(datagram(50002, 600, 0x102), {296});
    EXPECT_EQ(total_out(r.burst(0, {b[0]}, 5001 + timeout)), 0u);
    EXPECT_EQ(drops(r, dp::drop::frag_timeout), 2u);
    // A datagram completed in time is forwarded whole.
    auto out = r.burst(0, {b[1]}, 5001 + 2 * timeout);
    ASSERT_EQ(out[1].size(), 1u);
    EXPECT_EQ(out[1][0].size(), 14u + 600);
    EXPECT_EQ(r.worker().ctr.reassembled, 1u);
    EXPECT_EQ(r.worker().ctr.frags_in, 4u);
    EXPECT_EQ(r.worker().ctr.frags_merged, 1u);
    expect_accounted(r, 1);
}

TEST(fragments, a_full_table_refuses_new_datagrams_until_they_time_out) {
    test::rig r(load());
    ASSERT_TRUE(r.ok()) << r.error();
    std::vector<frame> firsts;
    for (uint32_t i = 0; i < dp::frag_table::max_datagrams + 10; ++i)
        firsts.push_back(split(datagram(50100, 200, static_cast<uint16_t>(0x1000 + i)), {96})[0]);
    for (size_t i = 0; i < firsts.size(); i += dp::max_burst)
        r.burst(0,
                {firsts.begin() + static_cast<long>(i),
                 firsts.begin() + static_cast<long>(std::min(firsts.size(), i + dp::max_burst))},
                1000);
    EXPECT_EQ(drops(r, dp::drop::frag_table_full), 10u);
    // Held pieces are mbufs from the pool: the bound is what keeps a flood from draining it.
    const auto c = split(datagram(50101, 200, 0x2000), {96});
    r.burst(0, {c[0]}, 1500);
    EXPECT_EQ(drops(r, dp::drop::frag_table_full), 11u);
    // Once the waiting datagrams time out there is room again.
    r.burst(0, {c[0]}, 1001 + timeout);
    EXPECT_EQ(drops(r, dp::drop::frag_timeout), dp::frag_table::max_datagrams);
    auto out = r.burst(0, {c[1]}, 1002 + timeout);
    EXPECT_EQ(out[1].size(), 1u);
    expect_accounted(r, 1);
}

// What leaves lan for `in` (one burst), with each staged mbuf's segment count: the staged
// mbufs are read before the rig would flatten them.
struct staged {
    std::vector<frame> frames;
    std::vector<uint16_t> segs;
};

staged run_lan(bool multi_seg, const std::vector<frame>& in) {
    test::rig r(load());
    EXPECT_TRUE(r.ok()) << r.error();
    dp::worker_ctx& w = r.worker();
    w.ports[1].multi_seg = multi_seg;
    rte_mbuf* pkts[dp::max_burst];
    for (size_t i = 0; i < in.size(); ++i) {
        pkts[i] = rte_pktmbuf_alloc(w.pool);
        std::memcpy(rte_pktmbuf_append(pkts[i], static_cast<uint16_t>(in[i].size())), in[i].data(),
                    in[i].size());
    }
    dp::process_burst(w, 0, pkts, static_cast<uint16_t>(in.size()), 1000);
    staged s;
    for (uint16_t k = 0; k < w.tx[1].n; ++k) {
        rte_mbuf* m = w.tx[1].pkts[k];
        frame f(rte_pktmbuf_pkt_len(m));
        const void* p = rte_pktmbuf_read(m, 0, static_cast<uint32_t>(f.size()), f.data());
        if (p != f.data())
            std::memcpy(f.data(), p, f.size());
        s.frames.push_back(std::move(f));
        s.segs.push_back(m->nb_segs);
        rte_pktmbuf_free(m);
    }
    w.tx[1].n = 0;
    EXPECT_EQ(w.tx[0].n + w.to_ctrl.n, 0);
    return s;
}

TEST(fragments, chains_are_copied_into_one_mbuf_for_ports_without_multi_segment_tx) {
    // Reassembled and cut again (DR, 2028 > 1500), reassembled and sent whole (1200, 3 pieces),
    // and encapsulated then cut (TUN).
    std::vector<frame> in;
    for (const auto& f : split(datagram(50201, 2028, 0x301), {1480}))
        in.push_back(f);
    for (const auto& f : split(datagram(50202, 1200, 0x302), {400, 400}))
        in.push_back(f);
    for (const auto& f : split(datagram(50203, 1600, 0x303, "203.0.113.102"), {1000}))
        in.push_back(f);
    const staged chained = run_lan(true, in);
    const staged flat = run_lan(false, in);
    ASSERT_EQ(chained.frames.size(), 2u + 1 + 2);
    ASSERT_EQ(flat.frames.size(), chained.frames.size());
    size_t n_chained = 0;
    for (size_t i = 0; i < flat.frames.size(); ++i) {
        EXPECT_EQ(flat.frames[i], chained.frames[i]) << "frame " << i;
        EXPECT_EQ(flat.segs[i], 1) << "frame " << i;
        n_chained += chained.segs[i] > 1;
    }
    EXPECT_EQ(n_chained, chained.frames.size()); // without the copy every one is a chain
    // The whole one is the datagram as the client sent it (DR changes the MACs only).
    const frame whole = datagram(50202, 1200, 0x302);
    EXPECT_TRUE(std::equal(whole.begin() + 12, whole.end(), chained.frames[2].begin() + 12));
}

TEST(fragments, pieces_arriving_at_two_workers_make_one_datagram) {
    test::rig r(load(), 1000, 2);
    ASSERT_TRUE(r.ok()) << r.error();
    size_t forwarded = 0;
    for (uint16_t i = 0; i < 16; ++i) {
        const auto p = split(datagram(static_cast<uint16_t>(50300 + i), 1000, 0x400 + i), {496});
        forwarded += r.burst_on(i % 2, 0, {p[0]}, 1000)[1].size();
        forwarded += r.burst_on(1 - i % 2, 0, {p[1]}, 1000)[1].size();
    }
    EXPECT_EQ(forwarded, 16u);
    EXPECT_EQ(r.worker(0).ctr.reassembled + r.worker(1).ctr.reassembled, 16u);
    EXPECT_GT(r.worker(0).ctr.redirected + r.worker(1).ctr.redirected, 0u);
    for (uint32_t w = 0; w < 2; ++w)
        for (size_t d = 0; d < static_cast<size_t>(dp::drop::count); ++d)
            EXPECT_EQ(r.worker(w).ctr.drops[d], 0u) << dp::drop_name(static_cast<dp::drop>(d));
    expect_accounted(r, 2);
}

// Random fragment streams: complete, incomplete, duplicated, overlapping, mis-sized, of TCP,
// UDP and ICMP, to DR and TUN services and to a stranger, with IDs that collide across
// datagrams, over more than a timeout. Nothing may crash, every packet must be accounted for,
// and once everything has timed out every mbuf is back in the pool.
void random_streams(bool multi_seg) {
    test::rig r(load());
    ASSERT_TRUE(r.ok()) << r.error();
    for (uint8_t p = 0; p < r.worker().n_ports; ++p)
        r.worker().ports[p].multi_seg = multi_seg;
    rte_mempool* pool = r.worker().pool;
    const unsigned before = rte_mempool_in_use_count(pool);
    std::mt19937 rng(12);
    auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
    const char* dsts[] = {"203.0.113.100", "203.0.113.102", "203.0.113.77"};
    std::vector<frame> stream;
    for (int d = 0; d < 600; ++d) {
        const uint8_t proto = std::array<uint8_t, 3>{17, 6, 1}[pick(3)];
        frame whole = test::make_frame(flow{"203.0.113.130", dsts[pick(3)],
                                            static_cast<uint16_t>(52000 + pick(50)), 53,
                                            proto == 1 ? uint8_t{17} : proto},
                                       router, wan, 0x02, 8 + pick(2400));
        uint8_t* ip = whole.data() + 14;
        ip[9] = proto;
        put16(ip + 4, static_cast<uint16_t>(pick(64))); // IDs collide across datagrams
        put16(ip + 6, 0);
        set_ip_csum(ip);
        std::vector<size_t> sizes;
        const size_t data = whole.size() - 34;
        for (size_t off = 0; off + 8 < data && sizes.size() < 10;) {
            const size_t n = 8 * (1 + pick(static_cast<uint32_t>(std::min<size_t>(data / 8, 200))));
            if (off + n >= data)
                break;
            sizes.push_back(n);
            off += n;
        }
        if (sizes.empty())
            continue;
        auto pieces = split(whole, sizes);
        std::shuffle(pieces.begin(), pieces.end(), rng);
        if (pick(4) == 0)
            pieces.pop_back(); // never completes
        if (pick(6) == 0)
            pieces.push_back(pieces.front()); // a duplicate
        if (pick(8) == 0) {                   // a piece whose length is cut to no multiple of 8
            frame& f = pieces[pick(static_cast<uint32_t>(pieces.size()))];
            if (f.size() > 40) {
                f.resize(f.size() - 3);
                put16(f.data() + 16, static_cast<uint16_t>(f.size() - 14));
                set_ip_csum(f.data() + 14);
            }
        }
        for (auto& f : pieces)
            stream.push_back(std::move(f));
    }
    uint64_t now = 1000;
    size_t out = 0;
    for (size_t i = 0; i < stream.size(); i += dp::max_burst, now += 25)
        out += total_out(r.burst(
            0,
            {stream.begin() + static_cast<long>(i),
             stream.begin() + static_cast<long>(std::min(stream.size(), i + dp::max_burst))},
            now));
    dp::expire_fragments(r.worker(), now + timeout + 1);
    const dp::worker_counters& c = r.worker().ctr;
    EXPECT_GT(c.reassembled, 100u);
    EXPECT_GT(c.forwarded, 50u);
    EXPECT_GE(out, c.forwarded);
    std::printf("%zu fragments in, %lu datagrams reassembled, %lu forwarded as %zu frames; drops: "
                "timeout %lu, invalid %lu, table full %lu, ip_fragment %lu\n",
                stream.size(), c.reassembled, c.forwarded, out,
                c.drops[static_cast<size_t>(dp::drop::frag_timeout)],
                c.drops[static_cast<size_t>(dp::drop::frag_invalid)],
                c.drops[static_cast<size_t>(dp::drop::frag_table_full)],
                c.drops[static_cast<size_t>(dp::drop::ip_fragment)]);
    for (dp::drop d : {dp::drop::frag_timeout, dp::drop::frag_invalid, dp::drop::ip_fragment,
                       dp::drop::not_for_us})
        EXPECT_GT(c.drops[static_cast<size_t>(d)], 0u) << dp::drop_name(d);
    expect_accounted(r, 1);
    EXPECT_EQ(rte_mempool_in_use_count(pool), before);
}

TEST(fragments, random_streams_leak_nothing_and_account_for_every_packet) {
    random_streams(true);
    random_streams(false); // every chain linearised on its way out
}

TEST(fragments, outer_ip_ids_of_different_workers_never_collide) {
    test::rig r(load(), 1000, 3);
    ASSERT_TRUE(r.ok()) << r.error();
    // Across a wrap: each worker starts 3 IDs below the top of its residue class.
    std::set<uint16_t> seen;
    size_t drawn = 0;
    for (uint32_t w = 0; w < 3; ++w) {
        r.worker(w).next_ip_id = static_cast<uint16_t>(65529 + w);
        for (int k = 0; k < 10; ++k, ++drawn) {
            const uint16_t id = dp::next_ip_id(r.worker(w));
            EXPECT_EQ(id % 3, w);
            seen.insert(id);
        }
    }
    EXPECT_EQ(seen.size(), drawn);
    // Through the TUN path: non-DF datagrams of many flows (clients: the owner is a function of
    // the client's address), spread over the three workers.
    seen.clear();
    size_t n = 0;
    std::set<uint16_t> residues;
    for (uint16_t i = 0; i < 60; ++i) {
        auto out = r.burst_on(0, 0,
                              {datagram(static_cast<uint16_t>(51000 + i), 100, 1, "203.0.113.102",
                                        "203.0.113." + std::to_string(130 + i))},
                              2000);
        for (const frame& f : out[1]) {
            const uint16_t id = get16(f.data() + 14 + 4);
            seen.insert(id);
            residues.insert(id % 3);
            ++n;
        }
    }
    EXPECT_EQ(n, 60u);
    EXPECT_EQ(seen.size(), n); // all distinct, though every inner packet has ID 1
    EXPECT_EQ(residues.size(), 3u);
}

// Opens `devargs` as a port and checks that it asked for multi-segment TX exactly when the
// device offers it. Returns whether the device offers it.
bool check_port(const std::string& name, const std::string& devargs) {
    if (rte_dev_probe(devargs.c_str()) != 0) {
        ADD_FAILURE() << "cannot probe " << devargs;
        return false;
    }
    uint16_t pid = 0;
    EXPECT_EQ(rte_eth_dev_get_port_by_name(name.c_str(), &pid), 0);
    rte_eth_dev_info dev{};
    EXPECT_EQ(rte_eth_dev_info_get(pid, &dev), 0);
    const bool offered = (dev.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
    auto info = dp::port_open({"t", name, 1500, 1, rte_mempool_lookup("test_pool")});
    EXPECT_TRUE(info) << (info ? "" : info.error());
    if (info) {
        EXPECT_EQ(info->tx_multi_seg, offered) << name;
        rte_eth_conf conf{};
        EXPECT_EQ(rte_eth_dev_conf_get(pid, &conf), 0);
        EXPECT_EQ((conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0, offered) << name;
    }
    dp::port_close(pid);
    return offered;
}

TEST(ports, multi_segment_tx_is_requested_where_the_device_has_it) {
    // net_ring offers it; net_pcap (the packet tables' driver) does not, so ulvsd linearises
    // every chain it sends there and the tables check those frames byte for byte.
    EXPECT_TRUE(check_port("net_ring_frag0", "net_ring_frag0"));
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("ulvs-frag-port-" + std::to_string(getpid()));
    fs::create_directories(dir);
    {
        std::ofstream rx(dir / "rx.pcap", std::ios::binary); // a pcap header and no frames
        const uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
        rx.write(reinterpret_cast<const char*>(hdr), sizeof hdr);
    }
    EXPECT_FALSE(
        check_port("net_pcap_frag0", "net_pcap_frag0,rx_pcap=" + (dir / "rx.pcap").string() +
                                         ",tx_pcap=" + (dir / "tx.pcap").string()));
    fs::remove_all(dir);
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("frag")) {
        std::fprintf(stderr, "EAL initialisation failed\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
