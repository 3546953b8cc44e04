// What the kernel behind the TAP interfaces should hold for a config (kernel_tap.h): which ports
// need a TAP, each port's addresses, the routes. Pure: kernel_taps::sync compares it with what it
// installed and sends the difference (rtnl.h).
//
// A port needs a TAP when the kernel must talk through it: a health check's target is reached
// through it (on its subnet, or through a route whose gateway is), an `exception_path.allow` rule
// names it (a rule without a port names them all), `announce` routes VIPs through it
// (announce.port, else the first port) or reaches one of its peers through it, or a VRRP instance
// on it has virtual addresses (the host view below). A config without any of these leaves the
// host's interfaces alone (pcap-driven test runs).
//
// The host view (issue 15): the VIPs this node owns are addresses of the TAPs too, so scripts
// written for LVS (`ip addr | grep VIP`) and services bound to a VIP (exception_filter.h) work:
// - a VRRP instance's virtual addresses, with their configured prefix length (as keepalived adds
//   them), on the instance's port, while the instance is MASTER here (host_addresses());
// - the VIPs of virtual servers (addresses and match destinations) in no instance's
//   virtual_addresses, always owned, as /32 on the port whose subnet holds them; a VIP in no
//   port's subnet (routed to us) goes on no TAP.
// These are not announced to routing daemons: `announce:` does that with routes of its own.
#pragma once

#include "ulvs/config/config.h"

#include <compare>
#include <cstdint>
#include <string>
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

    // One VRRP instance's virtual addresses, on its port.
    struct vrrp_vips {
        std::string instance;
        size_t port = 0;
        std::vector<ip_prefix> addresses; // as configured
        auto operator<=>(const vrrp_vips&) const = default;
    };

    std::vector<bool> needed;                      // by port index
    std::vector<std::vector<ip_prefix>> addresses; // by port index, sorted: the port's own
    std::vector<std::vector<ip_prefix>> vips;      // by port index, sorted: VIPs not under VRRP
    std::vector<vrrp_vips> vrrp;                   // in config order
    std::vector<route> routes;                     // sorted; through any port (needed or not)

    static tap_plan from_config(const config::config& c);

    // What each port's TAP holds (by port index) while the instances named in `masters` are
    // MASTER here: the port's addresses first (so they stay the primary addresses the kernel's
    // own traffic leaves from), then its VIPs; an address already there is not repeated.
    std::vector<std::vector<ip_prefix>>
    host_addresses(const std::vector<std::string>& masters) const;
    // Every VIP the host view may put on a TAP (any VRRP state), unsorted.
    std::vector<ip_addr> host_vip_candidates() const;
};

} // namespace ulvs::ctl
