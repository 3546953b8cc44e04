#include "frame_builder.h"
#include "ulvs/dataplane/pkt/csum.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <cstring>
#include <random>

using namespace ulvs;

namespace {

// A 20-byte IPv4 header's checksum computed from scratch (the builder's RFC 1071 loop).
uint16_t full(const uint8_t* h, size_t n) {
    return htons(test::ref_checksum(h, n));
}

} // namespace

TEST(csum, incremental_address_and_port_updates_equal_a_full_recompute) {
    std::mt19937 rng(7);
    for (int round = 0; round < 2000; ++round) {
        uint8_t h[20];
        for (auto& b : h)
            b = static_cast<uint8_t>(rng());
        h[10] = h[11] = 0;
        uint16_t sum = full(h, 20);
        std::memcpy(h + 10, &sum, 2);

        uint32_t from, to = rng();
        std::memcpy(&from, h + 16, 4);
        std::memcpy(h + 16, &to, 4);
        dp::csum_replace4(sum, from, to);
        uint16_t pfrom, pto = static_cast<uint16_t>(rng());
        std::memcpy(&pfrom, h + 4, 2);
        std::memcpy(h + 4, &pto, 2);
        dp::csum_replace2(sum, pfrom, pto);

        // A header with a correct checksum verifies to 0.
        std::memcpy(h + 10, &sum, 2);
        ASSERT_EQ(test::ref_checksum(h, 20), 0) << "round " << round;
    }
}

TEST(csum, udp_zero_checksum_stays_zero_and_computed_zero_becomes_ffff) {
    uint16_t none = 0;
    dp::udp_csum_replace4(none, 0x01020304, 0x05060708);
    EXPECT_EQ(none, 0);
    // ~(~0x1234 + ~0x0000 + 0x1234) folds to 0: TCP keeps it, UDP must send 0xffff.
    uint16_t tcp = 0x1234, udp = 0x1234;
    dp::csum_replace2(tcp, 0x0000, 0x1234);
    dp::udp_csum_replace2(udp, 0x0000, 0x1234);
    EXPECT_EQ(tcp, 0);
    EXPECT_EQ(udp, 0xffff);
}
