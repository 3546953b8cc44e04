// What the kernel behind the TAP interfaces should hold for a config (kernel_tap.h): which ports
// need a TAP, each port's addresses, the routes. Pure: kernel_taps::sync compares it with what it
// installed and sends the difference (rtnl.h).
//
// A port needs a TAP when the kernel must talk through it: a health check's target is reached
// through it (on its subnet, or through a route whose gateway is), or an `exception_path.allow`
// rule names it (a rule without a port names them all), or `announce` routes VIPs through it
// (announce.port, else the first port) or reaches one of its peers through it. A config without
// any of these leaves the host's
// interfaces alone (pcap-driven test runs).
#pragma once

#include "ulvs/config/config.h"

#include <compare>
#include <cstdint>
#include <vector>

namespace ulvs::ctl {

struct tap_plan {
    // The default route through a TAP: above any metric a host's own default route usually has,
    // so the host's default (management network) keeps precedence.
    static constexpr uint32_t default_route_metric = 4000;

    struct route {
        ip_prefix dst;
        ip_addr via;
        size_t port = 0; // index of the port whose subnet holds `via`
        uint32_t metric = 0;
        auto operator<=>(const route&) const = default;
    };

    std::vector<bool> needed;                      // by port index
    std::vector<std::vector<ip_prefix>> addresses; // by port index, sorted
    std::vector<route> routes;                     // sorted; through any port (needed or not)

    static tap_plan from_config(const config::config& c);
};

} // namespace ulvs::ctl
