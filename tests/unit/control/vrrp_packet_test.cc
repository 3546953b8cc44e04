// VRRP packets: bytes compared with frames scapy built (scapy.layers.vrrp VRRP / VRRPv3, whose
// v3 checksum covers the IPv4 pseudo-header), and every refusal reason of parse/check.
#include "ulvs/control/vrrp/packet.h"

#include <gtest/gtest.h>

#include <vector>

namespace ulvs::ctl::vrrp {
namespace {

constexpr std::array<uint8_t, 6> our_mac{0x02, 0, 0, 0, 0, 0x01};
constexpr uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d;
}

// Ether(src=02:00:00:00:00:01, dst=01:00:5e:00:00:12) / IP(src=203.0.113.10, dst=224.0.0.18,
// ttl=255, tos=0xc0, id=7) / VRRPv3(vrid=51, priority=150, adv=100, addrlist=[203.0.113.100])
const std::vector<uint8_t> scapy_v3{
    0x01, 0x00, 0x5e, 0x00, 0x00, 0x12, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0xc0,
    0x00, 0x20, 0x00, 0x07, 0x00, 0x00, 0xff, 0x70, 0x9e, 0x89, 0xcb, 0x00, 0x71, 0x0a, 0xe0, 0x00,
    0x00, 0x12, 0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0xdf, 0x67, 0xcb, 0x00, 0x71, 0x64};
// ... / VRRP(vrid=51, priority=100, authtype=1, adv=1, addrlist=[203.0.113.100, .101],
// auth "1111")
const std::vector<uint8_t> scapy_v2{
    0x01, 0x00, 0x5e, 0x00, 0x00, 0x12, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
    0xc0, 0x00, 0x2c, 0x00, 0x07, 0x00, 0x00, 0xff, 0x70, 0x9e, 0x7d, 0xcb, 0x00, 0x71, 0x0a,
    0xe0, 0x00, 0x00, 0x12, 0x21, 0x33, 0x64, 0x02, 0x01, 0x01, 0x9e, 0x9b, 0xcb, 0x00, 0x71,
    0x64, 0xcb, 0x00, 0x71, 0x65, 0x31, 0x31, 0x31, 0x31, 0x00, 0x00, 0x00, 0x00};

advert v3_advert() {
    advert a;
    a.version = 3;
    a.vrid = 51;
    a.priority = 150;
    a.interval_cs = 100;
    a.src_ip = ip(203, 0, 113, 10);
    a.addrs = {ip(203, 0, 113, 100)};
    return a;
}

advert v2_advert() {
    advert a;
    a.version = 2;
    a.vrid = 51;
    a.priority = 100;
    a.interval_cs = 100;
    a.src_ip = ip(203, 0, 113, 10);
    a.addrs = {ip(203, 0, 113, 100), ip(203, 0, 113, 101)};
    a.auth = {'1', '1', '1', '1', 0, 0, 0, 0};
    return a;
}

std::vector<uint8_t> build(const advert& a) {
    std::vector<uint8_t> f(max_frame);
    f.resize(build_advert(a, our_mac, mcast_mac, 7, f.data()));
    return f;
}

TEST(vrrp_packet, v3_matches_scapy) {
    EXPECT_EQ(build(v3_advert()), scapy_v3);
}

TEST(vrrp_packet, v2_matches_scapy) {
    EXPECT_EQ(build(v2_advert()), scapy_v2);
}

TEST(vrrp_packet, parses_what_it_builds) {
    for (const advert& a : {v3_advert(), v2_advert()}) {
        auto f = build(a);
        advert got;
        ASSERT_EQ(parse_advert(f.data() + 14, f.size() - 14, got), rx_error::none);
        EXPECT_EQ(got.version, a.version);
        EXPECT_EQ(got.vrid, a.vrid);
        EXPECT_EQ(got.priority, a.priority);
        EXPECT_EQ(got.interval_cs, a.interval_cs);
        EXPECT_EQ(got.src_ip, a.src_ip);
        EXPECT_EQ(got.addrs, a.addrs);
        EXPECT_EQ(got.auth, a.auth);
        EXPECT_EQ(check_advert(got, a), rx_error::none);
    }
}

rx_error parse_bytes(std::vector<uint8_t> f) {
    advert got;
    return parse_advert(f.data() + 14, f.size() - 14, got);
}

TEST(vrrp_packet, refuses_bad_packets) {
    auto f = scapy_v3;
    f[22] = 254; // TTL: came through a router
    EXPECT_EQ(parse_bytes(f), rx_error::bad_ttl);
    f = scapy_v3;
    f[34] = 0x41; // version 4
    EXPECT_EQ(parse_bytes(f), rx_error::bad_version);
    f = scapy_v3;
    f[34] = 0x32; // type 2
    EXPECT_EQ(parse_bytes(f), rx_error::bad_type);
    f = scapy_v3;
    f[36] = 151; // priority changed, checksum not
    EXPECT_EQ(parse_bytes(f), rx_error::bad_checksum);
    f = scapy_v3;
    f[37] = 2; // two addresses announced, one present
    EXPECT_EQ(parse_bytes(f), rx_error::truncated);
    f = scapy_v3;
    f.resize(14 + 20 + 4);
    EXPECT_EQ(parse_bytes(f), rx_error::truncated);
    // v3's checksum covers the pseudo-header: the same message to another destination fails.
    f = scapy_v3;
    f[33] = 0x13; // 224.0.0.19 (IP header checksum is not checked here)
    EXPECT_EQ(parse_bytes(f), rx_error::bad_checksum);
    // v2's does not.
    f = scapy_v2;
    f[33] = 0x13;
    EXPECT_EQ(parse_bytes(f), rx_error::none);
}

TEST(vrrp_packet, instance_checks) {
    advert ours = v2_advert();
    advert got = ours;
    got.auth = {'2', '2', '2', '2', 0, 0, 0, 0};
    EXPECT_EQ(check_advert(got, ours), rx_error::bad_auth);
    got = ours;
    got.interval_cs = 200;
    EXPECT_EQ(check_advert(got, ours), rx_error::bad_interval);
    got = ours;
    got.addrs = {ip(203, 0, 113, 100)};
    EXPECT_EQ(check_advert(got, ours), rx_error::addr_mismatch);
    got = ours;
    std::swap(got.addrs[0], got.addrs[1]); // order does not matter
    EXPECT_EQ(check_advert(got, ours), rx_error::none);
    got = ours;
    got.version = 3;
    EXPECT_EQ(check_advert(got, ours), rx_error::bad_version);
    // v3 adverts may carry another interval: backups learn it (RFC 5798 6.4.2).
    advert o3 = v3_advert(), g3 = o3;
    g3.interval_cs = 50;
    EXPECT_EQ(check_advert(g3, o3), rx_error::none);
}

TEST(vrrp_packet, gratuitous_arp) {
    uint8_t f[64];
    ASSERT_EQ(build_garp(ip(203, 0, 113, 100), our_mac, f), 42u);
    const std::vector<uint8_t> want{
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0,    0,    0, 0,   0x01, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0, 0,   0,    0,    0x01,
        203,  0,    113,  100,  0,    0,    0,    0,    0,    0, 203, 0,    113,  100};
    EXPECT_EQ(std::vector<uint8_t>(f, f + 42), want);
}

} // namespace
} // namespace ulvs::ctl::vrrp
