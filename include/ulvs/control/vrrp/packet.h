// VRRP advertisements on the wire: version 3 (RFC 5798 section 5) and version 2 (RFC 3768
// section 5), IPv4 only, as keepalived sends them: TTL 255, TOS 0xc0 (internetwork control),
// from the port's own address and MAC (keepalived without use_vmac), to 224.0.0.18 /
// 01:00:5e:00:00:12 or to a unicast peer. Pure functions over bytes, no EAL: unit-tested.
//
// Checksums differ: v3 covers an IPv4 pseudo-header (RFC 5798 5.2.8) plus the VRRP message, v2
// only the VRRP message including its 8 bytes of authentication data.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ulvs::ctl::vrrp {

constexpr uint8_t ip_proto_vrrp = 112;
constexpr uint32_t mcast_group = 0xe0000012; // 224.0.0.18, host order
constexpr std::array<uint8_t, 6> mcast_mac{0x01, 0x00, 0x5e, 0x00, 0x00, 0x12};
constexpr uint8_t vrrp_ttl = 255;
constexpr size_t max_addrs = 20; // keepalived's limit per advertisement
constexpr size_t max_frame = 14 + 20 + 8 + 4 * max_addrs + 8;

// What an advertisement says. Addresses in host order.
struct advert {
    uint8_t version = 3;
    uint8_t vrid = 0;
    uint8_t priority = 0;
    uint16_t interval_cs = 100; // centiseconds (v2 carries seconds: a multiple of 100 here)
    uint32_t src_ip = 0;
    uint32_t dst_ip = mcast_group;
    std::vector<uint32_t> addrs;
    std::array<uint8_t, 8> auth{}; // v2 PASS password, zero-padded; all zero = no auth (type 0)
};

// Build the Ethernet frame of `a` from `src_mac` to `dst_mac` into `out` (>= max_frame bytes);
// returns its length. `ip_id` is the IPv4 identification to use.
size_t build_advert(const advert& a, const std::array<uint8_t, 6>& src_mac,
                    const std::array<uint8_t, 6>& dst_mac, uint16_t ip_id, uint8_t* out);

// Why a received packet was refused (RFC 5798 7.1 / RFC 3768 7.1); counted per reason.
enum class rx_error : uint8_t {
    none,
    truncated,     // shorter than its headers or its address count says
    bad_ttl,       // not 255: from off-link
    bad_version,   // not the instance's version
    bad_type,      // not an ADVERTISEMENT
    bad_checksum,  //
    bad_auth,      // v2: type or password differ from ours
    bad_interval,  // v2: advert interval differs from ours (RFC 3768 7.1 MUST)
    addr_mismatch, // the address list differs from ours (keepalived checks it too)
};
const char* rx_error_name(rx_error e);

// Parse the IPv4 packet (from its IP header on, `len` bytes up to the IP total length) of a VRRP
// advertisement. Checks TTL, version, type, lengths and checksum; the caller checks the rest
// (VRID, auth, interval, addresses) with check_advert since they depend on the instance.
rx_error parse_advert(const uint8_t* ip, size_t len, advert& out);

// Instance-dependent checks of a parsed advertisement against what we send.
rx_error check_advert(const advert& got, const advert& ours);

// A gratuitous ARP for `ip` (host order) from `mac`: broadcast ARP request, sender = target = ip,
// as keepalived sends on becoming master. Returns the frame length (42) written to out.
size_t build_garp(uint32_t ip, const std::array<uint8_t, 6>& mac, uint8_t* out);

} // namespace ulvs::ctl::vrrp
