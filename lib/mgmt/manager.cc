// manager: dispatch, changes, reload, status. -L and -Z: service_listing.cc.
#include "ulvs/mgmt/manager.h"

#include "ulvs/config/emit.h"
#include "ulvs/config/load.h"
#include "ulvs/mgmt/config_edit.h"
#include "ulvs/mgmt/health_report.h"
#include "ulvs/mgmt/metrics.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ulvs::mgmt {

namespace {

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
      m_stats(m_deps.ids, m_deps.workers, now_ms),
      m_pub({m_deps.neigh, m_deps.neigh_table, m_deps.ids, m_deps.pub, m_deps.health}),
      m_ids(m_deps.ids, m_deps.workers, m_deps.id_checks), m_listing(m_deps.conn_dumps) {
    m_stats.track(m_cfg);
    // The first snapshot is already published (the daemon's start): only ids and health here.
    m_deps.ids->committed(m_cfg);
    if (m_deps.health)
        m_deps.health->sync(m_cfg, now_ms);
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
        return make_ok(health_report(m_deps.health, m_cfg));
    if (cmd == "vrrp")
        return make_ok(m_deps.vrrp_status
                           ? m_deps.vrrp_status()
                           : json{{"instances", json::array()}, {"text", "no VRRP instances\n"}});
    if (cmd == "ping")
        return make_ok({{"version", ULVS_VERSION}});
    if (cmd == "connections")
        return m_listing.start(m_cfg, m_stats, now);
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
    if (auto built = m_pub.check(next); !built)
        return fail(errc::invalid, built.error());
    m_cfg = std::move(next);
    ++m_changes;
    m_stats.track(m_cfg);
    m_pub.committed(m_cfg, now);
    return make_ok({{"published", !m_pub.pending()}});
}

void manager::republish(uint64_t now) {
    m_pub.republish(m_cfg, now);
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
    return m_pub.poll(m_cfg, now) + m_ids.poll(now) + m_stats.poll(m_cfg, now);
}

std::string manager::metrics(uint64_t) {
    return metrics_page({m_cfg, m_stats, m_deps.health, m_deps.workers, m_deps.mbufs,
                         m_deps.vrrp_status ? m_deps.vrrp_status()["instances"] : json::array(),
                         m_changes, m_reloads});
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
              {"pending_publication", m_pub.pending()},
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
            (m_pub.pending() ? ", a change waits for next-hop resolution" : "") + "\n";
    j["text"] = text;
    return make_ok(j);
}

} // namespace ulvs::mgmt
