#include "ulvs/common/inet.h"

#include <charconv>
#include <cstdio>

namespace ulvs {

namespace {

bool parse_uint(std::string_view s, unsigned max, unsigned& out) {
    if (s.empty() || s.size() > 5)
        return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size() && out <= max;
}

} // namespace

std::optional<ip_addr> ip_addr::parse(std::string_view text) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        auto dot = text.find('.');
        if ((i < 3) != (dot != std::string_view::npos))
            return std::nullopt;
        unsigned octet;
        std::string_view part = text.substr(0, dot);
        // Reject leading zeros ("010"): inet_aton would read them as octal, a classic surprise.
        if (part.size() > 1 && part[0] == '0')
            return std::nullopt;
        if (!parse_uint(part, 255, octet))
            return std::nullopt;
        v = v << 8 | octet;
        text = i < 3 ? text.substr(dot + 1) : std::string_view{};
    }
    return ip_addr::from_v4(v);
}

std::string ip_addr::to_string() const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", v4 >> 24, (v4 >> 16) & 255, (v4 >> 8) & 255,
                  v4 & 255);
    return buf;
}

std::optional<ip_prefix> ip_prefix::parse(std::string_view text, bool allow_bare) {
    auto slash = text.find('/');
    unsigned len = 32;
    if (slash == std::string_view::npos) {
        if (!allow_bare)
            return std::nullopt;
    } else if (!parse_uint(text.substr(slash + 1), 32, len)) {
        return std::nullopt;
    }
    auto a = ip_addr::parse(text.substr(0, slash));
    if (!a)
        return std::nullopt;
    return ip_prefix{*a, static_cast<uint8_t>(len)};
}

std::string ip_prefix::to_string() const {
    return addr.to_string() + "/" + std::to_string(len);
}

std::optional<mac_addr> mac_addr::parse(std::string_view text) {
    mac_addr m;
    if (text.size() != 17)
        return std::nullopt;
    for (int i = 0; i < 6; ++i) {
        if (i < 5 && text[i * 3 + 2] != ':')
            return std::nullopt;
        unsigned v;
        auto s = text.substr(i * 3, 2);
        auto [p, ec] = std::from_chars(s.data(), s.data() + 2, v, 16);
        if (ec != std::errc{} || p != s.data() + 2)
            return std::nullopt;
        m.b[i] = static_cast<uint8_t>(v);
    }
    return m;
}

std::string mac_addr::to_string() const {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                  b[5]);
    return buf;
}

std::string_view to_string(l4_proto p) {
    return p == l4_proto::tcp ? "tcp" : "udp";
}

std::string_view to_string(fwd_mode m) {
    switch (m) {
    case fwd_mode::nat:
        return "nat";
    case fwd_mode::dr:
        return "dr";
    case fwd_mode::tun:
        return "tun";
    }
    return "?";
}

} // namespace ulvs
