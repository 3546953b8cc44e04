// manager: dispatch, changes, reload, status. -L and -Z: service_listing.cc.
#include "ulvs/mgmt/manager.h"

#include "ulvs/config/emit.h"
#include "ulvs/config/load.h"
#include "ulvs/mgmt/config_edit.h"
#include "ulvs/mgmt/config_write.h"
#include "ulvs/mgmt/health_report.h"
#include "ulvs/mgmt/metrics.h"
#include "ulvs/mgmt/sync_daemon.h"

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
      m_pub({m_deps.inputs, m_deps.neigh_table, m_deps.pub, m_deps.health}),
      m_ids(m_deps.ids, m_deps.workers, m_deps.id_checks), m_listing(m_deps.conn_dumps) {
    m_config_sha256 = m_deps.config_sha256;
    m_stats.track(m_cfg);
    m_history.remember(m_cfg); // the file ulvsd started with
    // The first snapshot is already published (the daemon's start): only ids and health here.
    m_deps.ids->committed(m_cfg);
    if (m_deps.health)
        m_deps.health->sync(m_cfg, now_ms);
}

handler_result manager::handle(const json& req, uint64_t now) {
    const std::string cmd = req["cmd"].get<std::string>();
    if (is_config_change(cmd))
        return enqueue(req, true);
    if (cmd == "list")
        return list(req);
    if (cmd == "zero")
        return zero(req);
    if (cmd == "reload")
        return enqueue({{"cmd", "reload"}}, true);
    if (cmd == "save_yaml" && req.value("write", false) == true)
        return enqueue({{"cmd", "save_yaml"}, {"write", true}}, true); // after queued changes
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
        return m_listing.start(m_cfg, m_stats, req, now);
    if (cmd == "drain" || cmd == "undrain")
        return drain(req);
    if (cmd == "daemon") // -L --daemon
        return make_ok(daemon_listing(m_cfg));
    return fail(errc::unknown_command, "unknown command \"" + cmd + "\"");
}

handler_result manager::enqueue(json op, bool reply_wanted) {
    const uint64_t id = m_next_work++;
    if (op.value("cmd", "") == "reload")
        ++m_reloads;
    m_work.push_back({id, std::move(op), reply_wanted});
    if (!reply_wanted)
        return json();
    return deferred_reply([this, id](uint64_t) -> std::optional<json> {
        auto it = m_replies.find(id);
        if (it == m_replies.end())
            return std::nullopt;
        json r = std::move(it->second);
        m_replies.erase(it);
        return r;
    });
}

void manager::request_reload(std::function<void(const json&)> done) {
    enqueue({{"cmd", "reload"}}, false);
    m_work.back().done = std::move(done);
}

bool manager::start_work(const config_work& w) {
    if (w.op.value("cmd", "") == "save_yaml") {
        if (m_cfg.path.empty()) {
            m_replies[w.id] = fail(errc::invalid, "ulvsd runs without a configuration file (no "
                                                  "-c): nothing to write; use save-yaml > FILE");
            return false;
        }
        start_write();
        return true;
    }
    if (w.op.value("cmd", "") == "reload") {
        m_jobs.start([path = m_cfg.path]() -> config_jobs::outcome {
            std::string bytes;
            std::vector<config::diagnostic> warnings;
            auto loaded = config::load_file(path, &bytes, &warnings);
            for (const config::diagnostic& w : warnings) // as ulvsd --check prints them
                spdlog::warn("{}", w.to_string());
            if (!loaded) {
                std::vector<std::string> details;
                for (const config::diagnostic& d : loaded.error())
                    details.push_back(d.to_string());
                return std::unexpected(fail(errc::invalid,
                                            "invalid configuration " + path +
                                                ": not reloaded, the running configuration is "
                                                "unchanged",
                                            details));
            }
            loaded->path = path;
            return config_jobs::loaded{std::move(*loaded), sha256_hex(bytes)};
        });
        return true;
    }
    config::config next = m_cfg; // the op itself is cheap: applied here, validated off the lcore
    if (auto r = apply_op(next, w.op, &m_history); !r) {
        if (w.reply_wanted)
            m_replies[w.id] = make_error(r.error());
        return false;
    }
    m_jobs.start([next = std::move(next)]() -> config_jobs::outcome {
        auto valid = revalidate(next);
        if (!valid)
            return std::unexpected(make_error(valid.error()));
        return config_jobs::loaded{std::move(*valid), ""};
    });
    return true;
}

