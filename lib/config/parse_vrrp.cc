// `vrrp_instances`: keepalived's vrrp_instance in YAML (README "Configuration"), read and checked
// here.
#include "draft.h"
#include "parse_scripts.h"

#include <algorithm>
#include <charconv>

namespace ulvs::config::detail {

namespace {

// A signed integer in [min, max] (track script weights are negative as often as not).
std::optional<int64_t> read_int(reader& r, const field& f, int64_t min, int64_t max) {
    auto s = read_string(r, f);
    if (!s)
        return std::nullopt;
    int64_t v = 0;
    const char* end = s->data() + s->size();
    auto [p, ec] = std::from_chars(s->data(), end, v);
    if (s->empty() || ec != std::errc{} || p != end || v < min || v > max) {
        r.error(f.at, f.path + " must be an integer in " + std::to_string(min) + ".." +
                          std::to_string(max) + ", got " + describe(f.value));
        return std::nullopt;
    }
    return v;
}

std::vector<std::string> read_names(reader& r, const field& f, std::vector<source_loc>& at) {
    std::vector<std::string> out;
    if (auto items = read_list(r, f))
        for (const field& item : *items)
            if (auto s = read_string(r, item)) {
                out.push_back(*s);
                at.push_back(item.at);
            }
    return out;
}

void parse_track_script(reader& r, const field& f, vrrp_track_script_cfg& out) {
    mapping m(r, f, {"path", "interval", "weight", "rise", "fall", "timeout"});
    if (auto p = m.require("path")) {
        auto s = read_string(r, *p);
        if (s && s->empty())
            r.error(p->at, p->path + " must not be empty");
        else if (s)
            out.path = *s;
        if (s)
            check_command(r, *p, *s);
    }
    if (auto i = m.get("interval")) {
        auto d = read_duration(r, *i);
        if (d && d->count() == 0)
            r.error(i->at, i->path + " must be greater than 0");
        else if (d)
            out.interval = *d;
    }
    // keepalived's range: a weight may move a priority of 1 up to 254 or 254 down to 1.
    if (auto w = m.get("weight"))
        if (auto v = read_int(r, *w, -253, 253))
            out.weight = int32_t(*v);
    // keepalived: rise and fall are at least 1 (INT_MAX at most); timeout 0 is the interval.
    if (auto v = m.get("rise"))
        if (auto n = read_uint(r, *v, 1, INT32_MAX))
            out.rise = uint32_t(*n);
    if (auto v = m.get("fall"))
        if (auto n = read_uint(r, *v, 1, INT32_MAX))
            out.fall = uint32_t(*n);
    if (auto t = m.get("timeout"))
        if (auto d = read_duration(r, *t))
            out.timeout = *d;
}

void parse_track(reader& r, const field& f, vrrp_track_cfg& out, vrrp_note& note) {
    mapping m(r, f, {"ports", "virtual_servers", "scripts"});
    if (auto p = m.get("ports"))
        out.ports = read_names(r, *p, note.track_port_at);
    if (auto v = m.get("virtual_servers"))
        out.virtual_servers = read_names(r, *v, note.track_vs_at);
    if (auto s = m.get("scripts"))
        if (auto items = read_list(r, *s))
            for (const field& item : *items)
                parse_track_script(r, item, out.scripts.emplace_back());
}

void parse_garp(reader& r, const field& f, vrrp_garp_cfg& out) {
    mapping m(r, f, {"master_delay", "master_refresh"});
    if (auto v = m.get("master_delay"))
        if (auto d = read_duration(r, *v))
            out.master_delay = *d;
    if (auto v = m.get("master_refresh"))
        if (auto d = read_duration(r, *v))
            out.master_refresh = *d;
}

// v2 PASS: the password travels in the 8 bytes of authentication data (RFC 2338 section 5.3.10).
void parse_auth(reader& r, const field& f, vrrp_instance_cfg& out) {
    mapping m(r, f, {"type", "password"});
    if (auto t = m.require("type")) {
        auto s = read_string(r, *t);
        // keepalived spells it PASS; either case is taken.
        if (s && *s != "pass" && *s != "PASS")
            r.error(t->at,
                    t->path + " must be pass (AH is not supported), got " + describe(t->value));
    }
    if (auto p = m.require("password")) {
        auto s = read_string(r, *p);
        // keepalived truncates a longer one to its first 8 bytes (with a complaint): say which
        // password its peers really use rather than guess.
        if (s && s->size() > 8)
            r.error(p->at, p->path + " must be 1..8 characters (the packet holds 8; keepalived " +
                               "sends the first 8: " + "\"" + s->substr(0, 8) + "\"" + ")");
        else if (s && s->empty())
            r.error(p->at, p->path + " must be 1..8 characters (the packet holds 8)");
        else if (s)
            out.auth_pass = *s;
    }
}

void parse_instance(reader& r, const field& f, vrrp_instance_cfg& out, vrrp_note& note) {
    mapping m(r, f,
              {"name", "port", "vrid", "state", "priority", "advert_int", "version", "preempt",
               "preempt_delay", "authentication", "source_address", "unicast_peers",
               "virtual_addresses", "track", "notify", "garp"});
    note.name_at = note.port_at = note.vrid_at = f.at;
    if (!m.valid()) {
        note.ok = false;
        return;
    }
    size_t before = r.error_count();
    if (auto n = m.require("name")) {
        note.name_at = n->at;
        auto s = read_string(r, *n);
        if (s && s->empty())
            r.error(n->at, n->path + " must not be empty");
        else if (s)
            out.name = *s;
    }
    if (auto p = m.require("port")) {
        note.port_at = p->at;
        if (auto s = read_string(r, *p))
            out.port = *s;
    }
    if (auto v = m.require("vrid")) {
        note.vrid_at = v->at;
        if (auto id = read_uint(r, *v, 1, 255))
            out.vrid = uint8_t(*id);
    }
    note.ok = r.error_count() == before;

    if (auto s = m.get("state")) {
        auto st = read_string(r, *s);
        if (st && *st != "master" && *st != "backup")
            r.error(s->at, s->path + " must be master or backup, got " + describe(s->value));
        else if (st)
            out.initial_master = *st == "master";
    }
    if (auto p = m.get("priority"))
        if (auto v = read_uint(r, *p, 1, 255))
            out.priority = uint8_t(*v);
    if (auto v = m.get("version"))
        if (auto n = read_uint(r, *v, 2, 3))
            out.version = uint8_t(*n);
    if (auto a = m.get("advert_int")) {
        auto d = read_duration(r, *a);
        // v2 carries whole seconds in 8 bits; v3 centiseconds in 12 bits (RFC 5798 5.2.7).
        const bool v2 = out.version == 2;
        if (d && v2 && (d->count() % 1000 != 0 || d->count() < 1000 || d->count() > 255000))
            r.error(a->at, a->path + " must be whole seconds 1s..255s with version 2, got " +
                               describe(a->value));
        else if (d && !v2 && (d->count() % 10 != 0 || d->count() < 10 || d->count() > 40950))
            r.error(a->at, a->path + " must be a multiple of 10ms in 10ms..40950ms with version " +
                               "3, got " + describe(a->value));
        else if (d)
            out.advert_int = *d;
    }
    if (auto p = m.get("preempt"))
        if (auto b = read_bool(r, *p))
            out.preempt = *b;
    if (auto p = m.get("preempt_delay"))
        if (auto d = read_duration(r, *p)) {
            if (d->count() > 1000 * 1000)
                r.error(p->at, p->path + " must be at most 1000s (keepalived's limit)");
            else
                out.preempt_delay = *d;
        }
    if (auto a = m.get("authentication")) {
        if (out.version != 2)
            r.error(a->key_at, a->path + " is only defined for VRRP version 2 (RFC 5798 removed "
                                         "authentication)");
        else
            parse_auth(r, *a, out);
    }
    if (auto a = m.get("source_address")) {
        note.source_at = a->at;
        out.source_address = read_addr(r, *a);
    }
    if (auto u = m.get("unicast_peers"))
        if (auto items = read_list(r, *u))
            for (const field& item : *items)
                if (auto a = read_addr(r, item))
                    out.unicast_peers.push_back(*a);
    if (auto v = m.require("virtual_addresses")) {
        if (auto items = read_list(r, *v)) {
            if (items->empty())
                r.error(v->at, v->path + " must list at least one address");
            // RFC 5798: Count IPvX Addr is 8 bits; keepalived sends at most 20 per packet.
            if (items->size() > 20)
                r.error(v->at, v->path + " may list at most 20 addresses");
            for (const field& item : *items) {
                auto s = read_string(r, item);
                if (!s)
                    continue;
                if (auto p = ip_prefix::parse(*s, true)) {
                    out.virtual_addresses.push_back(*p);
                    note.address_at.push_back(item.at);
                } else {
                    r.error(item.at, item.path + " must be an IPv4 address or prefix, got " +
                                         describe(item.value));
                }
            }
        }
    }
    if (auto t = m.get("track"))
        parse_track(r, *t, out.track, note);
    if (auto n = m.get("notify"))
        parse_vrrp_notify(r, *n, out.notify, {"master", "backup", "fault", "stop", "any"});
    if (auto g = m.get("garp"))
        parse_garp(r, *g, out.garp);
}

std::string quoted(const std::string& s) {
    return "\"" + s + "\"";
}

} // namespace

// `keys`: the states a notify may name (an instance's add stop; a sync group's do not).
void parse_vrrp_notify(reader& r, const field& f, vrrp_notify_cfg& out,
                       std::initializer_list<std::string_view> keys) {
    mapping m(r, f, keys);
    auto one = [&](std::string_view key, std::string& dst) {
        if (auto v = m.get(key))
            if (auto s = read_string(r, *v)) {
                dst = *s;
                check_command(r, *v, dst);
            }
    };
    one("master", out.master);
    one("backup", out.backup);
    one("fault", out.fault);
    one("stop", out.stop);
    one("any", out.any);
}

void parse_vrrp_instances(reader& r, const field& f, draft& d) {
    auto items = read_list(r, f);
    if (!items)
        return;
    for (const field& item : *items) {
        vrrp_instance_cfg c;
        vrrp_note n;
        parse_instance(r, item, c, n);
        d.cfg.vrrp_instances.push_back(std::move(c));
        d.vrrp.push_back(std::move(n));
    }
}

void check_vrrp_instances(reader& r, const draft& d, bool names_known, bool subnets_known) {
    const config& c = d.cfg;
    auto port_named = [&](const std::string& n) {
        return std::find_if(c.ports.begin(), c.ports.end(),
                            [&](const port_cfg& p) { return p.name == n; });
    };
    for (size_t i = 0; i < c.vrrp_instances.size(); ++i) {
        const vrrp_instance_cfg& v = c.vrrp_instances[i];
        const vrrp_note& note = d.vrrp[i];
        if (!note.ok)
            continue;
        for (size_t j = 0; j < i; ++j) {
            if (!d.vrrp[j].ok)
                continue;
            const vrrp_instance_cfg& o = c.vrrp_instances[j];
            if (o.name == v.name)
                r.error(note.name_at, "VRRP instance name " + quoted(v.name) +
                                          " is already used by vrrp_instances[" +
                                          std::to_string(j) + "]");
            // The VRID names the virtual router on its link (and its virtual MAC).
            if (o.port == v.port && o.vrid == v.vrid)
                r.error(note.vrid_at, "vrid " + std::to_string(v.vrid) + " on port " +
                                          quoted(v.port) + " is already used by vrrp_instances[" +
                                          std::to_string(j) + "]");
        }
        if (!names_known)
            continue;
        auto port = port_named(v.port);
        if (port == c.ports.end()) {
            r.error(note.port_at, "VRRP port " + quoted(v.port) + " names no port");
            continue;
        }
        // Advertisements are sent from the port's own address (keepalived: the primary one).
        if (subnets_known && port->addresses.empty())
            r.error(note.port_at,
                    "VRRP port " + quoted(v.port) + " has no address to send advertisements from");
        // A source the port does not own would draw the peers' replies (unicast) and ARP to an
        // address nobody answers for.
        if (subnets_known && v.source_address &&
            std::none_of(port->addresses.begin(), port->addresses.end(),
                         [&](const ip_prefix& a) { return a.addr == *v.source_address; }))
            r.error(note.source_at, "source_address " + v.source_address->to_string() +
                                        " is not an address of port " + quoted(v.port));
        for (size_t k = 0; k < v.track.ports.size(); ++k)
            if (port_named(v.track.ports[k]) == c.ports.end())
                r.error(note.track_port_at[k],
                        "tracked port " + quoted(v.track.ports[k]) + " names no port");
        for (size_t k = 0; k < v.track.virtual_servers.size(); ++k) {
            const std::string& n = v.track.virtual_servers[k];
            if (std::none_of(c.virtual_servers.begin(), c.virtual_servers.end(),
                             [&](const virtual_server_cfg& s) { return s.name == n; }))
                r.error(note.track_vs_at[k],
                        "tracked virtual server " + quoted(n) + " names no virtual server");
        }
        // A virtual address that is also a port's own address would be answered for by both
        // routers; only the owner (priority 255) may hold it, as RFC 5798 defines.
        for (size_t k = 0; k < v.virtual_addresses.size() && subnets_known; ++k) {
            const ip_addr a = v.virtual_addresses[k].addr;
            bool own = std::any_of(c.ports.begin(), c.ports.end(), [&](const port_cfg& p) {
                return std::any_of(p.addresses.begin(), p.addresses.end(),
                                   [&](const ip_prefix& x) { return x.addr == a; });
            });
            if (own && v.priority != 255)
                r.error(note.address_at[k], "virtual address " + a.to_string() +
                                                " is a port address: only priority 255 (the "
                                                "owner) may list it");
        }
    }
}

} // namespace ulvs::config::detail
