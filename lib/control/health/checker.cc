// The health checker (checker.h): scheduling, I/O readiness, transitions, notify scripts.
#include "ulvs/control/health/checker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
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
    if (c.address.v4 != 0)
        s += " " + c.address.to_string();
    s += " :" + std::to_string(t.port);
    if (c.type == config::check_type::http || c.type == config::check_type::https)
        for (const auto& u : c.url_list())
            s += " " + u.path;
    return s;
}

} // namespace

// One checker of a server: its own schedule, probe and verdict.
struct checker::unit {
    unit(server* o, const config::health_check_cfg& c, probe_target t, check_fsm f)
        : owner(o), cfg(c), target(t), fsm(f) {}

    server* owner;
    config::health_check_cfg cfg;
    probe_target target;
    check_fsm fsm;
    std::unique_ptr<probe> inflight;
    uint32_t watched = 0; // epoll events registered for the in-flight probe's fd
    uint64_t deadline = 0;
    std::string last_error;
    std::optional<uint32_t> dyn_weight;
};

struct checker::server {
    server(std::string vs, ip_addr a, uint16_t p) : vs_name(std::move(vs)), address(a), port(p) {}

    std::string vs_name;
    ip_addr address; // the real server's (its checkers may probe another: `address`)
    uint16_t port;
    std::vector<config::health_check_cfg> cfgs; // what `units` were made from
    std::vector<std::unique_ptr<unit>> units;   // stable addresses: epoll holds them
    uint32_t weight = 1;
    config::notify_cfg notify;
    bool was_up = true; // every unit up, as of the last transition

