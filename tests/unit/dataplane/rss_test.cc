// Issue 17, acceptance 2: with the key and RETA port_open programs (port/rss.h), DPDK's own
// Toeplitz (rte_softrss) puts every client-side packet of a connection (hashing its source) and
// every NAT reply on the server side (hashing its destination) on the queue of the owner worker,
// and the table-driven owner_of equals rte_softrss + RETA, for W = 1..8 and device RETA sizes.
#include "ulvs/dataplane/fwd/worker.h"
#include "ulvs/dataplane/port/rss.h"

#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_thash.h>

#include <map>
#include <random>
#include <vector>

using namespace ulvs::dp;

namespace {

// What the NIC computes for a port of this side: Toeplitz over the one selected address (as a
// host-order 32-bit word, rte_softrss' input), then its RETA of `reta` entries as port_open fills
// it (entry j -> reta_queue(j, W)), indexed by the hash modulo its size.
uint32_t nic_queue(rss_side side, uint32_t src_be, uint32_t dst_be, uint32_t reta,
                   uint32_t n_workers) {
    uint32_t word = rte_be_to_cpu_32(side == rss_side::server ? dst_be : src_be);
    const uint32_t h = rte_softrss(&word, 1, rss_key.data());
    return reta_queue(h % reta, n_workers);
}

struct tuple {
    uint32_t client, vip, rip;
    uint16_t cport, vport, rport;
};

std::vector<tuple> random_flows(uint32_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<tuple> v(n);
    for (auto& t : v)
        t = {static_cast<uint32_t>(rng()),         static_cast<uint32_t>(rng()),
             static_cast<uint32_t>(rng()),         static_cast<uint16_t>(rng()),
             static_cast<uint16_t>(rng() % 1024u), static_cast<uint16_t>(rng())};
    return v;
}

TEST(rss, owner_map_hash_equals_rte_softrss) {
    owner_map m;
    build_owner_map(m, 1);
    std::mt19937 rng(17);
    for (uint32_t i = 0; i < 200000; ++i) {
        const uint32_t be = rng();
        uint32_t word = rte_be_to_cpu_32(be);
        ASSERT_EQ(m.hash(be), rte_softrss(&word, 1, rss_key.data())) << std::hex << be;
    }
    // The key's first window and a one-bit address: the table reads the key as the NIC does.
    uint32_t word = 0x80000000u;
    EXPECT_EQ(m.hash(rte_cpu_to_be_32(word)), rte_softrss(&word, 1, rss_key.data()));
    EXPECT_EQ(m.hash(rte_cpu_to_be_32(word)), 0x4496a5d1u);
}

TEST(rss, owner_of_is_the_queue_rss_picks_on_both_sides) {
    const auto flows = random_flows(20000, 4242);
    for (uint32_t w = 1; w <= 8; ++w) {
        owner_map m;
        build_owner_map(m, w);
        for (const uint32_t reta : {64u, 128u, 512u}) {
            std::map<uint32_t, uint32_t> per_queue;
            for (const auto& f : flows) {
                const uint32_t owner = owner_of(m, f.client);
                ASSERT_LT(owner, w);
                // Every wan packet of the connection: client:cport -> VIP:vport, client side.
                ASSERT_EQ(nic_queue(rss_side::client, f.client, f.vip, reta, w), owner)
                    << "W=" << w << " reta=" << reta;
                // Every lan reply (NAT): RIP:rport -> client:cport, server side.
                ASSERT_EQ(nic_queue(rss_side::server, f.rip, f.client, reta, w), owner)
                    << "W=" << w << " reta=" << reta;
                // The software RSS a benchmark feeds workers with agrees too.
                ASSERT_EQ(rss_queue(m, rss_side::client, f.client, f.vip), owner);
                ASSERT_EQ(rss_queue(m, rss_side::server, f.rip, f.client), owner);
                ++per_queue[owner];
            }
            // Every worker gets a share (a fair one: within 25% of 1/W for 20000 flows).
            ASSERT_EQ(per_queue.size(), w);
            for (const auto& [q, n] : per_queue)
                EXPECT_NEAR(static_cast<double>(n), 20000.0 / w, 20000.0 / w * 0.25)
                    << "W=" << w << " queue " << q;
        }
    }
}

// Clients of one /24 (the last octet alone varies) still spread over every worker, evenly: the
// key makes the last octet's 8 bits reach all 6 bits of the RETA index.
TEST(rss, one_client_network_spreads_over_all_workers) {
    for (uint32_t w = 1; w <= 8; ++w) {
        owner_map m;
        build_owner_map(m, w);
        std::map<uint32_t, uint32_t> per_queue;
        for (uint32_t last = 0; last < 256; ++last)
            ++per_queue[owner_of(m, rte_cpu_to_be_32(0xcb007100u | last))]; // 203.0.113.x
        ASSERT_EQ(per_queue.size(), w);
        // 64 pattern entries, 4 addresses each: W's share of the 64 entries, to within one.
        for (const auto& [q, n] : per_queue) {
            EXPECT_GE(n, 4u * (64 / w));
            EXPECT_LE(n, 4u * (64 / w + 1));
        }
    }
}

TEST(rss, hash_fields_per_side) {
    EXPECT_EQ(rss_hf_for(rss_side::client), rss_hf_ipv4 | rss_hf_l3_src_only);
    EXPECT_EQ(rss_hf_for(rss_side::server), rss_hf_ipv4 | rss_hf_l3_dst_only);
    EXPECT_EQ(rss_hf_for(rss_side::none), 0u);
}

} // namespace
