// `vrrp_sync_groups`: keepalived's vrrp_sync_group in YAML (README "Configuration"): instances
// that change state together (control/vrrp/engine.h). Read and checked here.
#include "draft.h"

#include <algorithm>

namespace ulvs::config::detail {

namespace {

std::string quoted(const std::string& s) {
    return "\"" + s + "\"";
}

void parse_group(reader& r, const field& f, vrrp_sync_group_cfg& out, vrrp_sync_note& note) {
    note.name_at = f.at;
    mapping m(r, f, {"name", "instances", "notify"});
    if (!m.valid())
        return;
    if (auto n = m.require("name")) {
        note.name_at = n->at;
        auto s = read_string(r, *n);
        if (s && s->empty())
            r.error(n->at, n->path + " must not be empty");
        else if (s)
            out.name = *s;
    }
    if (auto i = m.require("instances"))
        if (auto items = read_list(r, *i)) {
            // keepalived removes a group without members; one member is allowed (it warns).
            if (items->empty())
                r.error(i->at, i->path + " must name at least one VRRP instance");
            for (const field& item : *items)
                if (auto s = read_string(r, item)) {
                    out.instances.push_back(*s);
                    note.instance_at.push_back(item.at);
                }
        }
    if (auto n = m.get("notify"))
        parse_vrrp_notify(r, *n, out.notify, {"master", "backup", "fault", "any"});
}

} // namespace

void parse_vrrp_sync_groups(reader& r, const field& f, draft& d) {
    auto items = read_list(r, f);
    if (!items)
        return;
    for (const field& item : *items) {
        vrrp_sync_group_cfg g;
        vrrp_sync_note n;
        parse_group(r, item, g, n);
        d.cfg.vrrp_sync_groups.push_back(std::move(g));
        d.vrrp_sync.push_back(std::move(n));
    }
}

void check_vrrp_sync_groups(reader& r, const draft& d) {
    const config& c = d.cfg;
    for (size_t i = 0; i < c.vrrp_sync_groups.size(); ++i) {
        const vrrp_sync_group_cfg& g = c.vrrp_sync_groups[i];
        const vrrp_sync_note& note = d.vrrp_sync[i];
        for (size_t j = 0; j < i && !g.name.empty(); ++j)
            if (c.vrrp_sync_groups[j].name == g.name)
                r.error(note.name_at, "sync group name " + quoted(g.name) +
                                          " is already used by vrrp_sync_groups[" +
                                          std::to_string(j) + "]");
        for (size_t k = 0; k < g.instances.size(); ++k) {
            const std::string& n = g.instances[k];
            // An instance that did not parse has its own error already.
            auto known = [&](const vrrp_instance_cfg& v) { return v.name == n; };
            if (std::none_of(c.vrrp_instances.begin(), c.vrrp_instances.end(), known)) {
                if (std::all_of(d.vrrp.begin(), d.vrrp.end(),
                                [](const vrrp_note& v) { return v.ok; }))
                    r.error(note.instance_at[k],
                            "sync group member " + quoted(n) + " names no VRRP instance");
                continue;
            }
            // keepalived drops a weighted track script of a sync group member (vrrp.c, "ignoring
            // tracked script with weights due to SYNC group"): one member's priority moving alone
            // would leave the peers' groups split for good. Refused here rather than ignored.
            const vrrp_instance_cfg& v =
                *std::find_if(c.vrrp_instances.begin(), c.vrrp_instances.end(), known);
            if (std::any_of(v.track.scripts.begin(), v.track.scripts.end(),
                            [](const vrrp_track_script_cfg& t) { return t.weight != 0; }))
                r.error(
                    note.instance_at[k],
                    "VRRP instance " + quoted(n) +
                        " is in a sync group: its track scripts "
                        "must have weight 0 (a failure is FAULT for the whole group; keepalived "
                        "ignores weighted ones)");
            for (size_t k2 = 0; k2 < k; ++k2)
                if (g.instances[k2] == n)
                    r.error(note.instance_at[k], "sync group member " + quoted(n) +
                                                     " is listed twice in " + quoted(g.name));
            // keepalived: an instance "cannot exist in more than one sync group".
            for (size_t j = 0; j < i; ++j) {
                const auto& other = c.vrrp_sync_groups[j].instances;
                if (std::find(other.begin(), other.end(), n) != other.end())
                    r.error(note.instance_at[k], "VRRP instance " + quoted(n) +
                                                     " is already in sync group " +
                                                     quoted(c.vrrp_sync_groups[j].name));
            }
        }
    }
}

} // namespace ulvs::config::detail
