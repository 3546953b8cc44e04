#include "ulvs/control/vrrp/packet.h"

#include "ulvs/dataplane/pkt/parse.h"

#include <algorithm>
#include <cstring>

namespace ulvs::ctl::vrrp {

namespace {

constexpr uint8_t type_advert = 1;
constexpr uint8_t auth_none = 0, auth_pass = 1;
constexpr uint8_t tos_internetwork_control = 0xc0; // as keepalived (IPTOS_PREC_INTERNETCONTROL)
constexpr size_t eth_len = 14, ip_len = 20, vrrp_hdr_len = 8, auth_len = 8;

void put16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
void put32(uint8_t* p, uint32_t v) {
    put16(p, uint16_t(v >> 16));
    put16(p + 2, uint16_t(v));
}
uint16_t get16(const uint8_t* p) {
    return uint16_t(p[0] << 8 | p[1]);
}
uint32_t get32(const uint8_t* p) {
    return uint32_t(get16(p)) << 16 | get16(p + 2);
}

constexpr size_t message_len(uint8_t version, size_t n_addrs) {
    return vrrp_hdr_len + 4 * n_addrs + (version == 2 ? auth_len : 0);
}

bool has_auth(const std::array<uint8_t, 8>& a) {
    return std::any_of(a.begin(), a.end(), [](uint8_t b) { return b != 0; });
}

// v3: the IPv4 pseudo-header (src, dst, zero, protocol, VRRP length) then the message; v2: the
// message alone. The checksum field must be zero in `msg` (or hold the value being verified).
uint16_t checksum(uint8_t version, uint32_t src, uint32_t dst, const uint8_t* msg, size_t len) {
    if (version == 2)
        return dp::inet_checksum(msg, uint32_t(len));
    uint8_t buf[12 + message_len(2, max_addrs)];
    put32(buf, src);
    put32(buf + 4, dst);
    buf[8] = 0;
    buf[9] = ip_proto_vrrp;
    put16(buf + 10, uint16_t(len));
    std::memcpy(buf + 12, msg, len);
    return dp::inet_checksum(buf, uint32_t(12 + len));
}

} // namespace

const char* rx_error_name(rx_error e) {
    switch (e) {
    case rx_error::none:
        return "none";
    case rx_error::truncated:
        return "truncated";
    case rx_error::bad_ttl:
        return "bad_ttl";
    case rx_error::bad_version:
        return "bad_version";
    case rx_error::bad_type:
        return "bad_type";
    case rx_error::bad_checksum:
        return "bad_checksum";
    case rx_error::bad_auth:
        return "bad_auth";
    case rx_error::bad_interval:
        return "bad_interval";
    case rx_error::addr_mismatch:
        return "addr_mismatch";
    }
    return "?";
}

size_t build_advert(const advert& a, const std::array<uint8_t, 6>& src_mac,
                    const std::array<uint8_t, 6>& dst_mac, uint16_t ip_id, uint8_t* out) {
    const size_t n = std::min(a.addrs.size(), max_addrs);
    const size_t mlen = message_len(a.version, n);
    std::memcpy(out, dst_mac.data(), 6);
    std::memcpy(out + 6, src_mac.data(), 6);
    put16(out + 12, 0x0800);

    uint8_t* ip = out + eth_len;
    ip[0] = 0x45;
    ip[1] = tos_internetwork_control;
    put16(ip + 2, uint16_t(ip_len + mlen));
    put16(ip + 4, ip_id);
    put16(ip + 6, 0);
    ip[8] = vrrp_ttl;
    ip[9] = ip_proto_vrrp;
    put16(ip + 10, 0);
    put32(ip + 12, a.src_ip);
    put32(ip + 16, a.dst_ip);
    const uint16_t ip_sum = dp::inet_checksum(ip, ip_len);
    std::memcpy(ip + 10, &ip_sum, 2); // inet_checksum returns the wire bytes

    uint8_t* m = ip + ip_len;
    m[0] = uint8_t(a.version << 4 | type_advert);
    m[1] = a.vrid;
    m[2] = a.priority;
    m[3] = uint8_t(n);
    if (a.version == 2) {
        m[4] = has_auth(a.auth) ? auth_pass : auth_none;
        m[5] = uint8_t(a.interval_cs / 100);
    } else {
        put16(m + 4, uint16_t(a.interval_cs & 0x0fff)); // 4 reserved bits, then 12 of interval
    }
    put16(m + 6, 0);
    for (size_t i = 0; i < n; ++i)
        put32(m + vrrp_hdr_len + 4 * i, a.addrs[i]);
    if (a.version == 2)
        std::memcpy(m + vrrp_hdr_len + 4 * n, a.auth.data(), auth_len);
    const uint16_t sum = checksum(a.version, a.src_ip, a.dst_ip, m, mlen);
    std::memcpy(m + 6, &sum, 2);
    return eth_len + ip_len + mlen;
}

rx_error parse_advert(const uint8_t* ip, size_t len, advert& out) {
    if (len < ip_len)
        return rx_error::truncated;
    const size_t ihl = size_t(ip[0] & 0x0f) * 4;
    if (ihl < ip_len || len < ihl + vrrp_hdr_len)
        return rx_error::truncated;
    if (ip[8] != vrrp_ttl)
        return rx_error::bad_ttl;
    const uint8_t* m = ip + ihl;
    const size_t avail = std::min<size_t>(len, get16(ip + 2)) - ihl;
    out = advert{};
    out.version = m[0] >> 4;
    if (out.version != 2 && out.version != 3)
        return rx_error::bad_version;
    if ((m[0] & 0x0f) != type_advert)
        return rx_error::bad_type;
    const size_t n = m[3];
    const size_t mlen = message_len(out.version, n);
    if (n > max_addrs || avail < mlen)
        return rx_error::truncated;
    out.vrid = m[1];
    out.priority = m[2];
    out.src_ip = get32(ip + 12);
    out.dst_ip = get32(ip + 16);
    if (out.version == 2) {
        out.interval_cs = uint16_t(m[5] * 100);
        std::memcpy(out.auth.data(), m + vrrp_hdr_len + 4 * n, auth_len);
        if (m[4] == auth_none)
            out.auth.fill(0); // "ignored on reception" (RFC 3768 5.3.10)
        else if (m[4] != auth_pass)
            return rx_error::bad_auth;
    } else {
        out.interval_cs = get16(m + 4) & 0x0fff;
    }
    for (size_t i = 0; i < n; ++i)
        out.addrs.push_back(get32(m + vrrp_hdr_len + 4 * i));
    // Over a correct message (checksum field included) the sum comes out as 0.
    if (checksum(out.version, out.src_ip, out.dst_ip, m, mlen) != 0)
        return rx_error::bad_checksum;
    return rx_error::none;
}

rx_error check_advert(const advert& got, const advert& ours) {
    if (got.version != ours.version)
        return rx_error::bad_version;
    if (got.version == 2 && got.auth != ours.auth)
        return rx_error::bad_auth;
    if (got.version == 2 && got.interval_cs != ours.interval_cs)
        return rx_error::bad_interval;
    auto a = got.addrs, b = ours.addrs;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b)
        return rx_error::addr_mismatch;
    return rx_error::none;
}

size_t build_garp(uint32_t ip, const std::array<uint8_t, 6>& mac, uint8_t* out) {
    std::memset(out, 0xff, 6);
    std::memcpy(out + 6, mac.data(), 6);
    put16(out + 12, 0x0806);
    uint8_t* a = out + eth_len;
    put16(a, 1); // Ethernet
    put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, 1); // request: updates every neighbour cache that already holds ip
    std::memcpy(a + 8, mac.data(), 6);
    put32(a + 14, ip);
    std::memset(a + 18, 0, 6);
    put32(a + 24, ip);
    return eth_len + 28;
}

} // namespace ulvs::ctl::vrrp
