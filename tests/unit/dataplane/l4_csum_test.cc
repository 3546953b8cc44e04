// Partial TCP/UDP checksums (issue 16, pkt/l4_csum.h): recognised by value, completed to the
// checksum the textbook RFC 1071 loop computes over pseudo-header and segment.
#include "frame_builder.h"
#include "ulvs/dataplane/pkt/l4_csum.h"

#include <gtest/gtest.h>

#include <random>

using namespace ulvs;

namespace {

// The reference full checksum of the TCP/UDP segment of `f` (field taken as 0), and the
// reference partial one (the folded pseudo-header sum, not complemented, as Linux leaves it).
struct ref_sums {
    uint16_t full;
    uint16_t partial;
};

ref_sums reference(test::bytes f, size_t l4_off, uint8_t proto, size_t csum_at) {
    const size_t len = f.size() - l4_off;
    test::bytes pseudo(12, 0);
    for (int i = 0; i < 4; ++i) {
        pseudo[i] = f[test::eth_len + 12 + i];
        pseudo[4 + i] = f[test::eth_len + 16 + i];
    }
    pseudo[9] = proto;
    test::put16(pseudo, 10, static_cast<uint16_t>(len));
    test::put16(f, l4_off + csum_at, 0);
    test::bytes all = pseudo;
    all.insert(all.end(), f.begin() + static_cast<long>(l4_off), f.end());
    uint16_t full = test::ref_checksum(all.data(), all.size());
    if (proto == 17 && full == 0)
        full = 0xffff;
    return {full, static_cast<uint16_t>(~test::ref_checksum(pseudo.data(), pseudo.size()))};
}

uint16_t get16(const test::bytes& f, size_t off) {
    return static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
}

dp::parsed_pkt parse(const test::bytes& f) {
    dp::parsed_pkt pp{};
    EXPECT_EQ(dp::parse_frame(f.data(), static_cast<uint32_t>(f.size()), true, pp), dp::drop::none);
    return pp;
}

// A random TCP or UDP frame with random addresses, ports and payload of random length.
test::bytes random_frame(std::mt19937& rng, uint8_t proto) {
    test::ipv4_spec s;
    s.proto = proto;
    for (int i = 0; i < 4; ++i) {
        s.src[i] = static_cast<uint8_t>(rng());
        s.dst[i] = static_cast<uint8_t>(rng());
    }
    const size_t payload = rng() % 1461;
    test::bytes l4 = proto == 6 ? test::tcp_segment(static_cast<uint16_t>(rng()),
                                                    static_cast<uint16_t>(rng()), 0x18, payload)
                                : test::udp_datagram(static_cast<uint16_t>(rng()),
                                                     static_cast<uint16_t>(rng()), payload);
    for (size_t i = proto == 6 ? 20 : 8; i < l4.size(); ++i)
        l4[i] = static_cast<uint8_t>(rng());
    return test::ipv4_frame(s, l4);
}

} // namespace

TEST(l4_csum, partial_checksums_are_recognised_and_completed_to_the_full_one) {
    std::mt19937 rng(16);
    for (int round = 0; round < 4000; ++round) {
        const uint8_t proto = round % 2 ? 17 : 6;
        const size_t at = proto == 6 ? 16 : 6;
        test::bytes f = random_frame(rng, proto);
        const size_t l4_off = test::eth_len + 20;
        const ref_sums r = reference(f, l4_off, proto, at);
        test::put16(f, l4_off + at, r.partial); // what a sender with tx offload leaves
        const dp::parsed_pkt pp = parse(f);
        ASSERT_TRUE(dp::l4_csum_partial(f.data(), pp)) << "round " << round;
        dp::l4_csum_complete(f.data(), pp);
        ASSERT_EQ(get16(f, l4_off + at), r.full) << "round " << round;
    }
}

TEST(l4_csum, full_checksums_are_left_alone_or_recomputed_to_themselves) {
    std::mt19937 rng(61);
    int recognised = 0;
    for (int round = 0; round < 4000; ++round) {
        const uint8_t proto = round % 2 ? 17 : 6;
        const size_t at = proto == 6 ? 16 : 6;
        test::bytes f = random_frame(rng, proto);
        const size_t l4_off = test::eth_len + 20;
        const ref_sums r = reference(f, l4_off, proto, at);
        test::put16(f, l4_off + at, r.full);
        const dp::parsed_pkt pp = parse(f);
        if (dp::l4_csum_partial(f.data(), pp)) // the 1-in-65535 coincidence
            ++recognised;
        dp::l4_csum_complete(f.data(), pp);
        ASSERT_EQ(get16(f, l4_off + at), r.full) << "round " << round;
    }
    EXPECT_LE(recognised, 2);
}

TEST(l4_csum, udp_without_checksum_is_never_partial) {
    test::ipv4_spec s;
    s.proto = 17;
    const test::bytes f = test::ipv4_frame(s, test::udp_datagram(5353, 53, 40));
    EXPECT_FALSE(dp::l4_csum_partial(f.data(), parse(f)));
}

TEST(l4_csum, udp_pseudo_header_uses_the_udp_length_not_the_padding) {
    // An IP total length past the UDP length (trailing bytes in the datagram): the pseudo-header
    // names the UDP length, as the sender's kernel did.
    test::ipv4_spec s;
    s.proto = 17;
    test::bytes l4 = test::udp_datagram(1000, 53, 20);
    test::bytes f = test::ipv4_frame(s, l4);
    const size_t l4_off = test::eth_len + 20;
    const ref_sums r = reference(f, l4_off, 17, 6);
    f.insert(f.end(), {0, 0, 0, 0});
    test::put16(f, test::eth_len + 2, static_cast<uint16_t>(20 + l4.size() + 4));
    test::fix_ip_checksum(f);
    test::put16(f, l4_off + 6, r.partial);
    const dp::parsed_pkt pp = parse(f);
    ASSERT_TRUE(dp::l4_csum_partial(f.data(), pp));
    dp::l4_csum_complete(f.data(), pp);
    EXPECT_EQ(get16(f, l4_off + 6), r.full);
}
