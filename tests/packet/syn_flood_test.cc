// A spoofed SYN flood against a bounded table (issue 12 acceptance 4): 1M SYNs from addresses
// that never answer, against a table of 64k entries, while established connections that existed
// before the flood keep sending. Established flows forward every packet, and a legitimate client
// still connects during and after the flood.
#include "frames.h"
#include "harness.h"
#include "two_port_config.h"
#include "ulvs/config/load.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace ulvs;

namespace {

const std::string config_yaml = test::two_port_config(R"(neighbors:
  - {address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}
  - {address: 198.51.100.12, mac: "02:00:00:00:00:12", port: lan}
connections: {max: 65536}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    real_servers:
      - {address: 198.51.100.11, port: 80}
      - {address: 198.51.100.12, port: 80}
)");

constexpr uint8_t syn = 0x02, ack = 0x10;
const test::mac6 router = {2, 0, 0, 0, 0, 1};
const test::mac6 wan = test::pcap_port_mac(0);

test::frame tcp_from(const std::string& src, uint16_t sport, uint8_t flags) {
    return test::make_frame({src, "203.0.113.100", sport, 80, 6}, router, wan, flags);
}

// A SYN from a spoofed source: a copy of `tmpl` with another address and port. The worker checks
// the IP header checksum (net_pcap gives no offload flags), so it is patched incrementally
// (RFC 1624); the TCP checksum is not checked by the worker.
test::frame spoofed(const test::frame& tmpl, uint32_t n) {
    test::frame f = tmpl;
    // 203.0.113.192/26 x ports 1024..65535: distinct 5-tuples for 4M SYNs.
    const uint8_t host = static_cast<uint8_t>(192 + (n & 63));
    const uint16_t port = static_cast<uint16_t>(1024 + (n >> 6) % 64512);
    uint8_t* ip = f.data() + 14;
    const uint16_t old_word = static_cast<uint16_t>(ip[14] << 8 | ip[15]);
    ip[15] = host;
    const uint16_t new_word = static_cast<uint16_t>(ip[14] << 8 | ip[15]);
    uint32_t sum = static_cast<uint16_t>(~(ip[10] << 8 | ip[11]) & 0xffff);
    sum += static_cast<uint16_t>(~old_word & 0xffff) + new_word;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    const auto csum = static_cast<uint16_t>(~sum);
    ip[10] = static_cast<uint8_t>(csum >> 8);
    ip[11] = static_cast<uint8_t>(csum);
    ip[20] = static_cast<uint8_t>(port >> 8);
    ip[21] = static_cast<uint8_t>(port);
    return f;
}

TEST(syn_flood, established_flows_and_a_new_client_survive_a_million_spoofed_syns) {
    test::rig r(*config::load_string(config_yaml, "syn_flood.yaml"));
    ASSERT_TRUE(r.ok()) << r.error();
    dp::worker_ctx& w = r.worker();
    ASSERT_EQ(w.conns.capacity(), 65536u);
    uint64_t t = 1000;

    // 1000 established connections from one client before the flood.
    constexpr uint16_t n_est = 1000, est_base = 20000;
    for (uint16_t i = 0; i < n_est; i += 16) {
        std::vector<test::frame> syns, acks;
        for (uint16_t k = i; k < i + 16 && k < n_est; ++k) {
            syns.push_back(tcp_from("203.0.113.130", static_cast<uint16_t>(est_base + k), syn));
            acks.push_back(tcp_from("203.0.113.130", static_cast<uint16_t>(est_base + k), ack));
        }
        ASSERT_EQ(r.burst(0, syns, t)[1].size(), syns.size());
        ASSERT_EQ(r.burst(0, acks, t)[1].size(), acks.size());
    }
    ASSERT_EQ(w.conns.size(), n_est);

    // The flood: bursts of 31 spoofed SYNs and one segment of an established connection, 1 ms
    // apart (32k bursts: 32 s of flood), with the worker loop's bounded expiry between bursts.
    constexpr uint32_t flood = 1'000'000, per_burst = 31;
    const test::frame tmpl = tcp_from("203.0.113.192", 1024, syn);
    uint32_t sent = 0, est_sent = 0, est_forwarded = 0;
    uint64_t most = 0;
    while (sent < flood) {
        std::vector<test::frame> in;
        for (uint32_t k = 0; k < per_burst && sent < flood; ++k)
            in.push_back(spoofed(tmpl, sent++));
        const auto port = static_cast<uint16_t>(est_base + est_sent % n_est);
        in.push_back(tcp_from("203.0.113.130", port, ack));
        ++est_sent;
        const auto out = r.burst(0, in, ++t);
        for (const test::frame& f : out[1]) {
            const test::view v = test::read_frame(f);
            est_forwarded += v.src == "203.0.113.130" && v.sport == port ? 1 : 0;
        }
        dp::expire_conns(w, t, 64);
        most = std::max<uint64_t>(most, w.conns.size());
        // Midway, a legitimate client connects through the flood.
        if (sent == 15 * per_burst * 1000) {
            EXPECT_EQ(r.burst(0, {tcp_from("203.0.113.131", 30000, syn)}, t)[1].size(), 1u);
            EXPECT_EQ(r.burst(0, {tcp_from("203.0.113.131", 30000, ack)}, t + 1)[1].size(), 1u);
        }
    }
    EXPECT_EQ(est_forwarded, est_sent) << "an established flow lost packets during the flood";
    EXPECT_EQ(most, w.conns.capacity()) << "the flood did not fill the table: no pressure shown";
    EXPECT_GT(w.ctr.conns_reclaimed, 0u);
    const uint64_t refused = w.ctr.drops[static_cast<size_t>(dp::drop::conn_table_full)];
    std::printf("flood: %u SYNs, table max %llu, reclaimed %llu, refused %llu, expired %llu\n",
                flood, static_cast<unsigned long long>(most),
                static_cast<unsigned long long>(w.ctr.conns_reclaimed),
                static_cast<unsigned long long>(refused),
                static_cast<unsigned long long>(w.ctr.conns_expired));

    // After the flood: a legitimate client completes its handshake, the old flows still forward.
    t += 1;
    EXPECT_EQ(r.burst(0, {tcp_from("203.0.113.132", 30001, syn)}, t)[1].size(), 1u);
    EXPECT_EQ(r.burst(0, {tcp_from("203.0.113.132", 30001, ack)}, t + 1)[1].size(), 1u);
    EXPECT_EQ(w.ctr.drops[static_cast<size_t>(dp::drop::no_conn)], 0u);
    std::vector<test::frame> est;
    for (uint16_t k = 0; k < 32; ++k)
        est.push_back(tcp_from("203.0.113.130", static_cast<uint16_t>(est_base + k * 31), ack));
    EXPECT_EQ(r.burst(0, est, t + 2)[1].size(), est.size());
}

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!test::init_eal("syn_flood")) {
        std::fprintf(stderr, "EAL initialisation failed\n");
        return 1;
    }
    return RUN_ALL_TESTS();
}
