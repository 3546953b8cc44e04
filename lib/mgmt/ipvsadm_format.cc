#include "ulvs/mgmt/ipvsadm_format.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <tuple>
#include <vector>

namespace ulvs::mgmt {

namespace {

// printf into a std::string: the layouts are ipvsadm's printf formats, kept verbatim so a reader
// can compare them with ipvsadm.c.
[[gnu::format(printf, 2, 3)]] void appendf(std::string& out, const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        out.append(buf, std::min(static_cast<size_t>(n), sizeof buf - 1));
}

uint64_t u64(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number())
        return 0;
    if (it->is_number_integer() && it->get<int64_t>() < 0)
        return 0;
    return it->get<uint64_t>();
}

std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

uint32_t addr_key(const std::string& a) {
    in_addr in{};
    inet_pton(AF_INET, a.c_str(), &in);
    return ntohl(in.s_addr);
}

std::vector<json> sorted(const json& arr, bool with_proto) {
    std::vector<json> v;
    if (arr.is_array())
        v.assign(arr.begin(), arr.end());
    auto key = [&](const json& j) {
        return std::make_tuple(with_proto ? (str(j, "proto") == "udp" ? 17 : 6) : 0,
                               addr_key(str(j, with_proto ? "vip" : "addr")), u64(j, "port"));
    };
    std::stable_sort(v.begin(), v.end(),
                     [&](const json& a, const json& b) { return key(a) < key(b); });
    return v;
}

const char* fwd_name(const std::string& f) {
    if (f == "nat")
        return "Masq";
    if (f == "tun")
        return "Tunnel";
    return "Route";
}

const char* fwd_switch(const std::string& f) {
    if (f == "nat")
        return "-m";
    if (f == "tun")
        return "-i";
    return "-g";
}

std::string flags_text(const json& svc) {
    std::string s;
    if (auto it = svc.find("flags"); it != svc.end() && it->is_array())
        for (const json& f : *it)
            if (f.is_string())
                s += (s.empty() ? "" : ",") + f.get<std::string>();
    return s;
}

void title(std::string& out, list_view v) {
    switch (v) {
    case list_view::stats:
        appendf(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
                "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes");
        break;
    case list_view::rate:
        appendf(out, "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n",
                "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS");
        break;
    case list_view::thresholds:
        appendf(out, "%-33s %-10s %-10s %-10s %-10s\n  -> RemoteAddress:Port\n",
                "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn");
        break;
    case list_view::persistent_conn:
        appendf(out, "%-33s %-9s %-11s %-10s %-10s\n  -> RemoteAddress:Port\n",
                "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn");
        break;
    case list_view::plain:
        out += "Prot LocalAddress:Port Scheduler Flags\n"
               "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n";
        break;
    case list_view::rule:
        break;
    }
}

void five(std::string& out, const json& j, const char* const (&keys)[5], bool exact) {
    for (const char* k : keys)
        out += largenum(u64(j, k), exact);
}

constexpr const char* stat_keys[5] = {"conns", "inpkts", "outpkts", "inbytes", "outbytes"};
constexpr const char* rate_keys[5] = {"cps", "inpps", "outpps", "inbps", "outbps"};

void service_line(std::string& out, const json& svc, const std::string& name,
                  const list_format& f) {
    const json& persistent = svc.contains("persistent") ? svc["persistent"] : json();
    const std::string mask = str(svc, "netmask");
    const bool masked = !mask.empty() && mask != "255.255.255.255";
    const std::string flags = flags_text(svc);
    switch (f.view) {
    case list_view::rule:
        appendf(out, "-A %s -s %s", name.c_str(), str(svc, "scheduler").c_str());
        if (!flags.empty())
            appendf(out, " -b %s", flags.c_str());
        if (persistent.is_number()) {
            appendf(out, " -p %llu", static_cast<unsigned long long>(persistent.get<uint64_t>()));
            if (masked)
                appendf(out, " -M %s", mask.c_str());
        }
        break;
    case list_view::stats:
        appendf(out, "%-33s", name.c_str());
        five(out, svc.value("stats", json::object()), stat_keys, f.exact);
        break;
    case list_view::rate:
        appendf(out, "%-33s", name.c_str());
        five(out, svc.value("rate", json::object()), rate_keys, f.exact);
        break;
    default:
        appendf(out, "%s %s", name.c_str(), str(svc, "scheduler").c_str());
        if (!flags.empty())
            appendf(out, " (%s)", flags.c_str());
        if (persistent.is_number()) {
            appendf(out, " persistent %llu",
                    static_cast<unsigned long long>(persistent.get<uint64_t>()));
            if (masked)
                appendf(out, " mask %s", mask.c_str());
        }
        break;
    }
    out += "\n";
}

void dest_line(std::string& out, const json& d, const std::string& svc_name, std::string dname,
               const list_format& f) {
    if (f.view != list_view::rule && dname.size() > 28)
        dname.resize(28); // ipvsadm: dname[28] = '\0'
    const char* n = dname.c_str();
    const std::string fwd = str(d, "fwd");
    auto u = [&](const char* k) { return static_cast<unsigned>(u64(d, k)); };
    switch (f.view) {
    case list_view::rule:
        appendf(out, "-a %s -r %s %s -w %d", svc_name.c_str(), n, fwd_switch(fwd),
                static_cast<int>(u64(d, "weight")));
        if (u("upper"))
            appendf(out, " -x %u", u("upper"));
        if (u("lower"))
            appendf(out, " -y %u", u("lower"));
        out += "\n";
        break;
    case list_view::stats:
        appendf(out, "  -> %-28s", n);
        five(out, d.value("stats", json::object()), stat_keys, f.exact);
        out += "\n";
        break;
    case list_view::rate: {
        const json r = d.value("rate", json::object());
        appendf(out, "  -> %-28s %8u %8u %8u", n, static_cast<unsigned>(u64(r, "cps")),
                static_cast<unsigned>(u64(r, "inpps")), static_cast<unsigned>(u64(r, "outpps")));
        out += largenum(u64(r, "inbps"), f.exact);
        out += largenum(u64(r, "outbps"), f.exact);
        out += "\n";
        break;
    }
    case list_view::thresholds:
        appendf(out, "  -> %-28s %-10u %-10u %-10u %-10u\n", n, u("upper"), u("lower"), u("active"),
                u("inactive"));
        break;
    case list_view::persistent_conn:
        appendf(out, "  -> %-28s %-9u %-11u %-10u %-10u\n", n, u("weight"), u("persist"),
                u("active"), u("inactive"));
        break;
    case list_view::plain:
        appendf(out, "  -> %-28s %-7s %-6d %-10u %-10u\n", n, fwd_name(fwd),
                static_cast<int>(u64(d, "weight")), u("active"), u("inactive"));
        break;
    }
}

} // namespace

