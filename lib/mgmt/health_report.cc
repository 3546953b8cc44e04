#include "ulvs/mgmt/health_report.h"

namespace ulvs::mgmt {

json health_report(ctl::health::checker* health, const config::config& running) {
    json servers = json::array();
    std::string text;
    if (health)
        for (const auto& r : health->report(running)) {
            const std::string where = r.address.to_string() + ":" + std::to_string(r.port);
            json checks = json::array();
            std::string detail;
            for (const auto& c : r.checks) {
                checks.push_back({{"check", c.check},
                                  {"up", c.up},
                                  {"failures", c.failures},
                                  {"last_error", c.last_error}});
                // Each checker; with several, which is down says why the server is.
                detail += (detail.empty() ? "" : "; ") + c.check +
                          (r.checks.size() > 1 ? c.up ? " up" : " down" : "") +
                          (c.up || c.last_error.empty() ? "" : ", " + c.last_error) +
                          (c.failures ? ", " + std::to_string(c.failures) + " failures" : "");
            }
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
                text += " (" + detail + ")";
            text += "\n";
        }
    json vss = json::array();
    for (const auto& vs : running.virtual_servers) {
        const bool q = !health || health->quorum_up(vs.name);
        vss.push_back({{"name", vs.name}, {"quorum_up", q}});
        if (!q)
            text += vs.name + ": quorum lost" +
                    (vs.health.sorry_server ? ", traffic goes to the sorry server" : "") + "\n";
    }
    json reply = {{"servers", servers}, {"virtual_servers", vss}};
    if (health) {
        // How late probes started (start - due) since the previous `health` request.
        const auto late = health->take_lateness();
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
