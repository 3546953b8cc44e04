#include "ulvs/control/service/build_snapshot.h"

#include "ulvs/control/exception/tap_plan.h"
#include "ulvs/control/sched/tables.h"
#include "ulvs/control/service/routing.h"
#include "ulvs/control/vrrp/overlay.h"

#include <arpa/inet.h>

namespace ulvs::ctl {

namespace {

uint32_t be32(ip_addr a) {
    return htonl(a.v4);
}
uint16_t be16(uint16_t v) {
    return htons(v);
}

dp::state_timeouts timeouts_from(const config::timeouts_cfg& t) {
    auto s = dp::state_timeouts::ipvs_defaults();
    // `ipvsadm --set tcp tcpfin udp`: ESTABLISHED, FIN_WAIT and UDP.
    s.tcp_ms[static_cast<size_t>(dp::tcp_state::established)] =
        static_cast<uint32_t>(t.tcp.count());
    s.tcp_ms[static_cast<size_t>(dp::tcp_state::fin_wait)] =
        static_cast<uint32_t>(t.tcp_fin.count());
    s.udp_ms = static_cast<uint32_t>(t.udp.count());
    return s;
}

// One worker's share of an appliance-wide policer (dp/fwd/police.h), rounded up so that every
// worker passes at least one packet of a burst.
dp::police_rate police_share(const config::police_cfg& p, size_t n_workers) {
    const uint64_t n = std::max<size_t>(n_workers, 1);
    if (p.rate == 0)
        return {};
    return {static_cast<uint32_t>((p.rate + n - 1) / n),
            static_cast<uint32_t>((p.burst + n - 1) / n)};
}

// TUN's outer source: our address on the egress port that shares the real server's subnet, else
// that port's first address (IPVS tunnelling: the outer source is the appliance's address on the
// egress port).
uint32_t tunnel_source(const config::config& cfg, uint8_t port, ip_addr rs) {
    const auto& addrs = cfg.ports[port].addresses;
    for (const ip_prefix& a : addrs)
        if (a.contains(rs))
            return htonl(a.addr.v4);
    return addrs.empty() ? 0 : htonl(addrs.front().addr.v4);
}

// The data path's form of a match: network-order addresses and ports, sorted sources.
dp::match_rule match_rule_of(const config::match_cfg& m, size_t svc_index) {
    dp::match_rule r;
    r.svc = static_cast<uint32_t>(svc_index);
    r.proto = static_cast<uint8_t>(m.protocol);
    for (ip_addr a : m.destinations)
        r.dsts.push_back(be32(a));
    for (uint16_t p : m.ports)
        r.ports.push_back(be16(p));
    for (const ip_prefix& p : m.sources)
        r.sources.push_back(uint64_t{p.addr.v4} << 32 | p.mask_v4());
    return r;
}

std::vector<uint64_t> prefixes_of(const std::vector<ip_prefix>& v) {
    std::vector<uint64_t> out;
    for (const ip_prefix& p : v)
        out.push_back(uint64_t{p.addr.v4 & p.mask_v4()} << 32 | p.mask_v4());
    return out;
}

uint8_t port_index(const config::config& cfg, const std::string& name) {
    for (size_t p = 0; p < cfg.ports.size(); ++p)
        if (cfg.ports[p].name == name)
            return static_cast<uint8_t>(p);
    return dp::any_port;
}

// `snat:` and `forwarding_rules:` (issue 19). An SNAT address that is not one of the port's own
// is added as a local address of its port, so that ARP for it is answered there.
void add_routing(const config::config& cfg, dp::snapshot& s) {
    for (const config::snat_rule_cfg& r : cfg.snat) {
        dp::snat_rule d;
        d.sources = prefixes_of(r.sources);
        d.out_port = port_index(cfg, r.out_port);
        d.addr_first = r.to_first.v4;
        d.addr_count = r.to_last.v4 - r.to_first.v4 + 1;
        d.port_first = r.ports_first;
        d.port_last = r.ports_last;
        for (uint32_t a = 0; a < d.addr_count; ++a) {
            const uint32_t be = htonl(d.addr_first + a);
            s.snat_addrs.insert(be, static_cast<uint32_t>(s.snat.size()));
            if (!s.addrs.find(be))
                s.addrs.insert(be, dp::pack_addr_info({dp::addr_kind::local, d.out_port}));
        }
        s.snat.push_back(std::move(d));
    }
    for (const config::forwarding_rule_cfg& r : cfg.forwarding_rules) {
        dp::forward_rule d;
        d.sources = prefixes_of(r.sources);
        d.dsts = prefixes_of(r.destinations);
        d.in_port = r.in_port.empty() ? dp::any_port : port_index(cfg, r.in_port);
        d.out_port = r.out_port.empty() ? dp::any_port : port_index(cfg, r.out_port);
        s.forwarding.push_back(std::move(d));
    }
}

std::expected<std::unique_ptr<dp::snapshot>, std::string> build(const config::config& cfg,
                                                                snapshot_inputs& in) {
    neigh_manager& neigh = in.neigh;
    stats_ids& ids = in.ids;
    auto s = std::make_unique<dp::snapshot>();
    s->timeouts = timeouts_from(cfg.timeouts);
    s->police_icmp_echo = police_share(cfg.control_policing.icmp_echo, cfg.lcores.workers.size());
    s->police_exception = police_share(cfg.control_policing.exception, cfg.lcores.workers.size());
    s->loads = in.loads;
    // Rows of the lblc/lblcr tables: one per worker (the load board's, which a test rig may size
    // apart from the config's lcores).
    const auto workers = static_cast<uint32_t>(
        std::max<size_t>(cfg.lcores.workers.size(), in.loads != nullptr ? in.loads->workers() : 0));
    if (cfg.virtual_servers.size() > dp::max_services)
        return std::unexpected("more than " + std::to_string(dp::max_services) +
                               " virtual servers");

    auto add_addr = [&](ip_addr a, dp::addr_kind kind, uint8_t port) {
        auto prev = s->addrs.find(be32(a));
        uint8_t k = static_cast<uint8_t>(kind);
        if (prev)
            k |= static_cast<uint8_t>(dp::unpack_addr_info(*prev).kind);
        s->addrs.insert(be32(a), dp::pack_addr_info({static_cast<dp::addr_kind>(k), port}));
    };
    for (size_t p = 0; p < cfg.ports.size(); ++p) {
        const auto& addrs = cfg.ports[p].addresses;
        s->port_addr.push_back(addrs.empty() ? 0 : htonl(addrs.front().addr.v4));
        for (const ip_prefix& a : addrs)
            add_addr(a.addr, dp::addr_kind::local, static_cast<uint8_t>(p));
    }

    // Routes first: every real server's next hop comes from them. Gateways get neighbour slots
    // here, so they are resolved before the first routed packet needs them.
    auto routes = in.routes.get(cfg, neigh);
    if (!routes)
        return std::unexpected(routes.error());
    s->routes = std::move(*routes);

    s->answer_ping = cfg.vips.answer_ping;
    if (cfg.sync) { // connection sync (issue 18, dataplane/fwd/sync_msg.h)
        const config::sync_cfg& sc = *cfg.sync;
        s->sync.send = config::has_master(sc.role);
        // The count lives in 16 bits (conn::sync_pkts): larger values behave as 65535.
        s->sync.period = static_cast<uint16_t>(std::min<uint32_t>(sc.period, 65535));
        s->sync.threshold = static_cast<uint16_t>(std::min<uint32_t>(sc.threshold, 65534));
        s->sync.rx_port = config::has_backup(sc.role) ? htons(sc.port) : 0;
        s->sync.group = htonl(sc.group.v4);
    }
    s->expire_nodest_conn = cfg.connections.expire_nodest_conn;
    if (s->expire_nodest_conn)
        s->live_dests.assign(dp::max_stats_ids / 64, 0);
    for (const config::virtual_server_cfg& vs : cfg.virtual_servers) {
        // A VIP outside every connected subnet is reached through a router's route: no ARP.
        auto add_vip = [&](ip_addr a, dp::addr_kind kind) {
            auto port_of_vip = cfg.port_for(a);
            add_addr(a, kind, port_of_vip ? static_cast<uint8_t>(*port_of_vip) : uint8_t{0xff});
        };
        dp::service svc{};
        if (vs.match) {
            svc.is_match = true;
            s->matches.push_back(match_rule_of(*vs.match, s->services_v.size()));
            for (ip_addr a : vs.match->destinations)
                add_vip(a, static_cast<dp::addr_kind>(static_cast<uint8_t>(dp::addr_kind::vip) |
                                                      static_cast<uint8_t>(dp::addr_kind::match)));
        } else {
            add_vip(vs.address, dp::addr_kind::vip);
            svc.vip = be32(vs.address);
            svc.port = be16(vs.port);
        }
        svc.proto = vs.protocol;
        svc.sloppy = vs.sloppy;
        if (vs.persistence) {
            svc.persist_ms = static_cast<uint32_t>(vs.persistence->timeout.count());
            svc.persist_mask = be32(vs.persistence->granularity);
            svc.expire_quiescent = vs.persistence->expire_quiescent_template;
        }
        auto kind = sched_from_name(vs.scheduler);
        if (!kind)
            return std::unexpected("virtual server " + vs.name + ": unknown scheduler");
        svc.sched = *kind;
        for (const std::string& f : vs.scheduler_flags)
            svc.sched_flags |= sched_flag_from_name(f).value_or(0);
        auto sid = ids.service(vs);
        if (!sid)
            return std::unexpected("out of counter ids");
        svc.stats_id = *sid;
        svc.dest_first = static_cast<uint32_t>(s->dests.size());
        for (const config::real_server_cfg& rs : vs.real_servers) {
            dp::dest d{};
            d.ip = be32(rs.address);
            d.port = be16(rs.port);
            d.mode = vs.mode_of(rs);
            d.weight = rs.weight;
            d.upper = rs.thresholds.upper;
            d.lower = rs.thresholds.lower;
            auto hop = resolve(*s, neigh, rs.address); // DR: validated to be connected
            if (!hop)
                return std::unexpected("real server " + rs.address.to_string() + ": " +
                                       hop.error());
            d.out_port = hop->port;
            d.neigh = hop->neigh;
            d.tun_src = tunnel_source(cfg, hop->port, rs.address);
            if (d.mode == fwd_mode::nat)
                s->nat_sources.insert(d.ip, 1);
            if (d.mode == fwd_mode::nat && vs.persistence)
                s->persist_rs.insert(d.ip, svc.persist_mask);
            auto did = ids.dest({svc.stats_id, d.ip, d.port});
            if (!did)
                return std::unexpected("out of counter ids");
            d.stats_id = *did;
            if (cfg.connections.expire_nodest_conn)
                s->live_dests[*did >> 6] |= uint64_t{1} << (*did & 63);
            ids.note_slot(*did, d.neigh); // its connections will copy the slot
            s->dests.push_back(d);
        }
        svc.dest_count = static_cast<uint32_t>(s->dests.size()) - svc.dest_first;
        // wrr's parameters, sh/dh/mh tables (shared with earlier snapshots when unchanged).
        if (auto t = build_sched(svc, *s, vs.mh_table_size, default_table_cache(), workers); !t)
            return std::unexpected("virtual server " + vs.name + ": " + t.error());
        // The same scheduler input as in earlier snapshots keeps its generation, and so the
        // workers' rr/wrr positions (service_gens.h).
        svc.gen = in.gens.of(svc, s->dests);
        if (!svc.is_match)
            s->services.insert(dp::service_key(svc.vip, svc.port, static_cast<uint8_t>(svc.proto)),
                               static_cast<uint32_t>(s->services_v.size()));
        s->services_v.push_back(svc);
    }
    add_routing(cfg, *s);
    if (in.vrrp != nullptr)
        vrrp::overlay_ownership(*in.vrrp, in.owners, *s);
    // Local services on a VIP (issue 15): with an allow rule, what no service takes of an owned
    // VIP of the host view goes to the exception path's filter (kernel_tap.h).
    if (!cfg.exception_path.allow.empty())
        for (ip_addr a : tap_plan::from_config(cfg).host_vip_candidates())
            if (auto prev = s->addrs.find(be32(a))) {
                dp::addr_info ai = dp::unpack_addr_info(*prev);
                ai.kind = static_cast<dp::addr_kind>(static_cast<uint8_t>(ai.kind) |
                                                     static_cast<uint8_t>(dp::addr_kind::host));
                s->addrs.insert(be32(a), dp::pack_addr_info(ai));
            }
    in.gens.retain(*s);
    return s;
}

} // namespace

std::expected<std::unique_ptr<dp::snapshot>, std::string> build_snapshot(const config::config& cfg,
                                                                         snapshot_inputs& in) {
    in.ids.begin_build();
    in.neigh.begin_build();
    auto s = build(cfg, in);
    in.ids.end_build(s.has_value()); // first: a dest id given back releases its neighbour holds
    in.neigh.end_build(s.has_value());
    return s;
}

} // namespace ulvs::ctl