unsigned manager::advance_config_work(uint64_t now) {
    unsigned work = 0;
    if (m_jobs.busy()) {
        auto done = m_jobs.take();
        if (!done)
            return 0;
        const config_work w = std::move(m_work.front());
        m_work.pop_front();
        const std::string cmd = w.op.value("cmd", "");
        json reply = cmd == "reload"      ? finish_reload(std::move(*done), now)
                     : cmd == "save_yaml" ? finish_write(std::move(*done))
                                          : finish_change(w.op, std::move(*done), now);
        if (w.done)
            w.done(reply);
        if (w.reply_wanted)
            m_replies[w.id] = std::move(reply);
        ++work;
    }
    // Changes that do not apply are answered at once; the first that needs a job starts it.
    while (!m_work.empty() && !m_jobs.busy()) {
        ++work;
        if (start_work(m_work.front()))
            break;
        m_work.pop_front();
    }
    return work;
}

json manager::finish_change(const json& op, config_jobs::outcome o, uint64_t now) {
    if (!o)
        return std::move(o.error());
    json reply = commit(std::move(o->cfg), now);
    if (reply.value("ok", false) && op.value("cmd", "").ends_with("_dest"))
        if (auto note = dest_note(op, m_cfg, m_pub.effective(m_cfg)); !note.empty())
            reply["note"] = note; // issue 16: -e on a down server showed nowhere
    // -Z inside a -R batch: after the services it names exist.
    if (reply.value("ok", false) && op.value("cmd", "") == "batch")
        for (const json& z : op["ops"])
            if (z.value("cmd", "") == "zero")
                zero(z);
    return reply;
}

json manager::commit(config::config next, uint64_t now) {
    if (auto built = m_pub.check(next); !built)
        return fail(errc::invalid, built.error());
    m_cfg = std::move(next);
    ++m_changes;
    m_stats.track(m_cfg);
    m_history.remember(m_cfg);
    if (m_deps.committed)
        m_deps.committed(m_cfg, now);
    m_pub.committed(m_cfg, now);
    return make_ok({{"published", !m_pub.pending()}});
}

void manager::republish(uint64_t now) {
    m_pub.republish(m_cfg, now);
}

json manager::finish_reload(config_jobs::outcome loaded, uint64_t now) {
    json r = reload_outcome(std::move(loaded), now);
    const std::string code =
        r.value("ok", false) ? "ok" : r["error"].value("code", std::string("internal"));
    ++m_reload_outcomes[code];
    if (code == "ok")
        m_last_reload_ok = std::chrono::system_clock::now();
    return r;
}

json manager::reload_outcome(config_jobs::outcome loaded, uint64_t now) {
    if (!loaded) {
        for (const json& d : loaded.error()["error"].value("details", json::array()))
            spdlog::error("reload refused: {}", d.get<std::string>());
        return std::move(loaded.error());
    }
    auto restart = restart_only_changes(m_cfg, loaded->cfg);
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
    apply_static_neighbors(loaded->cfg, *m_deps.neigh);
    const std::string level = loaded->cfg.logging.level;
    json r = commit(std::move(loaded->cfg), now);
    if (r.value("ok", false)) {
        m_config_sha256 = loaded->sha256;
        spdlog::set_level(spdlog::level::from_str(level));
        spdlog::info("reloaded {}: {} virtual servers", m_cfg.path, m_cfg.virtual_servers.size());
    }
    return r;
}

