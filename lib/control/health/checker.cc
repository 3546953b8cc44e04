// The health checker (checker.h): scheduling, I/O readiness, transitions, notify scripts.
#include "ulvs/control/health/checker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <sys/epoll.h>
#include <unistd.h>

namespace ulvs::ctl::health {

namespace {

constexpr int max_events = 64;
constexpr size_t max_late_samples = 1 << 20; // ~17 min of 1,000 probes/s between reads
// First probes of a fresh configuration are spread over this much (or delay_loop, if shorter),
// as keepalived spreads its checkers' warm-up, so 1,000 servers do not connect at once.
constexpr uint64_t max_stagger_ms = 1000;

std::string describe(const config::health_check_cfg& c, const probe_target& t) {
    std::string s(config::to_string(c.type));
    if (c.type == config::check_type::misc)
        return s + " \"" + c.path + "\"";
    s += " :" + std::to_string(t.port);
    if (c.type == config::check_type::http || c.type == config::check_type::https)
        s += " " + c.path;
    return s;
}

} // namespace

struct checker::server {
    server(std::string vs, const config::health_check_cfg& c, probe_target t, check_fsm f)
        : vs_name(std::move(vs)), cfg(c), target(t), fsm(f) {}

    std::string vs_name;
    config::health_check_cfg cfg;
    probe_target target;
    uint32_t weight = 1;
    config::notify_cfg notify;
    check_fsm fsm;
    std::unique_ptr<probe> inflight;
    uint32_t watched = 0; // epoll events registered for the in-flight probe's fd
    uint64_t deadline = 0;
    std::string last_error;
    std::optional<uint32_t> dyn_weight;

