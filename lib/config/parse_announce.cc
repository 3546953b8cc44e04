// `announce:` (announce_cfg.h): the VIP routes a routing daemon announces.
#include "parse_announce.h"
#include "yaml_quote.h"

#include "draft.h"

#include <algorithm>

namespace ulvs::config::detail {

namespace {

// RT_TABLE_COMPAT (252), DEFAULT (253), MAIN (254) and LOCAL (255) hold the host's own routes: a
// routing daemon exporting one of them would announce far more than the VIPs.
bool reserved_table(uint64_t t) {
    return t >= 252 && t <= 255;
}

} // namespace

void parse_announce(reader& r, const field& f, draft& d) {
    announce_cfg& out = d.cfg.announce;
    mapping m(r, f, {"table", "port", "protocol", "peers"});
    if (!m.valid())
        return;
    out.enabled = true;
    if (auto t = m.require("table")) {
        auto v = read_uint(r, *t, 1, 0xffffffffu);
        if (v && reserved_table(*v))
            r.error(t->at, t->path + " " + std::to_string(*v) +
                               " is one of the kernel's own tables (252..255): name a table of "
                               "its own for the VIP routes");
        else if (v)
            out.table = static_cast<uint32_t>(*v);
    }
    if (auto p = m.get("port")) {
        auto name = read_string(r, *p);
        const bool names_known = std::all_of(d.ports.begin(), d.ports.end(),
                                             [](const port_note& n) { return n.name_ok; });
        if (name && names_known &&
            std::none_of(d.cfg.ports.begin(), d.cfg.ports.end(),
                         [&](const port_cfg& pc) { return pc.name == *name; }))
            r.error(p->at, p->path + " \"" + *name + "\" names no port");
        else if (name)
            out.port = *name;
    }
    // 0..4 are the kernel's own (unspec, redirect, kernel, boot, static): `ip route flush proto
    // static` would take ours.
    if (auto p = m.get("protocol"))
        if (auto v = read_uint(r, *p, 5, 255))
            out.protocol = static_cast<uint8_t>(*v);
    if (auto p = m.get("peers")) {
        if (auto items = read_list(r, *p)) {
            for (const field& item : *items) {
                auto a = read_addr(r, item);
                if (!a)
                    continue;
                if (std::find(out.peers.begin(), out.peers.end(), *a) != out.peers.end())
                    r.error(item.at, item.path + ": " + a->to_string() + " is listed twice");
                else
                    out.peers.push_back(*a);
            }
        }
    }
}

std::string emit_announce(const announce_cfg& c) {
    if (!c.enabled)
        return "";
    std::string s = "announce: {table: " + std::to_string(c.table);
    if (!c.port.empty())
        s += ", port: " + yaml_quote(c.port);
    s += ", protocol: " + std::to_string(c.protocol) + ", peers: [";
    for (size_t i = 0; i < c.peers.size(); ++i)
        s += (i ? ", " : "") + c.peers[i].to_string();
    return s + "]}\n";
}

} // namespace ulvs::config::detail
