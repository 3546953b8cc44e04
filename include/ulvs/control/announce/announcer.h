// Health-gated VIP announcements for ECMP scale-out (README "Scale-out with ECMP", issue 20).
// ulvsd speaks no BGP: with `announce: {table: N}` it keeps a route "VIP/32 dev ulvs-<port> table
// N proto P scope link" for every VIP this node can serve now, and only for those; a routing
// daemon beside it (BIRD's kernel protocol with `learn`, FRR's `ip import-table N`) exports that
// table to the upstream routers, which spread flows over the nodes by ECMP. A table of its own
// and not addresses on the TAP: the host view (addresses of owned VIPs) stays what it is, and a
// drained VIP is still served here while the routers converge.
//
// A VIP (a virtual server's address, or a destination of a `match:` service) is announced while:
// - at least one virtual server on it is serving (health overlay: a real server up with a weight,
//   or its sorry server; control/health/checker.h serving());
// - it is not drained (`ulvsadm drain [VIP]`; runtime state, kept across reloads, not restarts);
// - where a VRRP instance carries it, this node is MASTER for it (vrrp/engine.h ownership()).
// Else it is withdrawn, with the first reason in that order (no_server, draining, backup).
//
// Nothing waits for the kernel: the routes go through rtnl.h's non-blocking queue. The routes
// are asserted again every `reassert_ms` (replace is idempotent) and after a refused request, so
// a route the kernel dropped (its TAP went down) comes back.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/common/inet.h"
#include "ulvs/config/config.h"
#include "ulvs/control/vrrp/engine.h"

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ulvs::ctl {

class rtnl;

enum class announce_state : uint8_t { announced, no_server, draining, backup };
std::string_view to_string(announce_state s);

struct vip_announcement {
    ip_addr vip;
    announce_state state = announce_state::no_server;
    bool drained = false; // drained (whatever else holds it back)
    bool operator==(const vip_announcement&) const = default;
};

// `ulvsadm drain [VIP]` / `undrain [VIP]`. Draining all VIPs covers VIPs added later too.
class drain_set {
public:
    void drain(ip_addr vip) { m_vips.insert(vip.v4); }
    void drain_all() { m_all = true; }
    // Undraining one VIP while all are drained: every other VIP of `vips` stays drained.
    void undrain(ip_addr vip, const std::vector<ip_addr>& vips);
    void undrain_all() {
        m_all = false;
        m_vips.clear();
    }
    bool drained(ip_addr vip) const { return m_all || m_vips.contains(vip.v4); }
    bool all() const { return m_all; }

private:
    bool m_all = false;
    std::set<uint32_t> m_vips; // host order
};

// Every VIP of `cfg` once, in order of first appearance.
std::vector<ip_addr> config_vips(const config::config& cfg);

struct announce_inputs {
    // Is this virtual server (of cfg) serving? Null: every one is.
    std::function<bool(const config::virtual_server_cfg&)> serving;
    // VRRP's addresses and whether this node holds them; a VIP in none is not under VRRP.
    std::vector<vrrp::owned_addr> vrrp;
};

// The state of each VIP of `cfg` (config_vips order). Pure.
std::vector<vip_announcement> decide(const config::config& cfg, const announce_inputs& in,
                                     const drain_set& drains);

// Where the routes go: the kernel (netlink) in ulvsd, a recorder in tests.
struct route_sink {
    // Install / remove VIP/32 in `table` through interface `dev` with protocol `proto`.
    std::function<void(const std::string&dev, ip_addr vip, uint32_t table, uint8_t proto)> add, del;
    // Requests the kernel refused so far (a growing count triggers a re-assertion); null: none.
    std::function<uint64_t()> failures;
    // Send and read acknowledgements, never blocking; null: nothing to do.
    std::function<unsigned()> poll;
};

class announcer {
public:
    static constexpr uint64_t reassert_ms = 10000;
    static constexpr uint64_t retry_ms = 1000; // after a refused request

    explicit announcer(route_sink sink) : m_sink(std::move(sink)) {}
    // The netlink sink (rtnl.h, its own socket). Errors: the socket could not be opened.
    static std::expected<std::unique_ptr<announcer>, std::string> with_netlink();

    // Decide and bring the kernel's routes to it (only the difference, or all of them again when
    // a re-assertion is due). Cheap when nothing changed. Returns work done.
    unsigned update(const config::config& cfg, const announce_inputs& in, uint64_t now_ms);

    // Management commands: the VIP given (nullopt: all). Errors: a VIP no service of `cfg` has
    // (drain), or none drained (undrain of one VIP). Returns the message for the operator.
    std::expected<std::string, std::string> drain(const config::config& cfg,
                                                  std::optional<ip_addr> vip);
    std::expected<std::string, std::string> undrain(const config::config& cfg,
                                                    std::optional<ip_addr> vip);

    bool enabled() const { return m_enabled; }
    const std::vector<vip_announcement>& vips() const { return m_vips; } // as last decided
    const drain_set& drains() const { return m_drains; }
    uint64_t changes() const { return m_changes; } // announce / withdraw decisions so far
    // `ulvsadm status` lines and /metrics text (ulvs_vip_announced, ulvs_vip_drained).
    std::string status_text() const;
    std::string metrics_text() const;

private:
    struct target {
        std::string dev;
        uint32_t table = 0;
        uint8_t proto = 0;
        bool operator==(const target&) const = default;
    };
    route_sink m_sink;
    drain_set m_drains;
    bool m_enabled = false;
    target m_target;                // where m_installed went
    std::set<uint32_t> m_installed; // VIPs (host order) whose route was asked for
    std::vector<vip_announcement> m_vips;
    uint64_t m_changes = 0;
    uint64_t m_next_assert_ms = 0;
    uint64_t m_failures_seen = 0;
};

} // namespace ulvs::ctl