    bool up() const {
        return std::all_of(units.begin(), units.end(), [](const auto& u) { return u->fsm.up(); });
    }
    // A misc `dynamic` weight: the last checker that set one (keepalived applies each as it
    // comes), else the configured weight.
    uint32_t current_weight() const {
        std::optional<uint32_t> w;
        for (const auto& u : units)
            if (u->dyn_weight)
                w = u->dyn_weight;
        return w.value_or(weight);
    }
    std::optional<uint32_t> dyn_weight() const {
        std::optional<uint32_t> w;
        for (const auto& u : units)
            if (u->dyn_weight)
                w = u->dyn_weight;
        return w;
    }
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
            const auto chks = rs.health.effective(vs.health);
            if (chks.empty()) {
                services[vs.name].unchecked_weight += rs.weight;
                continue;
            }
            const uint16_t port = rs.port != 0 ? rs.port : vs.port;
            server_key key{vs.name, rs.address.v4, rs.port};
            auto old = m_servers.find(key);
            std::unique_ptr<server> s;
            if (old != m_servers.end() && old->second->cfgs == chks &&
                old->second->units.front()->target.port ==
                    (chks.front().port != 0 ? chks.front().port : port)) {
                s = std::move(old->second);
            } else {
                s = std::make_unique<server>(vs.name, rs.address, port);
                s->cfgs = chks;
                for (const auto& chk : chks) {
                    const probe_target t{chk.address.v4 != 0 ? chk.address : rs.address,
                                         chk.port != 0 ? chk.port : port, chk.source};
                    // keepalived's warmup: a random delay up to it; else a fixed spread.
                    uint64_t first = 0;
                    if (chk.warmup.count() > 0) {
                        first = m_rng() % (static_cast<uint64_t>(chk.warmup.count()) + 1);
                    } else {
                        const uint64_t spread = std::min<uint64_t>(
                            max_stagger_ms, static_cast<uint64_t>(chk.delay_loop.count()));
                        first = spread == 0 ? 0 : (i * 7919) % spread;
                    }
                    s->units.push_back(std::make_unique<unit>(
                        s.get(), chk, t, check_fsm(chk, !vs.health.alpha, now, first)));
                    ++i;
                }
                s->was_up = s->up();
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
        m_changed = m_changed || !s->up();
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
        if (s->second->up())
            sum += s->second->current_weight();
    const auto& h = it->second.cfg;
    if (it->second.quorum.update(sum, h)) {
        m_changed = true;
        const bool up = it->second.quorum.up;
        spdlog::warn("health: virtual server {} {} quorum (up weight {}, quorum {}, "
                     "hysteresis {}){}",
                     vs_name, up ? "regained" : "lost", sum, h.quorum, h.hysteresis,
                     h.sorry_server
                         ? up ? ": back from the sorry server" : ": switching to the sorry server"
                         : "");
        // keepalived's quorum_up / quorum_down: run as written, not waited for.
        const std::string& script = up ? h.quorum_up : h.quorum_down;
        if (!script.empty())
            if (auto r = proc::children().start_detached(script, m_run_as); !r)
                spdlog::error("health: quorum script: {}", r.error());
    }
}

void checker::start(unit& u, uint64_t now, size_t url) {
    u.target.url = url;
    u.inflight = start_probe(u.cfg, u.target, m_run_as);
    u.deadline = now + static_cast<uint64_t>(u.cfg.connect_timeout.count());
    if (u.inflight->fd() >= 0 && m_epoll >= 0) {
        epoll_event ev{u.inflight->events(), {.ptr = &u}};
        epoll_ctl(m_epoll, EPOLL_CTL_ADD, u.inflight->fd(), &ev);
        u.watched = ev.events;
    }
}

unsigned checker::poll(uint64_t now_us) {
    const uint64_t now = now_us / 1000;
    unsigned work = 0;
    if (m_epoll >= 0) {
        epoll_event evs[max_events];
        const int n = epoll_wait(m_epoll, evs, max_events, 0);
        for (int k = 0; k < n; ++k) {
            auto* u = static_cast<unit*>(evs[k].data.ptr);
            if (!u->inflight)
                continue;
            ++work;
            const probe_status st = u->inflight->on_ready();
            if (st != probe_status::running) {
                complete(*u, st, now);
            } else if (u->inflight->events() != u->watched) {
                epoll_event ev{u->inflight->events(), {.ptr = u}};
                epoll_ctl(m_epoll, EPOLL_CTL_MOD, u->inflight->fd(), &ev);
                u->watched = ev.events;
            }
        }
    }
    if (now == m_last_scan)
        return work; // due times and deadlines are in ms: one scan per ms is enough
    m_last_scan = now;
    for (auto& [key, sp] : m_servers)
        for (auto& up : sp->units) {
            unit& u = *up;
            if (u.inflight) {
                const probe_status st =
                    u.inflight->fd() < 0 ? u.inflight->poll_child() : probe_status::running;
                if (st != probe_status::running) {
                    complete(u, st, now);
                    ++work;
                } else if (now >= u.deadline) {
                    complete(u, u.inflight->on_deadline(), now); // closes / kills it
                    ++work;
                }
                continue;
            }
            if (now < u.fsm.due())
                continue;
            if (m_late_us.size() < max_late_samples)
                m_late_us.push_back(static_cast<uint32_t>(now_us - u.fsm.due() * 1000));
            start(u, now, 0);
            ++work;
        }
    return work;
}

void checker::complete(unit& u, probe_status st, uint64_t now) {
    const bool ok = st == probe_status::ok;
    u.last_error = ok ? "" : u.inflight->reason();
    if (ok && u.cfg.dynamic) {
        const auto w = u.inflight->weight();
        if (w != u.dyn_weight) {
            u.dyn_weight = w;
            m_changed = true;
            update_quorum(u.owner->vs_name);
        }
    }
    u.inflight.reset(); // closes the fd, which also leaves the epoll set
    // keepalived's HTTP_GET fetches its urls one after the other, each on a new connection; the
    // first that fails fails the round.
    const bool web =
        u.cfg.type == config::check_type::http || u.cfg.type == config::check_type::https;
    if (ok && web && u.target.url + 1 < std::max<size_t>(1, u.cfg.urls.size())) {
        start(u, now, u.target.url + 1);
        return;
    }
    transition(u, ok, now);
}

void checker::transition(unit& u, bool ok, uint64_t now) {
    if (!u.fsm.on_result(ok, now))
        return;
    server& s = *u.owner;
    spdlog::warn("health: {} {}:{} checker {} is {}{}", s.vs_name, u.target.address.to_string(),
                 u.target.port, describe(u.cfg, u.target), u.fsm.up() ? "up" : "down",
                 u.fsm.up() ? "" : ": " + u.last_error);
    // The server is up while every checker is (keepalived's failed_checkers list): its own
    // transitions, and the notify scripts, follow the first checker down and the last back up.
    const bool up = s.up();
    if (up == s.was_up)
        return;
    s.was_up = up;
    spdlog::warn("health: {} {}:{} is {}", s.vs_name, u.target.address.to_string(), u.target.port,
                 up ? "up" : "down");
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
            return rs_view{it->second->up(), it->second->dyn_weight()};
        },
        [&](size_t v) { return quorum_up(cfg.virtual_servers[v].name); });
}

bool checker::quorum_up(const std::string& vs_name) const {
    auto it = m_services.find(vs_name);
    return it == m_services.end() || it->second.quorum.up;
}

bool checker::server_up(const std::string& vs_name, ip_addr a, uint16_t port) const {
    auto it = m_servers.find({vs_name, a.v4, port});
    return it == m_servers.end() || it->second->up();
}

std::vector<check_report> checker::server_checks(const std::string& vs_name, ip_addr a,
                                                 uint16_t port) const {
    std::vector<check_report> out;
    if (auto it = m_servers.find({vs_name, a.v4, port}); it != m_servers.end())
        for (const auto& u : it->second->units)
            out.push_back(
                {describe(u->cfg, u->target), u->fsm.up(), u->fsm.failures(), u->last_error});
    return out;
}

bool checker::serving(const config::virtual_server_cfg& vs) const {
    if (!quorum_up(vs.name) && vs.health.sorry_server)
        return true; // overlay(): the sorry server (weight 1) in place of the servers
    for (const auto& rs : vs.real_servers) {
        auto it = m_servers.find({vs.name, rs.address.v4, rs.port});
        if (it == m_servers.end() ? rs.weight > 0
                                  : it->second->up() && it->second->current_weight() > 0)
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
                r.checked = true;
                r.up = it->second->up();
                r.checks = server_checks(vs.name, rs.address, rs.port);
                r.weight = it->second->dyn_weight();
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
