// Health-gated VIP announcements (announcer.h).
#include "ulvs/control/announce/announcer.h"

#include "ulvs/control/exception/rtnl.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <net/if.h>
#include <unordered_map>
#include <unordered_set>

namespace ulvs::ctl {

std::string_view to_string(announce_state s) {
    switch (s) {
    case announce_state::announced:
        return "announced";
    case announce_state::no_server:
        return "no_server";
    case announce_state::draining:
        return "draining";
    case announce_state::backup:
        return "backup";
    }
    return "?";
}

void drain_set::undrain(ip_addr vip, const std::vector<ip_addr>& vips) {
    if (m_all) {
        m_all = false;
        for (const ip_addr& v : vips)
            m_vips.insert(v.v4);
    }
    m_vips.erase(vip.v4);
}

namespace {

template <class Fn> void for_each_vip(const config::virtual_server_cfg& vs, Fn fn) {
    if (vs.match) {
        for (const ip_addr& d : vs.match->destinations)
            fn(d);
    } else {
        fn(vs.address);
    }
}

// "ulvs-<port>", as kernel_taps names it (IFNAMSIZ).
std::string tap_name(const config::config& cfg) {
    std::string port = cfg.announce.port;
    if (port.empty() && !cfg.ports.empty())
        port = cfg.ports.front().name;
    return ("ulvs-" + port).substr(0, IFNAMSIZ - 1);
}

} // namespace

std::vector<ip_addr> config_vips(const config::config& cfg) {
    std::vector<ip_addr> out;
    std::unordered_set<uint32_t> seen;
    for (const auto& vs : cfg.virtual_servers)
        for_each_vip(vs, [&](ip_addr a) {
            if (seen.insert(a.v4).second)
                out.push_back(a);
        });
    return out;
}

std::vector<vip_announcement> decide(const config::config& cfg, const announce_inputs& in,
                                     const drain_set& drains) {
    std::vector<vip_announcement> out;
    std::unordered_map<uint32_t, size_t> at; // VIP -> index in out
    std::vector<bool> serving;
    for (const auto& vs : cfg.virtual_servers) {
        const bool up = !in.serving || in.serving(vs);
        for_each_vip(vs, [&](ip_addr a) {
            auto [it, fresh] = at.emplace(a.v4, out.size());
            if (fresh) {
                out.push_back({a});
                serving.push_back(false);
            }
            serving[it->second] = serving[it->second] || up;
        });
    }
    for (size_t i = 0; i < out.size(); ++i) {
        vip_announcement& v = out[i];
        bool vrrp = false, owned = false;
        for (const vrrp::owned_addr& o : in.vrrp)
            if (o.addr == v.vip) {
                vrrp = true;
                owned = owned || o.owned;
            }
        v.drained = drains.drained(v.vip);
        v.state = !serving[i]      ? announce_state::no_server
                  : v.drained      ? announce_state::draining
                  : vrrp && !owned ? announce_state::backup
                                   : announce_state::announced;
    }
    return out;
}

std::expected<std::unique_ptr<announcer>, std::string> announcer::with_netlink() {
    auto nl = rtnl::open();
    if (!nl)
        return std::unexpected(nl.error());
    std::shared_ptr<rtnl> r(std::move(*nl));
    // Interface indexes by name, looked up once found (a TAP, once open, stays: kernel_tap.h).
    auto index = std::make_shared<std::map<std::string, int>>();
    auto missing = std::make_shared<uint64_t>(0); // requests not sent: no such interface yet
    auto ifindex = [index, missing](const std::string& dev) {
        int& i = (*index)[dev];
        if (i == 0)
            i = static_cast<int>(if_nametoindex(dev.c_str()));
        if (i == 0)
            ++*missing;
        return i;
    };
    route_sink s;
    s.add = [r, ifindex](const std::string& dev, ip_addr vip, uint32_t table, uint8_t proto) {
        if (int i = ifindex(dev); i != 0)
            r->add_table_route(i, dev, {vip, 32}, table, proto);
    };
    s.del = [r, ifindex](const std::string& dev, ip_addr vip, uint32_t table, uint8_t proto) {
        if (int i = ifindex(dev); i != 0)
            r->del_table_route(i, dev, {vip, 32}, table, proto);
    };
    s.failures = [r, missing] { return r->failures() + *missing; };
    s.poll = [r] { return r->poll(); };
    return std::make_unique<announcer>(std::move(s));
}

unsigned announcer::update(const config::config& cfg, const announce_inputs& in, uint64_t now) {
    unsigned work = m_sink.poll ? m_sink.poll() : 0;
    const bool was = m_enabled;
    m_enabled = cfg.announce.enabled;
    const target t{tap_name(cfg), cfg.announce.table, cfg.announce.protocol};
    // Withdraw everything from where it went when the table, port or protocol changed (a reload)
    // or announcing stopped.
    if (!m_installed.empty() && (!m_enabled || t != m_target)) {
        for (uint32_t v : m_installed)
            m_sink.del(m_target.dev, ip_addr::from_v4(v), m_target.table, m_target.proto);
        work += static_cast<unsigned>(m_installed.size());
        m_installed.clear();
    }
    if (!m_enabled) {
        if (was)
            spdlog::info("announce: off, every VIP route withdrawn");
        m_vips.clear();
        return work;
    }
    m_target = t;
    std::vector<vip_announcement> next = decide(cfg, in, m_drains);
    std::set<uint32_t> want;
    for (const vip_announcement& v : next)
        if (v.state == announce_state::announced)
            want.insert(v.vip.v4);
    // Re-assert: periodically, and a second after the kernel refused something (or the TAP
    // was not there yet).
    const uint64_t failures = m_sink.failures ? m_sink.failures() : 0;
    if (failures != m_failures_seen) {
        m_failures_seen = failures;
        m_next_assert_ms = std::min(m_next_assert_ms, now + retry_ms);
    }
    const bool reassert = now >= m_next_assert_ms;
    if (reassert)
        m_next_assert_ms = now + reassert_ms;
    for (uint32_t v : m_installed)
        if (!want.contains(v)) {
            m_sink.del(t.dev, ip_addr::from_v4(v), t.table, t.proto);
            ++work;
        }
    for (uint32_t v : want)
        if (reassert || !m_installed.contains(v)) {
            m_sink.add(t.dev, ip_addr::from_v4(v), t.table, t.proto);
            ++work;
        }
    // Log what changed for the operator (a VIP's state, not the re-assertions).
    for (const vip_announcement& v : next) {
        auto old = std::find_if(m_vips.begin(), m_vips.end(),
                                [&](const vip_announcement& o) { return o.vip == v.vip; });
        if (old != m_vips.end() && old->state == v.state)
            continue;
        const bool on = v.state == announce_state::announced;
        const bool was_on = old != m_vips.end() && old->state == announce_state::announced;
        m_changes += on != was_on ? 1 : 0;
        if (on)
            spdlog::info("announce: {} announced", v.vip.to_string());
        else
            spdlog::info("announce: {} {} ({})", v.vip.to_string(),
                         was_on ? "withdrawn" : "not announced", to_string(v.state));
    }
    m_installed = std::move(want);
    m_vips = std::move(next);
    if (work > 0 && m_sink.poll)
        work += m_sink.poll(); // sent now
    return work;
}

std::expected<std::string, std::string> announcer::drain(const config::config& cfg,
                                                         std::optional<ip_addr> vip) {
    if (!cfg.announce.enabled)
        return std::unexpected("nothing to drain: the config has no `announce:`");
    if (!vip) {
        m_drains.drain_all();
        return "every VIP drained: its route withdrawn; connections go on";
    }
    const auto vips = config_vips(cfg);
    if (std::find(vips.begin(), vips.end(), *vip) == vips.end())
        return std::unexpected(vip->to_string() + " is no VIP of the running config");
    m_drains.drain(*vip);
    return vip->to_string() + " drained: its route withdrawn; connections go on";
}

std::expected<std::string, std::string> announcer::undrain(const config::config& cfg,
                                                           std::optional<ip_addr> vip) {
    if (!vip) {
        m_drains.undrain_all();
        return "every VIP undrained: announced again where this node can serve it";
    }
    if (!m_drains.drained(*vip))
        return std::unexpected(vip->to_string() + " is not drained");
    m_drains.undrain(*vip, config_vips(cfg));
    return vip->to_string() + " undrained: announced again where this node can serve it";
}

std::string announcer::status_text() const {
    if (!m_enabled)
        return "";
    std::string s = "announce: table " + std::to_string(m_target.table) + " dev " + m_target.dev +
                    " proto " + std::to_string(m_target.proto) +
                    (m_drains.all() ? ", all VIPs drained" : "") + "\n";
    for (const vip_announcement& v : m_vips)
        s += "  " + v.vip.to_string() + " " +
             (v.state == announce_state::announced
                  ? std::string("announced")
                  : "withdrawn (" + std::string(to_string(v.state)) + ")") +
             (v.drained ? ", drained" : "") + "\n";
    return s;
}

std::string announcer::metrics_text() const {
    if (!m_enabled)
        return "";
    std::string s = "# HELP ulvs_vip_announced Whether this node announces the VIP (its route is "
                    "in announce.table), with the reason when not.\n"
                    "# TYPE ulvs_vip_announced gauge\n";
    for (const vip_announcement& v : m_vips)
        s += "ulvs_vip_announced{vip=\"" + v.vip.to_string() + "\",state=\"" +
             std::string(to_string(v.state)) + "\"} " +
             (v.state == announce_state::announced ? "1" : "0") + "\n";
    s += "# HELP ulvs_vip_drained Whether the VIP is drained (ulvsadm drain).\n"
         "# TYPE ulvs_vip_drained gauge\n";
    for (const vip_announcement& v : m_vips)
        s +=
            "ulvs_vip_drained{vip=\"" + v.vip.to_string() + "\"} " + (v.drained ? "1" : "0") + "\n";
    s += "# HELP ulvs_announce_changes_total VIPs announced or withdrawn.\n"
         "# TYPE ulvs_announce_changes_total counter\n"
         "ulvs_announce_changes_total " +
         std::to_string(m_changes) + "\n";
    return s;
}

} // namespace ulvs::ctl
