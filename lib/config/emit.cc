// to_yaml: flow-style lists of mappings, every string double-quoted (YAML double quotes accept
// JSON's escapes, so no value can change meaning or break the document).
#include "ulvs/config/emit.h"

#include "emit_health.h"
#include "exception_path.h"
#include "parse_sync.h"
#include "yaml_quote.h"

#include <cstdio>
#include <sstream>

namespace ulvs::config {

namespace detail {

std::string yaml_quote(std::string_view s) {
    std::string out = "\"";
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

} // namespace detail

namespace {

std::string quote(std::string_view s) {
    return detail::yaml_quote(s);
}

template <class T, class F> std::string flow_list(const std::vector<T>& v, F item) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + item(v[i]);
    return s + "]";
}

void emit_ports(std::ostringstream& o, const config& c) {
    o << "ports:\n";
    for (const port_cfg& p : c.ports)
        o << "  - {name: " << quote(p.name) << ", device: " << quote(p.device) << ", addresses: "
          << flow_list(p.addresses, [](const ip_prefix& a) { return a.to_string(); })
          << ", mtu: " << p.mtu << "}\n";
}

// address/port/protocol, or match; then persistence.
void emit_service_key(std::ostringstream& o, const virtual_server_cfg& vs) {
    if (vs.match) {
        const match_cfg& m = *vs.match;
        o << "    match: {destinations: "
          << flow_list(m.destinations, [](const ip_addr& a) { return a.to_string(); })
          << ", ports: " << flow_list(m.ports, [](uint16_t p) { return std::to_string(p); })
          << ", sources: " << flow_list(m.sources, [](const ip_prefix& p) { return p.to_string(); })
          << ", protocol: " << to_string(m.protocol) << "}\n";
    } else {
        o << "    address: " << vs.address.to_string() << "\n"
          << "    port: " << vs.port << "\n"
          << "    protocol: " << to_string(vs.protocol) << "\n";
    }
    if (vs.persistence)
        o << "    persistence: {timeout: " << duration_text(vs.persistence->timeout)
          << ", granularity: " << vs.persistence->granularity.to_string()
          << ", expire_quiescent_template: "
          << (vs.persistence->expire_quiescent_template ? "true" : "false") << "}\n";
}

void emit_services(std::ostringstream& o, const config& c) {
    if (c.virtual_servers.empty()) {
        o << "virtual_servers: []\n";
        return;
    }
    o << "virtual_servers:\n";
    for (const virtual_server_cfg& vs : c.virtual_servers) {
        o << "  - name: " << quote(vs.name) << "\n";
        emit_service_key(o, vs);
        o << "    scheduler: " << quote(vs.scheduler) << "\n";
        if (!vs.scheduler_flags.empty())
            o << "    scheduler_flags: " << flow_list(vs.scheduler_flags, [](const std::string& f) {
                return quote(f);
            }) << "\n";
        if (vs.scheduler == "mh") // the validator refuses the key for other schedulers
            o << "    mh_table_size: " << vs.mh_table_size << "\n";
        o << "    forwarding: " << to_string(vs.forwarding) << "\n";
        o << detail::vs_health_yaml(vs.health, quote); // emit_health.cc
        if (vs.real_servers.empty()) {
            o << "    real_servers: []\n";
            continue;
        }
        o << "    real_servers:\n";
        for (const real_server_cfg& rs : vs.real_servers) {
            o << "      - {address: " << rs.address.to_string() << ", port: " << rs.port
              << ", weight: " << rs.weight;
            if (rs.forwarding)
                o << ", forwarding: " << to_string(*rs.forwarding);
            if (rs.thresholds.upper != 0 || rs.thresholds.lower != 0)
                o << ", thresholds: {upper: " << rs.thresholds.upper
                  << ", lower: " << rs.thresholds.lower << "}";
            o << detail::rs_health_yaml(rs.health, quote);
            o << "}\n";
        }
    }
}

// keepalived-style names; the durations through duration_text (declared in emit.h).
void emit_vrrp(std::ostringstream& o, const config& c) {
    if (c.vrrp_instances.empty())
        return;
    auto names = [](const std::vector<std::string>& v) {
        return flow_list(v, [](const std::string& s) { return quote(s); });
    };
    o << "vrrp_instances:\n";
    for (const vrrp_instance_cfg& v : c.vrrp_instances) {
        o << "  - name: " << quote(v.name) << "\n"
          << "    port: " << quote(v.port) << "\n"
          << "    vrid: " << unsigned(v.vrid) << "\n"
          << "    state: " << (v.initial_master ? "master" : "backup") << "\n"
          << "    priority: " << unsigned(v.priority) << "\n"
          << "    advert_int: " << duration_text(v.advert_int) << "\n"
          << "    version: " << unsigned(v.version) << "\n"
          << "    preempt: " << (v.preempt ? "true" : "false") << "\n"
          << "    preempt_delay: " << duration_text(v.preempt_delay) << "\n";
        if (!v.auth_pass.empty())
            o << "    authentication: {type: pass, password: " << quote(v.auth_pass) << "}\n";
        if (v.source_address)
            o << "    source_address: " << v.source_address->to_string() << "\n";
        o << "    unicast_peers: "
          << flow_list(v.unicast_peers, [](const ip_addr& a) { return a.to_string(); }) << "\n"
          << "    virtual_addresses: "
          << flow_list(v.virtual_addresses, [](const ip_prefix& a) { return a.to_string(); })
          << "\n"
          << "    track: {ports: " << names(v.track.ports)
          << ", virtual_servers: " << names(v.track.virtual_servers) << ", scripts: "
          << flow_list(v.track.scripts,
                       [](const vrrp_track_script_cfg& t) {
                           return "{path: " + quote(t.path) +
                                  ", interval: " + duration_text(t.interval) +
                                  ", weight: " + std::to_string(t.weight) +
                                  ", rise: " + std::to_string(t.rise) +
                                  ", fall: " + std::to_string(t.fall) +
                                  ", timeout: " + duration_text(t.timeout) + "}";
                       })
          << "}\n"
          << "    notify: {master: " << quote(v.notify.master)
          << ", backup: " << quote(v.notify.backup) << ", fault: " << quote(v.notify.fault)
          << ", stop: " << quote(v.notify.stop) << ", any: " << quote(v.notify.any) << "}\n"
          << "    garp: {master_delay: " << duration_text(v.garp.master_delay)
          << ", master_refresh: " << duration_text(v.garp.master_refresh) << "}\n";
    }
    if (c.vrrp_sync_groups.empty())
        return;
    o << "vrrp_sync_groups:\n";
    for (const vrrp_sync_group_cfg& g : c.vrrp_sync_groups)
        o << "  - name: " << quote(g.name) << "\n"
          << "    instances: " << names(g.instances) << "\n"
          << "    notify: {master: " << quote(g.notify.master)
          << ", backup: " << quote(g.notify.backup) << ", fault: " << quote(g.notify.fault)
          << ", any: " << quote(g.notify.any) << "}\n";
}
} // namespace

std::string duration_text(duration d) {
    const auto ms = d.count();
    if (ms % 1000 == 0)
        return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

std::string to_yaml(const config& c) {
    std::ostringstream o;
    o << "# written by ulvsd (save-yaml)\n";
    o << "dpdk:\n  eal_args: "
      << flow_list(c.dpdk.eal_args, [](const std::string& a) { return quote(a); }) << "\n"
      << "  mbufs: " << c.dpdk.mbufs << "\n";
    o << "lcores: {control: " << c.lcores.control
      << ", workers: " << flow_list(c.lcores.workers, [](unsigned w) { return std::to_string(w); })
      << ", idle: " << (c.lcores.idle == idle_mode::adaptive ? "adaptive" : "poll") << "}\n";
    emit_ports(o, c);
    o << "routes: " << flow_list(c.routes, [](const route_cfg& r) {
        return "{prefix: " + r.prefix.to_string() + ", via: " + r.via.to_string() + "}";
    }) << "\n";
    o << "neighbors: " << flow_list(c.neighbors, [](const neighbor_cfg& n) {
        return "{address: " + n.address.to_string() + ", mac: " + quote(n.mac.to_string()) +
               ", port: " + quote(n.port) + "}";
    }) << "\n";
    o << "timeouts: {tcp: " << duration_text(c.timeouts.tcp)
      << ", tcp_fin: " << duration_text(c.timeouts.tcp_fin)
      << ", udp: " << duration_text(c.timeouts.udp) << "}\n";
    o << "connections: {max: " << c.connections.max
      << ", expire_nodest_conn: " << (c.connections.expire_nodest_conn ? "true" : "false") << "}\n";
    o << "vips: {answer_ping: " << (c.vips.answer_ping ? "true" : "false") << "}\n";
    emit_vrrp(o, c);
    emit_services(o, c);
    auto police = [](const police_cfg& p) {
        return "{rate: " + std::to_string(p.rate) + ", burst: " + std::to_string(p.burst) + "}";
    };
    o << "control_policing: {icmp_echo: " << police(c.control_policing.icmp_echo)
      << ", exception: " << police(c.control_policing.exception) << "}\n";
    o << detail::emit_exception_path(c.exception_path) << "\n";
    o << "management: {socket: " << quote(c.management.socket)
      << ", metrics: " << quote(c.management.metrics);
    if (!c.management.group.empty())
        o << ", group: " << quote(c.management.group);
    o << "}\n";
    o << "logging: {level: " << quote(c.logging.level) << ", file: " << quote(c.logging.file)
      << "}\n";
    if (!c.scripts.user.empty()) {
        o << "scripts: {user: " << quote(c.scripts.user);
        if (!c.scripts.group.empty())
            o << ", group: " << quote(c.scripts.group);
        o << "}\n";
    }
    if (c.sync)
        o << detail::emit_sync(c) << "\n";
    return o.str();
}

} // namespace ulvs::config
