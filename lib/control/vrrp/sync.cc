// Sync groups (engine.h): keepalived's vrrp_sync_group, as vrrp_sync.c and vrrp_scheduler.c
// move its members. The instances' machines stay independent (instance.h); the engine holds
// each group's state and moves the other members when one changes.
#include "ulvs/control/vrrp/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ulvs::ctl::vrrp {

void engine::build_groups(const config::config& cfg) {
    m_groups.clear();
    for (const config::vrrp_sync_group_cfg& gc : cfg.vrrp_sync_groups) {
        group g{gc, {}, state::backup};
        for (const std::string& n : gc.instances)
            for (size_t i = 0; i < m_inst.size(); ++i)
                if (m_inst[i].cfg.name == n) {
                    g.members.push_back(i);
                    m_inst[i].group = int(m_groups.size());
                }
        // keepalived vrrp_sync_set_group: a group of address owners only starts MASTER.
        if (!g.members.empty() && std::all_of(g.members.begin(), g.members.end(), [&](size_t i) {
                return m_inst[i].cfg.priority == 255;
            }))
            g.st = state::master;
        m_groups.push_back(std::move(g));
    }
}

void engine::set_group(group& g, state st) {
    if (g.st == st)
        return;
    g.st = st;
    const bool stopping = st == state::init;
    if (stopping)
        spdlog::info("vrrp: sync group {} stopping", g.cfg.name);
    else
        spdlog::info("vrrp: sync group {} syncing instances to {} state", g.cfg.name,
                     state_name(st));
    const std::string* script = nullptr;
    if (st == state::master)
        script = &g.cfg.notify.master;
    else if (st == state::backup)
        script = &g.cfg.notify.backup;
    else if (st == state::fault)
        script = &g.cfg.notify.fault;
    if (script != nullptr && !script->empty())
        if (auto r = proc::children().start_detached(*script, m_run_as); !r)
            spdlog::warn("vrrp: sync group {}: notify script: {}", g.cfg.name, r.error());
    // keepalived gives a group priority 0 in its generic notify.
    notify_any(g.cfg.notify.any, "GROUP", g.cfg.name, stopping ? "STOP" : state_name(st), 0);
}

// Before a member's transition takes effect.
bool engine::sync_gate(inst& in, uint64_t now) {
    group& g = m_groups[size_t(in.group)];
    const state st = in.sm.current();
    if (g.st == state::fault && in.reported == state::fault &&
        (st == state::backup || st == state::master)) {
        // keepalived num_member_fault: the group stays FAULT while any member's own tracking
        // fails; when none does, every member comes up.
        const bool other_faulty = std::any_of(g.members.begin(), g.members.end(), [&](size_t i) {
            return &m_inst[i] != &in && m_inst[i].sm.tracking_fault();
        });
        if (other_faulty) {
            in.sm.hold_fault();
            return false;
        }
        set_group(g, state::backup);
        for (size_t i : g.members)
            if (&m_inst[i] != &in && m_inst[i].sm.current() == state::fault)
                apply(m_inst[i], m_inst[i].sm.force_backup(now), now);
    }
    if (st == state::master && g.st != state::master) {
        // keepalived vrrp_sync_can_goto_master: only when every other member wants MASTER too,
        // "to avoid thrashing".
        const bool all = std::all_of(g.members.begin(), g.members.end(), [&](size_t i) {
            return &m_inst[i] == &in || m_inst[i].sm.wants_master();
        });
        if (!all) {
            in.sm.defer_master(now);
            return false;
        }
    }
    return true;
}

// After a member's transition: the group follows it, and so do the other members.
void engine::sync_after(inst& in, state from, uint64_t now) {
    group& g = m_groups[size_t(in.group)];
    const state st = in.sm.current();
    auto others = [&](auto&& move) {
        for (size_t i : g.members)
            if (&m_inst[i] != &in)
                apply(m_inst[i], move(m_inst[i].sm), now);
    };
    if (st == state::fault && g.st != state::fault) {
        set_group(g, state::fault);
        others([&](instance& sm) { return sm.force_fault(now); });
    } else if (st == state::master && g.st != state::master) {
        set_group(g, state::master);
        others([&](instance& sm) { return sm.force_master(now); });
    } else if (st == state::backup && from == state::master && g.st == state::master) {
        set_group(g, state::backup);
        others([&](instance& sm) {
            return sm.current() == state::master ? sm.force_backup(now) : output{};
        });
    }
}

std::vector<std::pair<std::string, state>> engine::group_states() const {
    std::vector<std::pair<std::string, state>> out;
    for (const group& g : m_groups)
        out.emplace_back(g.cfg.name, g.st);
    return out;
}

} // namespace ulvs::ctl::vrrp
