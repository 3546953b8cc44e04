// Health-check keys (README "Configuration" and "Health checks"). Defaults are keepalived's
// (health_cfg.h says where each comes from). udp `payload` is hex as in keepalived's UDP_CHECK
// (read_hex_str): "0a1b..".
#include "parse_health.h"
#include "parse_scripts.h"

#include <algorithm>
#include <cctype>

namespace ulvs::config::detail {

namespace {

std::optional<check_type> read_type(reader& r, const field& f) {
    auto s = read_string(r, f);
    if (!s)
        return std::nullopt;
    if (*s == "tcp")
        return check_type::tcp;
    if (*s == "http")
        return check_type::http;
    if (*s == "https")
        return check_type::https;
    if (*s == "misc")
        return check_type::misc;
    if (*s == "udp")
        return check_type::udp;
    r.error(f.at, f.path + " must be one of tcp, http, https, misc, udp, got " + describe(f.value));
    return std::nullopt;
}

// An even number of hex digits, at least one byte: the datagram's bytes; nullopt otherwise.
std::optional<std::string> decode_hex(const std::string& s) {
    auto nibble = [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
               : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
               : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                           : -1;
    };
    if (s.empty() || s.size() % 2 != 0)
        return std::nullopt;
    std::string out;
    for (size_t i = 0; i < s.size(); i += 2) {
        const int hi = nibble(s[i]), lo = nibble(s[i + 1]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
    }
    return out;
}

bool is_md5_hex(const std::string& s) {
    return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
           });
}

void read_status(reader& r, const field& f, std::vector<uint16_t>& out) {
    auto items = read_list(r, f);
    if (!items)
        return;
    for (const field& item : *items)
        if (auto v = read_uint(r, item, 100, 599))
            out.push_back(static_cast<uint16_t>(*v));
}

// One of `urls`: {path, status, digest}, as the check's own keys.
std::optional<url_cfg> read_url(reader& r, const field& f) {
    mapping m(r, f, {"path", "status", "digest"});
    if (!m.valid())
        return std::nullopt;
    url_cfg u;
    if (auto p = m.require("path"))
        if (auto s = read_string(r, *p)) {
            if (s->empty() || s->front() != '/')
                r.error(p->at, p->path + " must start with \"/\"");
            u.path = *s;
        }
    if (auto s = m.get("status"))
        read_status(r, *s, u.status);
    if (auto d = m.get("digest"))
        if (auto s = read_string(r, *d)) {
            if (!is_md5_hex(*s))
                r.error(d->at, d->path + " must be an md5 digest: 32 lowercase hex digits");
            u.digest = *s;
        }
    return u;
}

// Keys that only some checker types read: refused elsewhere, so nothing is silently ignored.
void only_for(reader& r, const mapping& m, check_type t, std::string_view key,
              std::initializer_list<check_type> types, std::string_view names) {
    auto f = m.get(key);
    if (f && std::find(types.begin(), types.end(), t) == types.end())
        r.error(f->key_at, f->path + " applies to " + std::string(names) + " checks only");
}

std::optional<health_check_cfg> read_check(reader& r, const field& f) {
    mapping m(r, f,
              {"type", "delay_loop", "connect_timeout", "timeout", "retry", "delay_before_retry",
               "port", "path", "status", "digest", "virtualhost", "dynamic", "payload",
               "require_reply", "urls", "address", "source", "warmup"});
    if (!m.valid())
        return std::nullopt;
    const size_t before = r.error_count();
    health_check_cfg c;
    if (auto t = m.get("type")) {
        if (auto v = read_type(r, *t))
            c.type = *v;
        else
            return std::nullopt;
    }
    const check_type t = c.type;
    const auto sockets = {check_type::tcp, check_type::http, check_type::https, check_type::udp};
    only_for(r, m, t, "connect_timeout", sockets, "tcp, http, https and udp");
    only_for(r, m, t, "timeout", {check_type::misc}, "misc");
    only_for(r, m, t, "dynamic", {check_type::misc}, "misc");
    only_for(r, m, t, "port", sockets, "tcp, http, https and udp");
    only_for(r, m, t, "address", sockets, "tcp, http, https and udp");
    only_for(r, m, t, "source", sockets, "tcp, http, https and udp");
    for (auto k : {"status", "digest", "virtualhost", "urls"})
        only_for(r, m, t, k, {check_type::http, check_type::https}, "http and https");
    for (auto k : {"payload", "require_reply"})
        only_for(r, m, t, k, {check_type::udp}, "udp");

    auto positive = [&](const char* key, std::chrono::milliseconds& out) {
        if (auto d = m.get(key))
            if (auto v = read_duration(r, *d)) {
                if (v->count() <= 0)
                    r.error(d->at, d->path + " must be positive");
                out = *v;
            }
    };
    positive("delay_loop", c.delay_loop);
    positive("delay_before_retry", c.delay_before_retry);
    if (t == check_type::misc) {
        c.retry = 0; // keepalived MISC_CHECK: no retry unless asked
        c.connect_timeout = c.delay_loop;
        positive("timeout", c.connect_timeout);
    } else {
        positive("connect_timeout", c.connect_timeout);
    }
    if (auto v = m.get("retry"))
        if (auto n = read_uint(r, *v, 0, 1000))
            c.retry = static_cast<uint32_t>(*n);
    if (auto v = m.get("port"))
        if (auto n = read_uint(r, *v, 1, 65535))
            c.port = static_cast<uint16_t>(*n);
    if (t == check_type::misc) {
        if (auto p = m.require("path"))
            if (auto s = read_string(r, *p)) {
                if (s->empty())
                    r.error(p->at, p->path + " must not be empty");
                check_command(r, *p, *s);
                c.path = *s;
            }
        if (auto d = m.get("dynamic"))
            c.dynamic = read_bool(r, *d).value_or(false);
    } else if (t == check_type::http || t == check_type::https) {
        c.path = "/";
        if (auto p = m.get("path"))
            if (auto s = read_string(r, *p)) {
                if (s->empty() || s->front() != '/')
                    r.error(p->at, p->path + " must start with \"/\"");
                c.path = *s;
            }
    } else if (auto p = m.get("path")) {
        r.error(p->key_at, p->path + " applies to http, https and misc checks only");
    }
    if (auto p = m.get("payload"))
        if (auto s = read_string(r, *p)) {
            if (auto bytes = decode_hex(*s))
                c.payload = *bytes;
            else
                r.error(p->at, p->path + " must be hex bytes, e.g. \"0a1b\"");
        }
    if (auto v = m.get("require_reply"))
        c.require_reply = read_bool(r, *v).value_or(false);
    if (auto s = m.get("status"))
        read_status(r, *s, c.status);
    if (auto d = m.get("digest"))
        if (auto s = read_string(r, *d)) {
            if (!is_md5_hex(*s))
                r.error(d->at, d->path + " must be an md5 digest: 32 lowercase hex digits");
            c.digest = *s;
        }
    if (auto v = m.get("virtualhost"))
        if (auto s = read_string(r, *v))
            c.virtualhost = *s;
    if (auto u = m.get("urls")) {
        for (auto k : {"path", "status", "digest"})
            if (auto f2 = m.get(k))
                r.error(f2->key_at, f2->path + " and " + u->path +
                                        " are both set: write the path, status and digest in "
                                        "each url");
        if (auto items = read_list(r, *u)) {
            if (items->empty())
                r.error(u->at, u->path + " must hold at least one url");
            for (const field& item : *items)
                if (auto one = read_url(r, item))
                    c.urls.push_back(std::move(*one));
        }
    }
    for (auto [key, out] : {std::pair{"address", &c.address}, std::pair{"source", &c.source}})
        if (auto a = m.get(key))
            if (auto v = read_addr(r, *a)) {
                if (v->v4 == 0)
                    r.error(a->at, a->path + " must not be 0.0.0.0");
                *out = *v;
            }
    if (auto w = m.get("warmup"))
        if (auto v = read_duration(r, *w))
            c.warmup = *v;
    if (r.error_count() != before)
        return std::nullopt;
    return c;
}

// `health_check:` (one checker) or `health_checks:` (a list of them), not both.
void read_checks(reader& r, const mapping& m, std::optional<health_check_cfg>& one,
                 std::vector<health_check_cfg>& several) {
    auto c = m.get("health_check");
    auto cs = m.get("health_checks");
    if (c && cs)
        r.error(cs->key_at, cs->path + " and " + c->path +
                                " are both set: list every checker in health_checks");
    if (c)
        one = read_check(r, *c);
    if (cs)
        if (auto items = read_list(r, *cs)) {
            if (items->empty())
                r.error(cs->at, cs->path + " must hold at least one checker");
            for (const field& item : *items)
                if (auto v = read_check(r, item))
                    several.push_back(std::move(*v));
        }
}

} // namespace

