// Turning the validated configuration into the read-only snapshot the workers use.
//
// Counter identities (stats ids) are kept by `stats_ids` across snapshots: a virtual server keeps
// its id as long as its VIP:port:protocol stays, a real server as long as its service and
// address:port stay, so counters survive reloads of unchanged servers (SPEC section 5).
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/neigh/neigh_manager.h"
#include "ulvs/dataplane/fwd/snapshot.h"
#include "ulvs/dataplane/sched/load.h"

#include <arpa/inet.h>

#include <expected>
#include <map>
#include <memory>
#include <string>
#include <tuple>

namespace ulvs::ctl {

namespace vrrp {
class engine;
}

class stats_ids {
public:
    using service_key = std::tuple<uint32_t, uint16_t, uint8_t>; // vip, port, proto
    using dest_key = std::tuple<uint32_t, uint32_t, uint16_t>;   // service id, rip, rport

    std::optional<uint32_t> service(const service_key& k) { return get(m_services, k); }
    // A virtual server's id: by VIP:port:protocol, or by name for a `match:` service (it has no
    // VIP:port; its name is its identity across reloads).
    std::optional<uint32_t> service(const config::virtual_server_cfg& vs) {
        if (vs.match)
            return get(m_match_services, vs.name);
        return service({htonl(vs.address.v4), htons(vs.port), static_cast<uint8_t>(vs.protocol)});
    }
    std::optional<uint32_t> dest(const dest_key& k) { return get(m_dests, k); }
    // Service generations: a fresh one per built service restarts the workers' scheduler cursors.
    uint32_t next_gen() { return ++m_gen; }

    // The run's shared connection counts (dp::load_board), put into every snapshot built with
    // these ids, so that snapshots from reloads and live changes see it too. Null in single-rig
    // tests: workers then schedule on their own counts.
    void attach_loads(dp::load_board* board) { m_loads = board; }
    dp::load_board* loads() const { return m_loads; }

    // VRRP (vrrp/engine.h): which virtual addresses this appliance holds, overlaid on every
    // snapshot built with these ids (vrrp/overlay.h). Null: no VRRP, every VIP is ours.
    void attach_vrrp(const vrrp::engine* e) { m_vrrp = e; }
    const vrrp::engine* vrrp() const { return m_vrrp; }

private:
    template <class M, class K> std::optional<uint32_t> get(M& m, const K& k) {
        if (auto it = m.find(k); it != m.end())
            return it->second;
        if (m_next >= dp::max_stats_ids)
            return std::nullopt;
        m.emplace(k, m_next);
        return m_next++;
    }

    std::map<service_key, uint32_t> m_services;
    std::map<std::string, uint32_t> m_match_services;
    std::map<dest_key, uint32_t> m_dests;
    uint32_t m_next = 0;
    uint32_t m_gen = 0;
    dp::load_board* m_loads = nullptr;
    const vrrp::engine* m_vrrp = nullptr;
};

// Build a snapshot from `cfg`. Allocates neighbour slots for every next hop (the manager then
// resolves them). Fails only on exhausted fixed limits (services, stats ids, neighbour slots).
std::expected<std::unique_ptr<dp::snapshot>, std::string>
build_snapshot(const config::config& cfg, neigh_manager& neigh, stats_ids& ids);

} // namespace ulvs::ctl