    uint32_t current_weight() const { return dyn_weight.value_or(weight); }
};

checker::checker() : m_epoll(epoll_create1(EPOLL_CLOEXEC)) {
    if (m_epoll < 0)
        spdlog::error("health: epoll_create1 failed: socket probes will time out");
}

checker::~checker() {
    m_servers.clear(); // aborts probes: misc children are asked to stop (proc/children.h)
    if (m_epoll >= 0)
        close(m_epoll);
}

void checker::sync(const config::config& cfg, uint64_t now) {
    m_run_as = proc::options_for(cfg.scripts);
    ++m_generation;
    std::map<server_key, std::unique_ptr<server>> next;
    std::map<std::string, vs_state> services;
    uint64_t i = 0;
    for (const auto& vs : cfg.virtual_servers) {
        vs_state st{vs.health, {}};
        if (auto old = m_services.find(vs.name); old != m_services.end())
            st.quorum = old->second.quorum;
        services.emplace(vs.name, st);
        for (const auto& rs : vs.real_servers) {
            const auto& chk = rs.health.check ? rs.health.check : vs.health.check;
            if (!chk) {
                services[vs.name].unchecked_weight += rs.weight;
                continue;
            }
            const probe_target t{rs.address, chk->port != 0 ? chk->port
                                             : rs.port != 0 ? rs.port
                                                            : vs.port};
            server_key key{vs.name, rs.address.v4, rs.port};
            auto old = m_servers.find(key);
            std::unique_ptr<server> s;
            if (old != m_servers.end() && old->second->cfg == *chk &&
                old->second->target.port == t.port) {
                s = std::move(old->second);
            } else {
                const uint64_t spread = std::min<uint64_t>(
                    max_stagger_ms, static_cast<uint64_t>(chk->delay_loop.count()));
                const uint64_t first = spread == 0 ? 0 : (i * 7919) % spread;
                s = std::make_unique<server>(vs.name, *chk, t,
                                             check_fsm(*chk, !vs.health.alpha, now, first));
                ++i;
            }
            s->weight = rs.weight;
            s->notify = rs.health.notify;
            next.emplace(std::move(key), std::move(s));
        }
    }
    m_servers = std::move(next); // the servers left behind abort their probes
    m_services = std::move(services);
    for (auto& [name, st] : m_services)
        update_quorum(name);
    // Servers that start down (alpha) or lost quorum: the next snapshot must show it.
    for (const auto& [key, s] : m_servers)
        m_changed = m_changed || !s->fsm.up();
}

void checker::update_quorum(const std::string& vs_name) {
    auto it = m_services.find(vs_name);
    if (it == m_services.end())
        return;
    // keepalived's weigh_live_realservers(): the weights of the alive servers, unchecked ones
    // included. Every service is weighed, also one whose servers all have weight 0 or that has
    // none: a live weight of 0 loses quorum (and brings in the sorry server) whatever the reason.
    uint64_t sum = it->second.unchecked_weight;
    for (auto s = m_servers.lower_bound({vs_name, 0, 0});
         s != m_servers.end() && std::get<0>(s->first) == vs_name; ++s)
        if (s->second->fsm.up())
            sum += s->second->current_weight();
    if (it->second.quorum.update(sum, it->second.cfg)) {
        m_changed = true;
        spdlog::warn("health: virtual server {} {} quorum (up weight {}, quorum {}, "
                     "hysteresis {}){}",
                     vs_name, it->second.quorum.up ? "regained" : "lost", sum,
                     it->second.cfg.quorum, it->second.cfg.hysteresis,
                     it->second.cfg.sorry_server ? it->second.quorum.up
                                                       ? ": back from the sorry server"
                                                       : ": switching to the sorry server"
                                                 : "");
    }
}

unsigned checker::poll(uint64_t now_us) {
    const uint64_t now = now_us / 1000;
    unsigned work = 0;
    if (m_epoll >= 0) {
        epoll_event evs[max_events];
        const int n = epoll_wait(m_epoll, evs, max_events, 0);
        for (int k = 0; k < n; ++k) {
            auto* s = static_cast<server*>(evs[k].data.ptr);
            if (!s->inflight)
                continue;
            ++work;
            const probe_status st = s->inflight->on_ready();
            if (st != probe_status::running) {
                complete(*s, st, now);
            } else if (s->inflight->events() != s->watched) {
                epoll_event ev{s->inflight->events(), {.ptr = s}};
                epoll_ctl(m_epoll, EPOLL_CTL_MOD, s->inflight->fd(), &ev);
                s->watched = ev.events;
            }
        }
    }
    if (now == m_last_scan)
        return work; // due times and deadlines are in ms: one scan per ms is enough
    m_last_scan = now;
    for (auto& [key, sp] : m_servers) {
        server& s = *sp;
        if (s.inflight) {
            const probe_status st =
                s.inflight->fd() < 0 ? s.inflight->poll_child() : probe_status::running;
            if (st != probe_status::running) {
                complete(s, st, now);
                ++work;
            } else if (now >= s.deadline) {
                complete(s, s.inflight->on_deadline(), now); // closes / kills it
                ++work;
            }
            continue;
        }
        if (now < s.fsm.due())
            continue;
        if (m_late_us.size() < max_late_samples)
            m_late_us.push_back(static_cast<uint32_t>(now_us - s.fsm.due() * 1000));
        s.inflight = start_probe(s.cfg, s.target, m_run_as);
        s.deadline = now + static_cast<uint64_t>(s.cfg.connect_timeout.count());
        if (s.inflight->fd() >= 0 && m_epoll >= 0) {
            epoll_event ev{s.inflight->events(), {.ptr = &s}};
            epoll_ctl(m_epoll, EPOLL_CTL_ADD, s.inflight->fd(), &ev);
            s.watched = ev.events;
        }
        ++work;
    }
    return work;
}

void checker::complete(server& s, probe_status st, uint64_t now) {
    const bool ok = st == probe_status::ok;
    s.last_error = ok ? "" : s.inflight->reason();
    if (ok && s.cfg.dynamic) {
        const auto w = s.inflight->weight();
        if (w != s.dyn_weight) {
            s.dyn_weight = w;
            m_changed = true;
            update_quorum(s.vs_name);
        }
    }
    s.inflight.reset(); // closes the fd, which also leaves the epoll set
    transition(s, ok, now);
}

void checker::transition(server& s, bool ok, uint64_t now) {
    if (!s.fsm.on_result(ok, now))
        return;
    const bool up = s.fsm.up();
    spdlog::warn("health: {} {}:{} is {} ({}{})", s.vs_name, s.target.address.to_string(),
                 s.target.port, up ? "up" : "down", describe(s.cfg, s.target),
                 up ? "" : ": " + s.last_error);
    const std::string& script = up ? s.notify.up : s.notify.down;
    if (!script.empty()) {
        // keepalived runs notify_up/notify_down as written, without arguments, and does not
        // wait for them: proc::children() reaps them.
        if (auto r = proc::children().start_detached(script, m_run_as); !r)
            spdlog::error("health: notify script: {}", r.error());
    }
    m_changed = true;
    update_quorum(s.vs_name);
}

config::config checker::effective(const config::config& cfg) const {
    return overlay(
        cfg,
        [&](size_t v, size_t r) {
            const auto& vs = cfg.virtual_servers[v];
            const auto& rs = vs.real_servers[r];
            auto it = m_servers.find({vs.name, rs.address.v4, rs.port});
            if (it == m_servers.end())
                return rs_view{};
            return rs_view{it->second->fsm.up(), it->second->dyn_weight};
        },
        [&](size_t v) { return quorum_up(cfg.virtual_servers[v].name); });
}

bool checker::quorum_up(const std::string& vs_name) const {
    auto it = m_services.find(vs_name);
    return it == m_services.end() || it->second.quorum.up;
}

bool checker::server_up(const std::string& vs_name, ip_addr a, uint16_t port) const {
    auto it = m_servers.find({vs_name, a.v4, port});
    return it == m_servers.end() || it->second->fsm.up();
}

bool checker::serving(const config::virtual_server_cfg& vs) const {
    if (!quorum_up(vs.name) && vs.health.sorry_server)
        return true; // overlay(): the sorry server (weight 1) in place of the servers
    for (const auto& rs : vs.real_servers) {
        auto it = m_servers.find({vs.name, rs.address.v4, rs.port});
        if (it == m_servers.end() ? rs.weight > 0
                                  : it->second->fsm.up() && it->second->current_weight() > 0)
            return true;
    }
    return false;
}

std::vector<server_report> checker::report(const config::config& cfg) const {
    std::vector<server_report> out;
    for (const auto& vs : cfg.virtual_servers)
        for (const auto& rs : vs.real_servers) {
            server_report r;
            r.virtual_server = vs.name;
            r.address = rs.address;
            r.port = rs.port;
            if (auto it = m_servers.find({vs.name, rs.address.v4, rs.port});
                it != m_servers.end()) {
                const server& s = *it->second;
                r.checked = true;
                r.up = s.fsm.up();
                r.check = describe(s.cfg, s.target);
                r.failures = s.fsm.failures();
                r.last_error = s.last_error;
                r.weight = s.dyn_weight;
            }
            out.push_back(std::move(r));
        }
    return out;
}

lateness_stats checker::take_lateness() {
    lateness_stats st;
    st.probes = m_late_us.size();
    if (!m_late_us.empty()) {
        std::sort(m_late_us.begin(), m_late_us.end());
        auto at = [&](double q) {
            return m_late_us[std::min(m_late_us.size() - 1,
                                      static_cast<size_t>(q * double(m_late_us.size())))];
        };
        st.p50_us = at(0.50);
        st.p90_us = at(0.90);
        st.p99_us = at(0.99);
        st.max_us = m_late_us.back();
    }
    m_late_us.clear();
    return st;
}

} // namespace ulvs::ctl::health
