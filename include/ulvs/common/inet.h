// Address types shared by every plane. IPv4 only in this version, but the types carry a family so
// that IPv6 can be added without changing configuration structures or APIs.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ulvs {

enum class addr_family : uint8_t { v4 = 4, v6 = 6 };

struct ip_addr {
    addr_family family = addr_family::v4;
    uint32_t v4 = 0; // host byte order; meaningful when family == v4

    static constexpr ip_addr from_v4(uint32_t host_order) { return {addr_family::v4, host_order}; }
    static std::optional<ip_addr> parse(std::string_view text);
    std::string to_string() const;
    constexpr auto operator<=>(const ip_addr&) const = default;
};

struct ip_prefix {
    ip_addr addr;
    uint8_t len = 0;

    // "a.b.c.d/len"; a bare address is a host prefix when allow_bare is set.
    static std::optional<ip_prefix> parse(std::string_view text, bool allow_bare = false);
    std::string to_string() const;
    constexpr uint32_t mask_v4() const { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
    constexpr bool contains(ip_addr a) const {
        return a.family == addr.family && (a.v4 & mask_v4()) == (addr.v4 & mask_v4());
    }
    constexpr auto operator<=>(const ip_prefix&) const = default;
};

struct mac_addr {
    std::array<uint8_t, 6> b{};

    static std::optional<mac_addr> parse(std::string_view text); // "02:00:00:00:00:11"
    std::string to_string() const;
    constexpr auto operator<=>(const mac_addr&) const = default;
};

enum class l4_proto : uint8_t { tcp = 6, udp = 17 };
std::string_view to_string(l4_proto p);

// IPVS lb_kind. A real server may override its service's mode.
enum class fwd_mode : uint8_t { nat, dr, tun };
std::string_view to_string(fwd_mode m);

} // namespace ulvs
