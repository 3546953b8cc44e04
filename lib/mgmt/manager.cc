// manager: commands, changes, reload. Counters, listings and metrics: manager_stats.cc.
#include "ulvs/mgmt/manager.h"

#include "ulvs/config/emit.h"
#include "ulvs/config/load.h"
#include "ulvs/mgmt/config_edit.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ulvs::mgmt {

namespace {

constexpr uint64_t publish_retry_ms = 10;

json fail(errc c, std::string msg, std::vector<std::string> details = {}) {
    return make_error({c, std::move(msg), std::move(details)});
}

void apply_static_neighbors(const config::config& c, ctl::neigh_manager& neigh) {
    for (const config::neighbor_cfg& n : c.neighbors)
        for (size_t p = 0; p < c.ports.size(); ++p)
            if (c.ports[p].name == n.port)
                neigh.set_static(n.address, static_cast<uint8_t>(p), n.mac);
}

} // namespace

manager::manager(config::config running, manager_deps deps, uint64_t now_ms)
    : m_cfg(std::move(running)), m_deps(std::move(deps)), m_started_ms(now_ms),
      m_next_est(now_ms + estimator::interval_ms) {
    track_new_servers();
    m_deps.ids->committed(m_cfg);
    if (m_deps.health)
        m_deps.health->sync(m_cfg, now_ms);
}

config::config manager::effective() const {
    return m_deps.health ? m_deps.health->effective(m_cfg) : m_cfg;
}

handler_result manager::handle(const json& req, uint64_t now) {
    const std::string cmd = req["cmd"].get<std::string>();
    if (is_config_change(cmd))
        return change(req, now);
    if (cmd == "list")
        return list(req);
    if (cmd == "zero")
        return zero(req);
    if (cmd == "reload")
        return reload(now);
    if (cmd == "save_yaml")
        return make_ok({{"yaml", config::to_yaml(m_cfg)}});
    if (cmd == "status")
        return status(now);
    if (cmd == "health")
        return health();
    if (cmd == "vrrp")
        return make_ok(m_deps.vrrp_status
                           ? m_deps.vrrp_status()
                           : json{{"instances", json::array()}, {"text", "no VRRP instances\n"}});
    if (cmd == "ping")
        return make_ok({{"version", ULVS_VERSION}});
    if (cmd == "connections")
        return connections(now);
    return fail(errc::unknown_command, "unknown command \"" + cmd + "\"");
}

json manager::change(const json& op, uint64_t now) {
    config::config next = m_cfg;
    if (auto r = apply_op(next, op); !r)
        return make_error(r.error());
    auto valid = revalidate(next);
    if (!valid)
        return make_error(valid.error());
    json reply = commit(std::move(*valid), now);
    // -Z inside a -R batch: after the services it names exist.
    if (reply.value("ok", false) && op.value("cmd", "") == "batch")
        for (const json& o : op["ops"])
            if (o.value("cmd", "") == "zero")
                zero(o);
    return reply;
}

json manager::commit(config::config next, uint64_t now) {
    // Build once before committing: the only failures left are fixed limits (services, counter
    // ids, neighbour slots), and they must refuse the change, not break the running one.
    auto snap = ctl::build_snapshot(next, *m_deps.inputs);
    if (!snap)
        return fail(errc::invalid, snap.error());
    m_cfg = std::move(next);
    ++m_changes;
    track_new_servers();
    m_deps.ids->committed(m_cfg); // ids of removed servers no worker has seen go back now
    if (m_deps.health)            // unchanged servers keep their health state
        m_deps.health->sync(m_cfg, now);
    m_dirty = true;
    m_dirty_since = now;
    m_next_try = 0;
    try_publish(now);
    return make_ok({{"published", !m_dirty}});
}

void manager::republish(uint64_t now) {
    m_dirty = true;
    m_dirty_since = now;
    m_next_try = 0;
    try_publish(now);
}

void manager::try_publish(uint64_t now) {
    if (!m_dirty || now < m_next_try)
        return;
    m_next_try = now + publish_retry_ms;
    auto snap = ctl::build_snapshot(effective(), *m_deps.inputs);
    if (!snap) {
        spdlog::error("management: cannot build the snapshot of a committed change: {}",
                      snap.error());
        m_dirty = false;
        return;
    }
    bool resolved = true;
    for (const dp::dest& d : (*snap)->dests)
        resolved = resolved && m_deps.neigh_table->valid(d.neigh);
    if (!resolved && now - m_dirty_since < publish_wait_ms)
        return; // the control loop is ARPing for them; try again shortly
    if (!resolved)
        spdlog::warn("management: publishing with unresolved next hops after {} ms",
                     publish_wait_ms);
    // Blocks until every worker passed a quiescent state: microseconds (publisher.h).
    m_deps.pub->publish(std::move(*snap));
    m_dirty = false;
    // The grace period is over: what only the previous snapshot named is out of the workers' reach.
    m_deps.neigh->published(*m_deps.pub->current());
    m_deps.ids->published(*m_deps.pub->current());
}