void manager::start_write() {
    // The YAML is made here (as plain save-yaml does); the file system's work, which may wait on
    // a slow disk, runs off the control lcore like a reload (config_jobs.h).
    std::string text = config::to_yaml(m_cfg);
    m_writing_sha256 = sha256_hex(text);
    m_jobs.start([path = m_cfg.path, text = std::move(text)]() -> config_jobs::outcome {
        auto written = write_config_file(path, text);
        if (!written)
            return std::unexpected(fail(errc::internal, written.error()));
        return config_jobs::loaded{config::config{}, *written};
    });
}

json manager::finish_write(config_jobs::outcome o) {
    if (!o)
        return std::move(o.error());
    m_config_sha256 = m_writing_sha256;    // the file is the running config now (ulvs_config_info)
    const std::string& backup = o->sha256; // write_config_file's note: where the old file went
    spdlog::info("save-yaml --write: wrote {}{}", m_cfg.path,
                 backup.empty() ? "" : " (the previous file is " + backup + ")");
    return make_ok(
        {{"path", m_cfg.path},
         {"backup", backup},
         {"text", "wrote " + m_cfg.path +
                      (backup.empty() ? "" : " (the previous file is " + backup + ")") + "\n"}});
}

unsigned manager::poll(uint64_t now) {
    return advance_config_work(now) + m_pub.poll(m_cfg, now) + m_ids.poll(now) +
           m_stats.poll(m_cfg, now);
}

std::string manager::metrics(uint64_t) {
    return metrics_page({m_cfg, m_stats, m_deps.health, m_deps.workers, m_deps.mbufs,
                         m_deps.vrrp_status ? m_deps.vrrp_status()["instances"] : json::array(),
                         m_changes, m_reload_outcomes, m_config_sha256, m_cfg.path,
                         m_last_reload_ok,
                         m_deps.control_counters ? m_deps.control_counters()
                                                 : std::vector<control_counter>{}}) +
           (m_deps.announce ? m_deps.announce->metrics_text() : std::string());
}

// `ulvsadm drain [VIP]` / `undrain [VIP]`: runtime state of the announcer, not of the config,
// so a reload keeps it; the announce task applies it within its period.
json manager::drain(const json& req) {
    if (m_deps.announce == nullptr)
        return fail(errc::not_implemented, "this daemon announces no VIPs");
    std::optional<ip_addr> vip;
    if (auto v = req.find("vip"); v != req.end()) {
        if (!v->is_string() || !(vip = ip_addr::parse(v->get<std::string>())))
            return fail(errc::bad_request, "\"vip\" must be an IPv4 address");
    }
    const bool on = req["cmd"] == "drain";
    auto r = on ? m_deps.announce->drain(m_cfg, vip) : m_deps.announce->undrain(m_cfg, vip);
    if (!r)
        return fail(errc::invalid, r.error());
    spdlog::info("{}", *r);
    return make_ok({{"text", *r + "\n"}});
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
    if (m_deps.control_counters) {
        const auto cc = m_deps.control_counters();
        json o = json::object();
        for (size_t i = 0; i < cc.size(); ++i) {
            o[cc[i].name] = cc[i].value;
            text += (i ? ", " : "control: ") + cc[i].name + " " + std::to_string(cc[i].value) +
                    (i + 1 == cc.size() ? "\n" : "");
        }
        j["control"] = o;
    }
    if (m_deps.announce && m_deps.announce->enabled()) {
        json a = json::array();
        for (const ctl::vip_announcement& v : m_deps.announce->vips())
            a.push_back({{"vip", v.vip.to_string()},
                         {"state", ctl::to_string(v.state)},
                         {"drained", v.drained}});
        j["announce"] = a;
        text += m_deps.announce->status_text();
    }
    j["text"] = text;
    return make_ok(j);
}

} // namespace ulvs::mgmt
