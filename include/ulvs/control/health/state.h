// keepalived's health semantics as pure functions of injected time (no sockets here):
//
// - check_fsm: one checker of one real server. An up checker that fails is retried `retry` times
//   `delay_before_retry` apart and goes down on the (retry+1)-th consecutive failure; one success
//   brings it back (keepalived check_tcp.c / check_http.c epilogues). Between rounds: delay_loop.
// - A real server is up when all its checkers are up (keepalived's failed_checkers list).
// - A virtual server has quorum while the sum of its up servers' weights stays >= quorum -
//   hysteresis (and is not 0); it regains it at >= quorum + hysteresis (ipwrapper.c
//   update_quorum_state). Without quorum, a service with a sorry_server sends new connections
//   only to it.
// - overlay(): the configuration the workers get: down servers removed, or kept with weight 0
//   with inhibit_on_failure; misc `dynamic` weights; the sorry server while quorum is lost.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"

#include <cstdint>
#include <optional>

namespace ulvs::ctl::health {

class check_fsm {
public:
    // `start_up`: false with the service's `alpha`. The first probe runs at `now` + `first_in`.
    check_fsm(const config::health_check_cfg& c, bool start_up, uint64_t now, uint64_t first_in);

    uint64_t due() const { return m_due; }
    bool up() const { return m_up; }
    uint32_t failures() const { return m_failures; } // consecutive, for `ulvsadm health`
    // One probe finished at `now`. Returns true when up() changed.
    bool on_result(bool ok, uint64_t now);

private:
    uint64_t m_delay_loop, m_delay_before_retry;
    uint32_t m_retry;
    bool m_up;
    uint32_t m_retries_done = 0; // failures of an up checker so far in this streak
    uint32_t m_failures = 0;
    uint64_t m_due;
};

struct quorum_state {
    bool up = true;
    // Re-evaluate with the current sum of up weights. Returns true when `up` changed.
    bool update(uint64_t up_weight_sum, const config::vs_health_cfg& h);
};

// What health says about one real server (looked up by overlay()).
struct rs_view {
    bool up = true;
    std::optional<uint32_t> weight; // misc dynamic weight
};

// The config to build the snapshot from: `cfg` with each checked real server's rs_view applied
// and, for services whose quorum is lost and that have a sorry server, only that server.
// `view(vs_index, rs_index)` and `quorum_up(vs_index)` describe the current health state.
template <class View, class Quorum>
config::config overlay(const config::config& cfg, View view, Quorum quorum_up) {
    config::config out = cfg;
    for (size_t v = 0; v < out.virtual_servers.size(); ++v) {
        auto& vs = out.virtual_servers[v];
        std::vector<config::real_server_cfg> kept;
        for (size_t r = 0; r < vs.real_servers.size(); ++r) {
            config::real_server_cfg rs = vs.real_servers[r];
            const rs_view st = view(v, r);
            if (st.weight)
                rs.weight = *st.weight;
            if (!st.up) {
                if (!rs.health.inhibit_on_failure)
                    continue;
                rs.weight = 0;
            }
            kept.push_back(std::move(rs));
        }
        if (!quorum_up(v) && vs.health.sorry_server) {
            config::real_server_cfg sorry;
            sorry.address = vs.health.sorry_server->address;
            sorry.port = vs.health.sorry_server->port;
            sorry.weight = 1;
            kept.assign(1, sorry);
        }
        vs.real_servers = std::move(kept);
    }
    return out;
}

} // namespace ulvs::ctl::health