json manager::reload(uint64_t now) {
    ++m_reloads;
    auto loaded = config::load_file(m_cfg.path);
    if (!loaded) {
        std::vector<std::string> details;
        for (const config::diagnostic& d : loaded.error()) {
            details.push_back(d.to_string());
            spdlog::error("reload refused: {}", d.to_string());
        }
        return fail(errc::invalid,
                    "invalid configuration " + m_cfg.path +
                        ": not reloaded, the running "
                        "configuration is unchanged",
                    details);
    }
    loaded->path = m_cfg.path;
    auto restart = restart_only_changes(m_cfg, *loaded);
    if (!restart.empty()) {
        std::string what;
        for (const std::string& s : restart)
            what += (what.empty() ? "" : ", ") + s;
        spdlog::error("reload refused: {} changed: needs a restart", what);
        return fail(errc::needs_restart,
                    "changes to " + what +
                        " need a restart: not reloaded, the running "
                        "configuration is unchanged",
                    restart);
    }
    apply_static_neighbors(*loaded, *m_deps.neigh);
    const std::string level = loaded->logging.level;
    json r = commit(std::move(*loaded), now);
    if (r.value("ok", false)) {
        spdlog::set_level(spdlog::level::from_str(level));
        spdlog::info("reloaded {}: {} virtual servers", m_cfg.path, m_cfg.virtual_servers.size());
    }
    return r;
}

unsigned manager::poll(uint64_t now) {
    unsigned work = 0;
    if (m_dirty) {
        try_publish(now);
        ++work;
    }
    work += recycle_ids(now);
    if (now >= m_next_est) {
        // As the kernel's timer: one sample per tick, a late tick is still one interval.
        m_next_est = std::max(m_next_est + estimator::interval_ms, now);
        for (const auto& vs : m_cfg.virtual_servers) {
            const uint32_t sid = service_id(vs);
            m_svc_est[sid].sample(totals(true, sid));
            for (const auto& rs : vs.real_servers) {
                const uint32_t did = dest_id(sid, rs);
                m_dest_est[did].sample(totals(false, did));
            }
        }
        ++work;
    }
    return work;
}

unsigned manager::recycle_ids(uint64_t now) {
    if (m_idq.asking) {
        for (const dp::id_check_channel* ch : m_deps.id_checks)
            if (ch->done.load(std::memory_order_acquire) != ch->request.load())
                return 0; // not every worker answered yet
        std::vector<uint32_t> unused;
        for (size_t i = 0; i < m_idq.ids.size(); ++i) {
            bool busy = false;
            for (const auto& b : m_idq.busy)
                busy = busy || b[i] != 0;
            if (!busy)
                unused.push_back(m_idq.ids[i]);
        }
        m_deps.ids->release_unused(unused);
        m_idq.asking = false;
        return 1;
    }
    if (now < m_idq.next_ms)
        return 0;
    m_idq.next_ms = now + id_check_period_ms;
    m_idq.ids = m_deps.ids->to_check(id_check_max);
    if (m_idq.ids.empty())
        return 0;
    if (m_deps.id_checks.empty()) {
        // No worker runs concurrently (tests): the counts are exact as read here.
        std::vector<uint32_t> unused;
        for (uint32_t id : m_idq.ids) {
            bool busy = false;
            for (const dp::worker_ctx* w : m_deps.workers) {
                const dp::dest_conn_counts& c = w->dest_conns[id];
                busy = busy || (c.active | c.inactive | c.persistent) != 0;
            }
            if (!busy)
                unused.push_back(id);
        }
        m_deps.ids->release_unused(unused);
        return 1;
    }
    m_idq.busy.assign(m_deps.id_checks.size(), std::vector<uint8_t>(m_idq.ids.size()));
    for (size_t w = 0; w < m_deps.id_checks.size(); ++w) {
        dp::id_check_channel& ch = *m_deps.id_checks[w];
        ch.ids = m_idq.ids.data();
        ch.busy = m_idq.busy[w].data();
        ch.n = static_cast<uint32_t>(m_idq.ids.size());
        ch.request.store(ch.request.load() + 1, std::memory_order_release);
    }
    m_idq.asking = true;
    return 1;
}