std::string largenum(uint64_t i, bool exact) {
    std::string out;
    auto v = static_cast<unsigned long long>(i);
    if (exact) {
        const size_t len = std::to_string(v).size();
        appendf(out, "%*llu", len <= 8 ? 9 : static_cast<int>(len + 1), v);
    } else if (v < 100000000ULL) {
        appendf(out, "%9llu", v);
    } else if (v < 1000000000ULL) {
        appendf(out, "%8lluK", v / 1000);
    } else if (v < 100000000000ULL) {
        appendf(out, "%8lluM", v / 1000000);
    } else if (v < 100000000000000ULL) {
        appendf(out, "%8lluG", v / 1000000000ULL);
    } else {
        appendf(out, "%8lluT", v / 1000000000000ULL);
    }
    return out;
}

std::string addr_port(const std::string& addr, uint16_t port, const std::string& proto,
                      bool numeric) {
    if (!numeric) {
        // getservbyport reads /etc/services: local, bounded, never the network.
        if (const servent* s = getservbyport(htons(port), proto == "udp" ? "udp" : "tcp"))
            return addr + ":" + s->s_name;
    }
    return addr + ":" + std::to_string(port);
}

std::string render_list(const json& reply, const list_format& f) {
    std::string out;
    if (f.view != list_view::rule && !f.headless)
        appendf(out, "IP Virtual Server version 1.2.1 (size=%u)\n",
                static_cast<unsigned>(reply.contains("size") ? u64(reply, "size") : 4096));
    title(out, f.view);
    for (const json& svc : sorted(reply.value("services", json::array()), true)) {
        const std::string proto = str(svc, "proto");
        const std::string vname =
            addr_port(str(svc, "vip"), static_cast<uint16_t>(u64(svc, "port")), proto, f.numeric);
        const bool match = svc.value("match", false);
        std::string name;
        if (match) {
            // A `match:` service is what a fwmark service is to ipvsadm ("FWM  <mark>"); it has
            // no mark, so its name stands there. -S leaves it out: -R could not recreate it
            // (match services live in the YAML file; save-yaml has them).
            if (f.view == list_view::rule)
                continue;
            name = "FWM  " + str(svc, "name");
            if (name.size() > 33)
                name.resize(33);
        } else if (f.view == list_view::rule) {
            name = (proto == "udp" ? "-u " : "-t ") + vname;
        } else {
            name = (proto == "udp" ? "UDP  " : "TCP  ") + vname;
            if (name.size() > 33)
                name.resize(33); // ipvsadm: svc_name[33] = '\0'
        }
        service_line(out, svc, name, f);
        for (const json& d : sorted(svc.value("dests", json::array()), false))
            dest_line(
                out, d, name,
                addr_port(str(d, "addr"), static_cast<uint16_t>(u64(d, "port")), proto, f.numeric),
                f);
    }
    return out;
}

std::string render_timeouts(const json& reply) {
    const json t = reply.value("timeouts", json::object());
    std::string out;
    appendf(out, "Timeout (tcp tcpfin udp): %d %d %d\n", static_cast<int>(u64(t, "tcp")),
            static_cast<int>(u64(t, "tcpfin")), static_cast<int>(u64(t, "udp")));
    return out;
}

std::string render_conns_header() {
    std::string out = "IPVS connection entries\n";
    appendf(out, "pro %-6s %-11s %-18s %-18s %s\n", "expire", "state", "source", "virtual",
            "destination");
    return out;
}

std::string render_conns_page(const json& reply) {
    std::string out;
    for (const json& c : reply.value("conns", json::array())) {
        std::string proto = str(c, "proto");
        std::transform(proto.begin(), proto.end(), proto.begin(), ::toupper);
        const uint64_t e = u64(c, "expire");
        char expire[24];
        std::snprintf(expire, sizeof expire, "%02llu:%02llu",
                      static_cast<unsigned long long>(e / 60),
                      static_cast<unsigned long long>(e % 60));
        appendf(out, "%-3s %-6s %-11s %-18s %-18s %s\n", proto.c_str(), expire,
                str(c, "state").c_str(), str(c, "client").c_str(), str(c, "vip").c_str(),
                str(c, "dest").c_str());
    }
    return out;
}

} // namespace ulvs::mgmt
