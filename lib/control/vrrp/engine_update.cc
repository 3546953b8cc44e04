// engine::update (engine.h): the VRRP instances follow a committed configuration as keepalived's
// reload does (vrrp.c clear_diff_vrrp, restore_vrrp_state, clear_diff_script).
#include "ulvs/control/vrrp/engine.h"

#include "ulvs/control/proc/children.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace ulvs::ctl::vrrp {

void engine::retire_scripts(inst& in) {
    for (script_state& sc : in.scripts)
        if (sc.id != 0) {
            proc::children().terminate(sc.id); // SIGTERM, SIGKILL later, reaped there
            sc.id = 0;
        }
}

void engine::update(const config::config& cfg, uint64_t now) {
    m_vs = cfg.virtual_servers;
    m_run_as = proc::options_for(cfg.scripts); // as the health checker's sync()
    m_next_track = 0; // tracked virtual servers may have changed: evaluate on the next poll
    std::vector<bool> matched(m_inst.size(), false);
    std::vector<inst> next;
    bool changed = false;
    // Sync groups are rebuilt at the end (their members' indexes change): while instances
    // start, resume and stop here, each moves alone; a group keeps its state by name.
    std::vector<group> old_groups = std::move(m_groups);
    m_groups.clear();
    for (inst& in : m_inst)
        in.group = -1;
    for (const config::vrrp_instance_cfg& c : cfg.vrrp_instances) {
        // keepalived vrrp_exist(): the same virtual router is the same VRID on the same
        // interface, both multicast or both unicast; the name may change.
        size_t o = 0;
        while (o < m_inst.size() &&
               (matched[o] || m_inst[o].cfg.port != c.port || m_inst[o].cfg.vrid != c.vrid ||
                m_inst[o].cfg.unicast_peers.empty() != c.unicast_peers.empty()))
            ++o;
        if (o < m_inst.size() && m_inst[o].cfg == c) { // unchanged: kept as it is
            matched[o] = true;
            resolve_tracked(m_inst[o]);
            next.push_back(std::move(m_inst[o]));
            continue;
        }
        changed = true;
        inst in = make_inst(cfg, c);
        if (o == m_inst.size()) {
            spdlog::info("vrrp: {} added by reload", c.name);
            for (script_state& sc : in.scripts)
                sc.next_run = now;
            apply(in, in.sm.start(now), now);
            next.push_back(std::move(in));
            continue;
        }
        matched[o] = true;
        inst& old = m_inst[o];
        in.rx_errors = old.rx_errors;
        in.adverts_rx = old.adverts_rx;
        in.adverts_tx = old.adverts_tx;
        in.transitions = old.transitions;
        in.ip_id = old.ip_id;
        in.reported = old.reported;
        // A track script that is still configured keeps its state (keepalived
        // clear_diff_script); the others are ended, the new ones run now.
        std::vector<bool> taken(old.scripts.size(), false);
        for (size_t i = 0; i < in.scripts.size(); ++i) {
            in.scripts[i].next_run = now;
            for (size_t j = 0; j < old.scripts.size(); ++j)
                if (!taken[j] && old.cfg.track.scripts[j] == c.track.scripts[i]) {
                    taken[j] = true;
                    in.scripts[i] = old.scripts[j];
                    old.scripts[j].id = 0; // now the new instance's child
                    break;
                }
        }
        retire_scripts(old);
        const bool was_master = old.sm.current() == state::master;
        const output out = in.sm.resume(old.sm, now);
        spdlog::info("vrrp: {} reloaded, staying {} (priority {})", c.name,
                     state_name(in.sm.current()), in.sm.priority());
        apply(in, out, now);
        if (was_master && in.sm.current() == state::master) {
            // keepalived sends its gratuitous ARPs again when a reload added addresses.
            const bool added =
                std::any_of(in.ours.addrs.begin(), in.ours.addrs.end(), [&](uint32_t a) {
                    return std::find(old.ours.addrs.begin(), old.ours.addrs.end(), a) ==
                           old.ours.addrs.end();
                });
            in.garp_again = old.garp_again;
            in.garp_refresh = old.garp_refresh;
            if (in.cfg.garp.master_refresh != old.cfg.garp.master_refresh)
                in.garp_refresh = in.cfg.garp.master_refresh.count() != 0
                                      ? now + uint64_t(in.cfg.garp.master_refresh.count())
                                      : 0;
            if (added)
                entered_master(in, now);
        }
        next.push_back(std::move(in));
    }
    for (size_t o = 0; o < m_inst.size(); ++o) {
        if (matched[o])
            continue;
        // Removed: a master hands over at once with priority 0 (keepalived
        // vrrp_restore_interface on a deleted instance) and its addresses are released.
        changed = true;
        spdlog::info("vrrp: {} removed by reload", m_inst[o].cfg.name);
        retire_scripts(m_inst[o]);
        apply(m_inst[o], m_inst[o].sm.stop(now), now);
    }
    m_inst = std::move(next);
    build_groups(cfg);
    for (group& g : m_groups)
        for (const group& o : old_groups)
            if (o.cfg.name == g.cfg.name)
                g.st = o.st;
    m_ownership_changed |= changed;
}

} // namespace ulvs::ctl::vrrp