void parse_vs_health(reader& r, const mapping& m, vs_health_cfg& out) {
    if (auto q = m.get("quorum"))
        if (auto v = read_uint(r, *q, 1, 0xffffffffu))
            out.quorum = static_cast<uint32_t>(*v);
    if (auto h = m.get("hysteresis"))
        if (auto v = read_uint(r, *h, 0, 0xffffffffu))
            out.hysteresis = static_cast<uint32_t>(*v);
    if (auto a = m.get("alpha"))
        out.alpha = read_bool(r, *a).value_or(false);
    if (auto s = m.get("sorry_server")) {
        mapping sm(r, *s, {"address", "port"});
        sorry_server_cfg ss;
        bool ok = sm.valid();
        if (auto a = sm.require("address")) {
            auto v = read_addr(r, *a);
            ok = ok && v;
            ss.address = v.value_or(ip_addr{});
        } else {
            ok = false;
        }
        if (auto p = sm.get("port")) {
            auto v = read_uint(r, *p, 0, 65535);
            ok = ok && v;
            ss.port = static_cast<uint16_t>(v.value_or(0));
        }
        if (ok)
            out.sorry_server = ss;
    }
    read_checks(r, m, out.check, out.checks);
    if (auto n = m.get("notify")) {
        mapping nm(r, *n, {"quorum_up", "quorum_down"});
        for (auto [key, cmd] :
             {std::pair{"quorum_up", &out.quorum_up}, std::pair{"quorum_down", &out.quorum_down}})
            if (auto f = nm.get(key)) {
                *cmd = read_string(r, *f).value_or("");
                check_command(r, *f, *cmd);
            }
    }
}

