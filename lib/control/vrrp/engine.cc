#include "ulvs/control/vrrp/engine.h"

#include "ulvs/common/command_line.h"
#include "ulvs/control/proc/children.h"
#include "ulvs/dataplane/fwd/snapshot.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cstdio>

namespace ulvs::ctl::vrrp {

namespace {

constexpr size_t eth_len = 14;

// Without engine_io::vs_up: a tracked virtual server is up while the current snapshot has a
// real server of weight > 0 for it (ulvsd asks the health checker instead, engine.h).
bool service_up(const dp::snapshot& snap, const config::virtual_server_cfg& vs) {
    const dp::service* s =
        snap.find_service(htonl(vs.address.v4), htons(vs.port), static_cast<uint8_t>(vs.protocol));
    if (s == nullptr)
        return false;
    for (uint32_t i = 0; i < s->dest_count; ++i)
        if (snap.dests[s->dest_first + i].weight > 0)
            return true;
    return false;
}

} // namespace

engine::inst engine::make_inst(const config::config& cfg, const config::vrrp_instance_cfg& c) {
    uint8_t port = 0;
    for (size_t p = 0; p < cfg.ports.size(); ++p)
        if (cfg.ports[p].name == c.port)
            port = uint8_t(p);
    // Advertisements come from the port's address on the virtual addresses' subnet, else its
    // first one (keepalived: the interface's primary address).
    const auto& addrs = cfg.ports[port].addresses;
    ip_addr src = addrs.empty() ? ip_addr{} : addrs.front().addr;
    for (const ip_prefix& a : addrs)
        if (a.contains(c.virtual_addresses.front().addr)) {
            src = a.addr;
            break;
        }
    if (c.source_address) // keepalived mcast_src_ip / unicast_src_ip (one of the port's)
        src = *c.source_address;
    params p;
    p.version = c.version;
    p.priority = c.priority;
    p.advert_ms = uint32_t(c.advert_int.count());
    p.preempt = c.preempt;
    p.preempt_delay_ms = uint32_t(c.preempt_delay.count());
    p.initial_master = c.initial_master;
    p.primary_ip = src.v4;
    inst in{c, port, instance(p), {}, {}, {}, {}};
    in.ours.version = c.version;
    in.ours.vrid = c.vrid;
    in.ours.interval_cs = uint16_t(c.advert_int.count() / 10);
    in.ours.src_ip = src.v4;
    for (const ip_prefix& a : c.virtual_addresses)
        in.ours.addrs.push_back(a.addr.v4);
    std::copy_n(c.auth_pass.begin(), std::min<size_t>(c.auth_pass.size(), 8), in.ours.auth.begin());
    for (const std::string& n : c.track.ports)
        for (size_t p2 = 0; p2 < cfg.ports.size(); ++p2)
            if (cfg.ports[p2].name == n)
                in.track_ports.push_back(uint8_t(p2));
    resolve_tracked(in);
    in.scripts.resize(c.track.scripts.size());
    for (size_t i = 0; i < in.scripts.size(); ++i)
        in.scripts[i].verdict = script_verdict(c.track.scripts[i].rise, c.track.scripts[i].fall);
    return in;
}

void engine::resolve_tracked(inst& in) const {
    in.track_vs.clear();
    for (const std::string& n : in.cfg.track.virtual_servers)
        for (size_t v = 0; v < m_vs.size(); ++v)
            if (m_vs[v].name == n)
                in.track_vs.push_back(v);
}

engine::engine(const config::config& cfg, engine_io io)
    : m_vs(cfg.virtual_servers), m_io(std::move(io)), m_run_as(proc::options_for(cfg.scripts)) {
    for (const config::vrrp_instance_cfg& c : cfg.vrrp_instances)
        m_inst.push_back(make_inst(cfg, c));
    build_groups(cfg);
}

engine::~engine() {
    for (inst& in : m_inst)
        for (script_state& s : in.scripts)
            if (s.id != 0)
                proc::children().terminate(s.id);
}

void engine::notify(const inst& in) {
    const std::string* script = nullptr;
    switch (in.sm.current()) {
    case state::master:
        script = &in.cfg.notify.master;
        break;
    case state::backup:
        script = &in.cfg.notify.backup;
        break;
    case state::fault:
        script = &in.cfg.notify.fault;
        break;
    case state::init: // stop(): keepalived's notify_stop
        script = &in.cfg.notify.stop;
        break;
    }
    // keepalived runs notify_master/backup/fault/stop as written, without extra arguments, and
    // does not wait for them.
    if (!script->empty())
        if (auto r = proc::children().start_detached(*script, m_run_as); !r)
            spdlog::warn("vrrp: {}: notify script: {}", in.cfg.name, r.error());
    const state st = in.sm.current();
    notify_any(in.cfg.notify.any, "INSTANCE", in.cfg.name,
               st == state::init ? "STOP" : state_name(st), in.sm.priority());
}

void engine::notify_any(const std::string& script, const char* type, const std::string& name,
                        const char* state_text, unsigned priority) {
    if (script.empty())
        return;
    // keepalived's generic notify: the script's own words, then TYPE NAME STATE PRIORITY as
    // four more arguments.
    auto argv = split_command_line(script);
    if (!argv) {
        spdlog::warn("vrrp: {}: notify script: {}", name, argv.error());
        return;
    }
    argv->insert(argv->end(), {type, name, state_text, std::to_string(priority)});
    auto id = proc::children().start(*argv, m_run_as);
    if (!id)
        spdlog::warn("vrrp: {}: notify script: {}", name, id.error());
    else
        proc::children().release(*id); // not waited for; reaped by proc::children().poll()
}

void engine::send_advert(inst& in, uint8_t priority) {
    uint8_t frame[max_frame];
    advert a = in.ours;
    a.priority = priority;
    const auto& mac = m_io.port_macs[in.port];
    if (in.cfg.unicast_peers.empty()) {
        a.dst_ip = mcast_group;
        m_io.send(in.port, {frame, build_advert(a, mac, mcast_mac, in.ip_id++, frame)});
        ++in.adverts_tx;
        return;
    }
    for (const ip_addr& peer : in.cfg.unicast_peers) {
        auto dst = m_io.peer_mac ? m_io.peer_mac(in.port, peer) : std::nullopt;
        if (!dst)
            continue; // being resolved: the next advertisement goes out
        a.dst_ip = peer.v4;
        m_io.send(in.port, {frame, build_advert(a, mac, dst->b, in.ip_id++, frame)});
        ++in.adverts_tx;
    }
}

void engine::send_garps(inst& in, unsigned count) {
    uint8_t frame[64];
    for (unsigned i = 0; i < count; ++i)
        for (const ip_prefix& a : in.cfg.virtual_addresses)
            m_io.send(in.port, {frame, build_garp(a.addr.v4, m_io.port_macs[in.port], frame)});
}

// keepalived vrrp_state_become_master: a burst now, the burst again garp_master_delay later,
// and (garp_master_refresh) one every refresh interval while MASTER.
void engine::entered_master(inst& in, uint64_t now) {
    send_garps(in, garp_count);
    const auto delay = uint64_t(in.cfg.garp.master_delay.count());
    const auto refresh = uint64_t(in.cfg.garp.master_refresh.count());
    in.garp_again = delay != 0 ? now + delay : 0;
    in.garp_refresh = refresh != 0 ? now + refresh : 0;
}

void engine::apply(inst& in, const output& o, uint64_t now) {
    // A sync group may take a transition back (a MASTER its group does not follow yet): what
    // is left is the move to BACKUP of a member leaving FAULT, if any.
    output out = o;
    if (o.changed && in.group >= 0 && !sync_gate(in, now)) {
        if (in.sm.current() == in.reported)
            return;
        out = {false, 0, true};
    }
    if (out.send)
        send_advert(in, out.send_priority);
    if (!out.changed)
        return;
    const state st = in.sm.current();
    const state from = std::exchange(in.reported, st);
    ++in.transitions;
    spdlog::info("vrrp: {} entering {} state (priority {})", in.cfg.name, state_name(st),
                 in.sm.priority());
    m_ownership_changed = true;
    in.garp_again = in.garp_refresh = 0;
    if (st == state::master)
        entered_master(in, now);
    notify(in);
    if (in.group >= 0)
        sync_after(in, from, now);
}

void engine::start(uint64_t now) {
    for (inst& in : m_inst) {
        for (script_state& s : in.scripts)
            s.next_run = now;
        apply(in, in.sm.start(now), now);
    }
    m_ownership_changed = true;
}

void engine::stop(uint64_t now) {
    for (inst& in : m_inst)
        apply(in, in.sm.stop(now), now);
    // keepalived notify_shutdown: every group's generic notify hears STOP too.
    for (group& g : m_groups)
        set_group(g, state::init);
}

bool engine::on_frame(const uint8_t* frame, size_t len, uint8_t in_port, uint64_t now) {
    if (len < eth_len + 20 || frame[12] != 0x08 || frame[13] != 0x00 ||
        frame[eth_len + 9] != ip_proto_vrrp)
        return false;
    advert got;
    rx_error err = parse_advert(frame + eth_len, len - eth_len, got);
    for (inst& in : m_inst) {
        if (in.port != in_port || (err == rx_error::none && got.vrid != in.cfg.vrid))
            continue;
        if (err == rx_error::none && got.src_ip == in.ours.src_ip)
            continue; // our own, looped back
        if (err == rx_error::none && !in.cfg.unicast_peers.empty() &&
            std::none_of(in.cfg.unicast_peers.begin(), in.cfg.unicast_peers.end(),
                         [&](const ip_addr& p) { return p.v4 == got.src_ip; }))
            continue; // unicast mode: only our peers speak for this VRID
        rx_error e = err == rx_error::none ? check_advert(got, in.ours) : err;
        if (e != rx_error::none) {
            if (in.rx_errors++ % 100 == 0) // rate-limited: a misconfigured peer sends every second
                spdlog::warn("vrrp: {}: advertisement refused: {}", in.cfg.name, rx_error_name(e));
            continue;
        }
        ++in.adverts_rx;
        apply(in, in.sm.on_advert(got.priority, got.src_ip, got.interval_cs, now), now);
    }
    return true;
}

unsigned engine::run_scripts(inst& in, uint64_t now) {
    unsigned work = 0;
    for (size_t i = 0; i < in.scripts.size(); ++i) {
        script_state& s = in.scripts[i];
        const auto& cfg = in.cfg.track.scripts[i];
        const uint64_t interval = uint64_t(cfg.interval.count());
        const uint64_t timeout =
            cfg.timeout.count() != 0 ? uint64_t(cfg.timeout.count()) : interval;
        if (s.id != 0) {
            const auto end = proc::children().status(s.id);
            if (!end && now - s.started >= timeout) {
                // Timed out (keepalived's default timeout is the interval): failed. SIGTERM to
                // its group, SIGKILL later; proc::children() reaps it, nobody waits here.
                proc::children().terminate(s.id);
                s.verdict.add(false);
                s.id = 0;
                ++work;
            } else if (end) {
                proc::children().release(s.id);
                s.verdict.add(end->exited && end->code == 0);
                s.id = 0;
                ++work;
            }
        }
        if (s.id == 0 && now >= s.next_run) {
            auto id = proc::children().start(cfg.path, m_run_as);
            if (!id)
                spdlog::warn("vrrp: {}: track script: {}", in.cfg.name, id.error());
            s.id = id.value_or(0);
            s.started = now;
            s.next_run = now + interval;
            if (s.id == 0)
                s.verdict.add(false);
            ++work;
        }
    }
    return work;
}

unsigned engine::poll(uint64_t now, const dp::snapshot& snap) {
    unsigned work = 0;
    const bool track = now >= m_next_track;
    if (track)
        m_next_track = now + track_period_ms;
    for (inst& in : m_inst) {
        if (track)
            work += track_all(in, now, snap);
        if (now >= in.sm.next_event()) {
            apply(in, in.sm.tick(now), now);
            ++work;
        }
        if (in.garp_again != 0 && now >= in.garp_again) {
            in.garp_again = 0;
            if (in.sm.current() == state::master)
                send_garps(in, garp_count);
        }
        if (in.garp_refresh != 0 && now >= in.garp_refresh) {
            in.garp_refresh = 0;
            if (in.sm.current() == state::master) {
                send_garps(in, garp_refresh_count);
                in.garp_refresh = now + uint64_t(in.cfg.garp.master_refresh.count());
            }
        }
    }
    return work;
}

unsigned engine::track_all(inst& in, uint64_t now, const dp::snapshot& snap) {
    unsigned work = run_scripts(in, now);
    bool fault = false;
    int delta = 0;
    for (uint8_t p : in.track_ports)
        fault |= m_io.link_up && !m_io.link_up(p);
    for (size_t v : in.track_vs)
        fault |= !(m_io.vs_up ? m_io.vs_up(m_vs[v]) : service_up(snap, m_vs[v]));
    for (size_t i = 0; i < in.scripts.size(); ++i) {
        const int w = in.cfg.track.scripts[i].weight;
        const bool ok = in.scripts[i].verdict.ok();
        if (w == 0)
            fault |= !ok;
        else if ((w > 0 && ok) || (w < 0 && !ok))
            delta += w; // keepalived: a positive weight adds on success, a negative on failure
    }
    apply(in, in.sm.set_tracking(fault, delta, now), now);
    return work;
}

bool engine::take_ownership_change() {
    return std::exchange(m_ownership_changed, false);
}

std::vector<owned_addr> engine::ownership() const {
    std::vector<owned_addr> out;
    for (const inst& in : m_inst)
        for (const ip_prefix& a : in.cfg.virtual_addresses) {
            const bool mine = in.sm.current() == state::master;
            auto same = [&](const owned_addr& o) { return o.addr == a.addr; };
            if (auto it = std::find_if(out.begin(), out.end(), same); it != out.end())
                it->owned |= mine;
            else
                out.push_back({a.addr, in.port, mine});
        }
    return out;
}

std::vector<engine::status> engine::statuses() const {
    std::vector<status> out;
    for (const inst& in : m_inst)
        out.push_back({in.cfg.name, in.sm.current(), in.sm.priority(), in.sm.master_ip(),
                       in.rx_errors, in.adverts_rx, in.adverts_tx, in.transitions});
    return out;
}

std::string engine::status_text() const {
    if (m_inst.empty())
        return "no VRRP instances\n";
    std::string s;
    char line[160];
    std::snprintf(line, sizeof line, "%-16s %-8s %4s %3s %-7s %8s %-16s\n", "Instance", "Port",
                  "VRID", "Ver", "State", "Priority", "Master");
    s += line;
    for (const inst& in : m_inst) {
        const uint32_t m = in.sm.master_ip();
        std::string master = m == 0 ? "-" : ip_addr::from_v4(m).to_string();
        if (m != 0 && m == in.ours.src_ip)
            master += " (us)";
        std::snprintf(line, sizeof line, "%-16s %-8s %4u %3u %-7s %8u %-16s\n", in.cfg.name.c_str(),
                      in.cfg.port.c_str(), unsigned(in.cfg.vrid), unsigned(in.cfg.version),
                      state_name(in.sm.current()), unsigned(in.sm.priority()), master.c_str());
        s += line;
    }
    return s;
}

} // namespace ulvs::ctl::vrrp