json manager::status(uint64_t now) {
    const uint64_t up_s = (now - m_started_ms) / 1000;
    size_t n_rs = 0;
    for (const auto& vs : m_cfg.virtual_servers)
        n_rs += vs.real_servers.size();
    dp::worker_counters t;
    uint64_t conns = 0;
    for (const dp::worker_ctx* w : m_deps.workers) {
        t.rx_pkts += w->ctr.rx_pkts;
        t.tx_pkts += w->ctr.tx_pkts;
        for (size_t i = 0; i < t.drops.size(); ++i)
            t.drops[i] += w->ctr.drops[i];
        conns += w->conns.size();
    }
    uint64_t drops = 0;
    for (uint64_t d : t.drops)
        drops += d;
    json j = {{"version", ULVS_VERSION},
              {"config", m_cfg.path},
              {"uptime_s", up_s},
              {"workers", m_deps.workers.size()},
              {"virtual_servers", m_cfg.virtual_servers.size()},
              {"real_servers", n_rs},
              {"connections", conns},
              {"rx_pkts", t.rx_pkts},
              {"tx_pkts", t.tx_pkts},
              {"drops", drops},
              {"changes", m_changes},
              {"reloads", m_reloads},
              {"pending_publication", m_dirty},
              {"stats_ids_in_use", m_deps.ids->in_use()},
              {"neighbour_slots_unused", m_deps.neigh->unused_slots()}};
    std::string text = "ulvsd " + std::string(ULVS_VERSION) + ", up " + std::to_string(up_s) +
                       " s, config " + m_cfg.path + "\n";
    text += "workers " + std::to_string(m_deps.workers.size()) + ", virtual servers " +
            std::to_string(m_cfg.virtual_servers.size()) + ", real servers " +
            std::to_string(n_rs) + ", connections " + std::to_string(conns) + "\n";
    text += "rx_pkts " + std::to_string(t.rx_pkts) + ", tx_pkts " + std::to_string(t.tx_pkts) +
            ", drops " + std::to_string(drops) + "\n";
    text += "changes " + std::to_string(m_changes) + ", reloads " + std::to_string(m_reloads) +
            (m_dirty ? ", a change waits for next-hop resolution" : "") + "\n";
    j["text"] = text;
    return make_ok(j);
}

json manager::health() {
    json servers = json::array();
    std::string text;
    if (m_deps.health)
        for (const auto& r : m_deps.health->report(m_cfg)) {
            const std::string where = r.address.to_string() + ":" + std::to_string(r.port);
            json checks = json::array();
            if (r.checked)
                checks.push_back({{"check", r.check},
                                  {"up", r.up},
                                  {"failures", r.failures},
                                  {"last_error", r.last_error}});
            json j = {{"virtual_server", r.virtual_server},
                      {"address", r.address.to_string()},
                      {"port", r.port},
                      {"state", r.up ? "up" : "down"},
                      {"checks", checks}};
            if (r.weight)
                j["dynamic_weight"] = *r.weight;
            servers.push_back(j);
            text += r.virtual_server + " " + where + " " + (r.up ? "up" : "down");
            if (!r.checked)
                text += " (no health check configured)";
            else
                text += " (" + r.check + (r.up ? "" : ", " + r.last_error) +
                        (r.failures ? ", " + std::to_string(r.failures) + " failures" : "") + ")";
            text += "\n";
        }
    json vss = json::array();
    for (const auto& vs : m_cfg.virtual_servers) {
        const bool q = !m_deps.health || m_deps.health->quorum_up(vs.name);
        vss.push_back({{"name", vs.name}, {"quorum_up", q}});
        if (!q)
            text += vs.name + ": quorum lost" +
                    (vs.health.sorry_server ? ", traffic goes to the sorry server" : "") + "\n";
    }
    json reply = {{"servers", servers}, {"virtual_servers", vss}};
    if (m_deps.health) {
        // How late probes started (start - due) since the previous `health` request.
        const auto late = m_deps.health->take_lateness();
        reply["probe_lateness"] = {{"probes", late.probes},
                                   {"p50_us", late.p50_us},
                                   {"p90_us", late.p90_us},
                                   {"p99_us", late.p99_us},
                                   {"max_us", late.max_us}};
        text += "probes started since the last request: " + std::to_string(late.probes) +
                ", late by p50 " + std::to_string(late.p50_us) + " us, p90 " +
                std::to_string(late.p90_us) + " us, p99 " + std::to_string(late.p99_us) +
                " us, max " + std::to_string(late.max_us) + " us\n";
    }
    reply["text"] = text;
    return make_ok(reply);
}

} // namespace ulvs::mgmt