void parse_rs_health(reader& r, const mapping& m, rs_health_cfg& out) {
    if (auto i = m.get("inhibit_on_failure"))
        out.inhibit_on_failure = read_bool(r, *i).value_or(false);
    read_checks(r, m, out.check, out.checks);
    if (auto n = m.get("notify")) {
        mapping nm(r, *n, {"up", "down"});
        if (auto u = nm.get("up")) {
            out.notify.up = read_string(r, *u).value_or("");
            check_command(r, *u, out.notify.up);
        }
        if (auto d = nm.get("down")) {
            out.notify.down = read_string(r, *d).value_or("");
            check_command(r, *d, out.notify.down);
        }
    }
}

void check_sorry_servers(reader& r, const draft& d, bool subnets_known) {
    if (!subnets_known)
        return;
    // A check's `source` (keepalived's bindto) must be one of the ports' addresses: the kernel
    // behind the TAPs holds only those, so another would fail every probe with EADDRNOTAVAIL.
    auto ours = [&](ip_addr a) {
        for (const port_cfg& p : d.cfg.ports)
            for (const ip_prefix& pa : p.addresses)
                if (pa.addr == a)
                    return true;
        return false;
    };
    auto sources = [&](const std::vector<health_check_cfg>& checks, source_loc at,
                       const std::string& where) {
        for (const health_check_cfg& chk : checks)
            if (chk.source.v4 != 0 && !ours(chk.source))
                r.error(at, where + " health check source " + chk.source.to_string() +
                                " is not an address of any port");
    };
    for (size_t v = 0; v < d.cfg.virtual_servers.size(); ++v) {
        const auto& vs = d.cfg.virtual_servers[v];
        const std::string name = "virtual_servers[" + std::to_string(v) + "]";
        sources(vs.health.all_checks(), vs.loc, name);
        for (size_t i = 0; i < vs.real_servers.size(); ++i)
            sources(vs.real_servers[i].health.all_checks(), vs.real_servers[i].loc,
                    name + ".real_servers[" + std::to_string(i) + "]");
    }
    const config& c = d.cfg;
    for (size_t v = 0; v < c.virtual_servers.size(); ++v) {
        const auto& vs = c.virtual_servers[v];
        if (!vs.health.sorry_server || !d.virtual_servers[v].fwd_ok)
            continue;
        const ip_addr a = vs.health.sorry_server->address;
        bool reachable = c.port_for(a).has_value();
        if (vs.forwarding != fwd_mode::dr)
            for (const route_cfg& rt : c.routes)
                reachable = reachable || rt.prefix.contains(a);
        if (!reachable)
            r.error(vs.loc, "virtual_servers[" + std::to_string(v) + "].sorry_server " +
                                a.to_string() +
                                (vs.forwarding == fwd_mode::dr
                                     ? " is not on a connected subnet of any port (DR)"
                                     : " has no route: not on a connected subnet and no route "
                                       "covers it"));
    }
}

} // namespace ulvs::config::detail
