// The health checker of the control lcore: one entry per checked real server with one checker
// per health check it has (a real server's own health_check(s), else its service's; up only
// while every checker is, as keepalived), probes driven from the control loop's poll hook, the
// state machines of state.h, notify scripts, and the health overlay the manager applies when it
// builds snapshots.
//
// Probes run on non-blocking kernel sockets watched by one epoll fd (epoll_wait with timeout 0
// once per pass) and child processes of proc/children.h (never waited for): a pass costs one
// syscall plus work for the probes that are due or ready, so 1,000 servers every second stay a
// small load. Notify scripts are started detached; proc::children().poll() reaps them.
//
// sync() is called with every committed configuration: servers whose service name, address,
// port and check are unchanged keep their state (and their place in the schedule).
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/control/health/probe.h"
#include "ulvs/control/health/state.h"

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace ulvs::ctl::health {

// One checker of a real server.
struct check_report {
    std::string check; // "http :80 /health"
    bool up = true;
    uint32_t failures = 0;
    std::string last_error;
};

struct server_report {
    std::string virtual_server;
    ip_addr address;
    uint16_t port = 0;
    bool checked = false;
    bool up = true;
    std::vector<check_report> checks; // one per checker (empty: not checked)
    std::optional<uint32_t> weight;
};

struct lateness_stats {
    uint64_t probes = 0;
    uint64_t p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
};

class checker {
public:
    checker();
    ~checker();
    checker(const checker&) = delete;
    checker& operator=(const checker&) = delete;

    void sync(const config::config& cfg, uint64_t now_ms);
    // Counts sync() calls: a new value means a newly committed config (the exception path
    // follows it, app/ulvsd/health_runtime.h).
    uint64_t generation() const { return m_generation; }
    // Start due probes, progress ready ones, expire late ones. Returns work done (0: idle).
    // Microseconds (any monotonic origin, the one sync() got in ms): lateness is measured in us.
    unsigned poll(uint64_t now_us);
    // True once after any server or quorum state changed: the manager republishes.
    bool take_changed() {
        const bool c = m_changed;
        m_changed = false;
        return c;
    }
    // `cfg` (the config last synced) as the workers should see it (state.h overlay).
    config::config effective(const config::config& cfg) const;
    std::vector<server_report> report(const config::config& cfg) const;
    bool quorum_up(const std::string& vs_name) const;
    // A real server's state; true when it has no check.
    bool server_up(const std::string& vs_name, ip_addr a, uint16_t port) const;
    // Each of its checkers (empty when it has none): /metrics' ulvs_real_server_check_up.
    std::vector<check_report> server_checks(const std::string& vs_name, ip_addr a,
                                            uint16_t port) const;
    // Does `vs` (of the config last synced) get traffic as effective() would have it: a real
    // server up with a weight > 0, or its sorry server in place? VRRP's tracked virtual servers.
    bool serving(const config::virtual_server_cfg& vs) const;
    // Probe start lateness (start - due) since the last call; resets the samples.
    lateness_stats take_lateness();

private:
    using server_key = std::tuple<std::string, uint32_t, uint16_t>; // vs name, rip, rport
    struct server;
    struct unit; // one checker of a server
    struct vs_state {
        config::vs_health_cfg cfg;
        quorum_state quorum;
        uint64_t unchecked_weight = 0; // real servers without a check: always up
    };

    void start(unit& u, uint64_t now_ms, size_t url);
    void complete(unit& u, probe_status st, uint64_t now_ms); // the probe's verdict
    void transition(unit& u, bool ok, uint64_t now_ms);
    void update_quorum(const std::string& vs_name);

    std::map<server_key, std::unique_ptr<server>> m_servers;
    std::map<std::string, vs_state> m_services;
    proc::spawn_options m_run_as; // config `scripts`
    int m_epoll = -1;
    bool m_changed = false;
    uint64_t m_generation = 0;
    uint64_t m_last_scan = 0;
    std::vector<uint32_t> m_late_us;
    std::minstd_rand m_rng{std::random_device{}()}; // warmup delays
};

} // namespace ulvs::ctl::health
