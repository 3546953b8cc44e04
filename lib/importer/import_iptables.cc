// fwmark services from iptables MARK rules (mangle PREROUTING, as iptables-save prints them or as
// `iptables -t mangle -A ...` commands) -> `match:` services.
//
// iptables: every MARK rule a packet matches sets its mark, so the LAST matching rule decides.
// ulvs: among match services the FIRST matching one wins. So the rules become match services in
// reverse order, and the result is exact as long as every rule's mark has a service; a rule whose
// mark has none (or mark 0) would have to let packets through to the address services, which a
// match service cannot say: that is an error when it overlaps an earlier rule of a service (else
// the rule is simply left out). Consecutive rules of one mark that differ in their destinations
// only, or in their ports only, merge into one service. IPVS keeps persistence per fwmark, ulvs per
// service: a persistent fwmark service that needs several match services is an error.
#include "import_iptables.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>

namespace ulvs::importer {

namespace {

struct prefix {
    uint32_t addr = 0;
    int len = 32;
    bool operator==(const prefix&) const = default;
    bool overlaps(const prefix& o) const {
        const int l = std::min(len, o.len);
        const uint32_t m = l == 0 ? 0 : ~0u << (32 - l);
        return (addr & m) == (o.addr & m);
    }
};

using range = std::pair<unsigned, unsigned>;

struct rule {
    uint32_t mark = 0;
    std::string proto;         // tcp | udp | "" (any)
    std::vector<prefix> src;   // empty: any
    std::vector<uint32_t> dst; // addresses
    std::vector<range> ports;  // empty: any
    loc at;
};

std::optional<prefix> parse_prefix(std::string_view s) {
    prefix p;
    std::string_view a = s;
    if (size_t slash = s.find('/'); slash != std::string_view::npos) {
        auto l = to_uint(s.substr(slash + 1), 32);
        if (!l)
            return std::nullopt;
        p.len = int(*l);
        a = s.substr(0, slash);
    }
    uint32_t v = 0;
    int parts = 0;
    size_t i = 0;
    while (i <= a.size()) {
        size_t dot = a.find('.', i);
        if (dot == std::string_view::npos)
            dot = a.size();
        auto b = to_uint(a.substr(i, dot - i), 255);
        if (!b)
            return std::nullopt;
        v = v << 8 | uint32_t(*b);
        ++parts;
        i = dot + 1;
    }
    if (parts != 4)
        return std::nullopt;
    p.addr = p.len == 0 ? 0 : v & (~0u << (32 - p.len));
    return p;
}

std::string ip(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string(a >> 16 & 255) + "." +
           std::to_string(a >> 8 & 255) + "." + std::to_string(a & 255);
}

// Everything but p, as prefixes (one per bit of p's length).
std::vector<prefix> complement(const prefix& p) {
    std::vector<prefix> out;
    for (int i = 0; i < p.len; ++i) {
        const uint32_t bit = 1u << (31 - i);
        const uint32_t keep = i == 0 ? 0 : ~0u << (32 - i);
        out.push_back(prefix{(p.addr & keep) | (~p.addr & bit), i + 1});
    }
    return out;
}

// Shell-like words (quotes group, as the shell would pass them to iptables), with the 1-based
// column each starts at.
std::vector<std::string> split_words(const std::string& line, std::vector<int>& cols) {
    std::vector<std::string> w;
    std::string cur;
    bool open = false;
    char quote = 0;
    int start = 0;
    for (size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (quote) {
            if (ch == quote)
                quote = 0;
            else
                cur += ch;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r') {
            if (open) {
                w.push_back(cur);
                cols.push_back(start);
            }
            cur.clear();
            open = false;
            continue;
        }
        if (!open)
            start = int(i) + 1;
        open = true;
        if (ch == '"' || ch == '\'')
            quote = ch;
        else
            cur += ch;
    }
    if (open) {
        w.push_back(cur);
        cols.push_back(start);
    }
    return w;
}

// iptables' numbers: decimal or 0x hex, 32 bits.
std::optional<uint64_t> number(const std::string& s) {
    if (s.starts_with("0x") || s.starts_with("0X")) {
        uint64_t v = 0;
        auto [p, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
        if (s.size() == 2 || ec != std::errc{} || p != s.data() + s.size() || v > 0xffffffffu)
            return std::nullopt;
        return v;
    }
    return to_uint(s, 0xffffffffu);
}

struct parser {
    diags& d;
    // mangle PREROUTING in order: its MARK rules, and nullopt for the rules the import leaves
    // aside (LOG, errors), which still count for `-I CHAIN N` positions.
    std::vector<std::optional<rule>> prerouting;

    // One rule's words after "-A CHAIN" / "-I CHAIN [N]".
    std::optional<rule> add(const std::vector<std::string>& w, const std::vector<int>& cols,
                            size_t i, const loc& line_at) {
        rule r;
        r.at = line_at;
        loc at = line_at;
        std::vector<prefix> src, dst;
        bool neg = false, src_neg = false, mark = false;
        std::string target;
        loc target_at = line_at, dst_at = line_at;
        for (; i < w.size(); ++i) {
            const std::string& o = w[i];
            at.col = cols[i];
            auto val = [&]() -> std::string {
                if (i + 1 < w.size())
                    return w[++i];
                d.error(at, o + " needs a value");
                return "";
            };
            if (o == "!") {
                neg = true;
                continue;
            }
            if (o == "-p" || o == "--protocol") {
                r.proto = val();
                if (neg || (r.proto != "tcp" && r.proto != "udp" && r.proto != "all")) {
                    d.error(at, "-p " + std::string(neg ? "! " : "") + r.proto +
                                    ": only tcp, udp or all can become a match service");
                    return std::nullopt;
                }
                if (r.proto == "all")
                    r.proto.clear();
            } else if (o == "-s" || o == "--source" || o == "-d" || o == "--destination") {
                const bool is_src = o == "-s" || o == "--source";
                if (!is_src)
                    dst_at = at;
                std::string v = val();
                for (size_t p = 0; p <= v.size();) {
                    size_t comma = v.find(',', p);
                    if (comma == std::string::npos)
                        comma = v.size();
                    auto pr = parse_prefix(v.substr(p, comma - p));
                    if (!pr) {
                        d.error(at, o + " " + v + ": expected IPv4 addresses or prefixes");
                        return std::nullopt;
                    }
                    (is_src ? src : dst).push_back(*pr);
                    p = comma + 1;
                }
                if (neg && (!is_src || src.size() != 1)) {
                    d.error(
                        at,
                        "! " + o + " " + v +
                            (is_src ? ": one prefix only"
                                    : ": a match "
                                      "service lists the destination addresses it takes; a negated "
                                      "destination cannot be listed"));
                    return std::nullopt;
                }
                if (neg)
                    src_neg = true;
            } else if (o == "--dport" || o == "--destination-port" || o == "--dports" ||
                       o == "--destination-ports") {
                std::string v = val();
                if (neg) {
                    d.error(at, "! " + o + ": negated ports cannot become a match service");
                    return std::nullopt;
                }
                for (size_t p = 0; p <= v.size();) {
                    size_t comma = v.find(',', p);
                    if (comma == std::string::npos)
                        comma = v.size();
                    const std::string one = v.substr(p, comma - p);
                    const size_t colon = one.find(':');
                    auto lo = to_uint(one.substr(0, colon), 65535);
                    auto hi =
                        colon == std::string::npos ? lo : to_uint(one.substr(colon + 1), 65535);
                    if (!lo || !hi || *lo > *hi) {
                        d.error(at, o + " " + v + ": expected ports or ranges A:B");
                        return std::nullopt;
                    }
                    r.ports.emplace_back(unsigned(*lo), unsigned(*hi));
                    p = comma + 1;
                }
            } else if (o == "--sport" || o == "--source-port" || o == "--sports" ||
                       o == "--source-ports") {
                d.error(at, o + ": match services do not look at source ports");
                return std::nullopt;
            } else if (o == "-m" || o == "--match") {
                const std::string m = val();
                if (m != "tcp" && m != "udp" && m != "multiport" && m != "comment") {
                    d.error(at, "-m " + m +
                                    ": only tcp, udp, multiport and comment matches can "
                                    "become a match service");
                    return std::nullopt;
                }
            } else if (o == "--comment") {
                val();
            } else if (o == "-i" || o == "--in-interface") {
                d.warn(at, "-i " + val() +
                               ": match services take packets from every port; the "
                               "interface is left out");
            } else if (o == "-j" || o == "--jump") {
                target_at = at;
                target = val();
            } else if (o == "--set-mark" || o == "--set-xmark") {
                const std::string v = val();
                const size_t slash = v.find('/');
                auto value = number(v.substr(0, slash));
                auto mask = slash == std::string::npos ? std::optional<uint64_t>(0xffffffffu)
                                                       : number(v.substr(slash + 1));
                if (!value || !mask) {
                    d.error(at, o + " " + v + ": expected VALUE or VALUE/MASK");
                    return std::nullopt;
                }
                if (*mask != 0xffffffffu) {
                    d.error(at, o + " " + v +
                                    ": only a whole mark (mask 0xffffffff) can be "
                                    "imported");
                    return std::nullopt;
                }
                r.mark = uint32_t(*value);
                mark = true;
            } else {
                d.error(at, o + ": not understood by the import (it follows -p, -s, -d, --dport, "
                                "-m multiport --dports, -i and -j MARK --set-mark)");
                return std::nullopt;
            }
            neg = false;
        }
        at = target_at;
        if (target != "MARK") {
            if (target.empty() || target == "LOG")
                return std::nullopt;
            d.error(at, "-j " + target +
                            " in mangle PREROUTING: the import follows MARK rules "
                            "only, and this one may change which mark packets get");
            return std::nullopt;
        }
        if (!mark) {
            d.error(at, "-j MARK without --set-mark or --set-xmark");
            return std::nullopt;
        }
        if (!r.ports.empty() && r.proto.empty()) {
            d.error(at, "--dport needs -p tcp or -p udp");
            return std::nullopt;
        }
        r.src = src_neg ? complement(src[0]) : src;
        if (src_neg && r.src.empty())
            return std::nullopt; // ! -s 0.0.0.0/0 matches nothing
        for (const prefix& p : dst) {
            if (p.len < 22) {
                d.error(dst_at, "-d " + ip(p.addr) + "/" + std::to_string(p.len) +
                                    ": a match service "
                                    "lists its destination addresses; at most a /22 can be listed");
                return std::nullopt;
            }
            for (uint64_t a = p.addr; a < uint64_t(p.addr) + (1ull << (32 - p.len)); ++a)
                r.dst.push_back(uint32_t(a));
        }
        if (r.dst.empty()) {
            d.error(at, "a MARK rule without -d matches every destination; a match service lists "
                        "its destinations");
            return std::nullopt;
        }
        return r;
    }

    void line(const std::string& s, const loc& at, std::string& table) {
        std::vector<int> cols;
        std::vector<std::string> w = split_words(s, cols);
        if (w.empty() || w[0].starts_with('#'))
            return;
        if (w[0].starts_with('*')) {
            table = w[0].substr(1);
            return;
        }
        if (w[0].starts_with(':') || w[0] == "COMMIT")
            return;
        size_t i = 0;
        std::string t = table;
        if (w[0] == "iptables" || w[0].ends_with("/iptables")) {
            // `-t TABLE` may stand anywhere on the command line.
            t = "filter";
            for (size_t k = 1; k + 1 < w.size(); ++k)
                if (w[k] == "-t" || w[k] == "--table") {
                    t = w[k + 1];
                    w.erase(w.begin() + long(k), w.begin() + long(k) + 2);
                    cols.erase(cols.begin() + long(k), cols.begin() + long(k) + 2);
                    break;
                }
            i = 1;
        }
        if (i + 1 >= w.size() ||
            (w[i] != "-A" && w[i] != "-I" && w[i] != "--append" && w[i] != "--insert")) {
            d.warn(at, "not a -A or -I rule; ignored");
            return;
        }
        const bool insert = w[i] == "-I" || w[i] == "--insert";
        const std::string chain = w[i + 1];
        i += 2;
        std::optional<size_t> pos;
        if (insert) {
            pos = 0;
            if (i < w.size())
                if (auto n = to_uint(w[i], 1000000); n && *n > 0) {
                    pos = size_t(*n - 1);
                    ++i;
                }
        }
        if (t != "mangle")
            return;
        if (chain != "PREROUTING") {
            if (std::find(w.begin(), w.end(), "MARK") != w.end())
                d.warn(at, "MARK rule in chain " + chain +
                               ": IPVS sees the marks of PREROUTING; "
                               "ignored");
            return;
        }
        auto r = add(w, cols, i, at);
        if (pos && *pos <= prerouting.size())
            prerouting.insert(prerouting.begin() + long(*pos), r);
        else
            prerouting.push_back(r);
    }
};

bool overlap(const rule& a, const rule& b) {
    if (!a.proto.empty() && !b.proto.empty() && a.proto != b.proto)
        return false;
    auto src = [](const rule& x, const rule& y) {
        if (x.src.empty() || y.src.empty())
            return true;
        for (const prefix& p : x.src)
            for (const prefix& r : y.src)
                if (p.overlaps(r))
                    return true;
        return false;
    };
    bool dst = false;
    for (uint32_t p : a.dst)
        dst = dst || std::find(b.dst.begin(), b.dst.end(), p) != b.dst.end();
    bool ports = a.ports.empty() || b.ports.empty();
    for (const range& p : a.ports)
        for (const range& r : b.ports)
            ports = ports || (p.first <= r.second && r.first <= p.second);
    return src(a, b) && dst && ports;
}

// Whether every packet b matches, a matches too (protocols compared by the caller).
bool covers(const rule& a, const rule& b) {
    if (!a.src.empty()) {
        if (b.src.empty())
            return false;
        for (const prefix& p : b.src)
            if (std::none_of(a.src.begin(), a.src.end(),
                             [&](const prefix& q) { return q.len <= p.len && q.overlaps(p); }))
                return false;
    }
    for (uint32_t d : b.dst)
        if (std::find(a.dst.begin(), a.dst.end(), d) == a.dst.end())
            return false;
    if (a.ports.empty())
        return true;
    if (b.ports.empty())
        return false;
    for (const range& p : b.ports)
        for (unsigned v = p.first; v <= p.second; ++v)
            if (std::none_of(a.ports.begin(), a.ports.end(),
                             [&](const range& q) { return q.first <= v && v <= q.second; }))
                return false;
    return true;
}

std::string match_yaml(const rule& r, const std::string& proto) {
    std::string o = "    match: {destinations: [";
    for (size_t i = 0; i < r.dst.size(); ++i)
        o += (i ? ", " : "") + ip(r.dst[i]);
    o += "]";
    if (!r.ports.empty()) {
        std::set<unsigned> ports; // merged rules may name a port twice
        for (const range& p : r.ports)
            for (unsigned v = p.first; v <= p.second; ++v)
                ports.insert(v);
        o += ", ports: [";
        for (unsigned v : ports)
            o += (v == *ports.begin() ? "" : ", ") + std::to_string(v);
        o += "]";
    }
    if (!r.src.empty()) {
        o += ", sources: [";
        for (size_t i = 0; i < r.src.size(); ++i)
            o += (i ? ", " : "") + ip(r.src[i].addr) + "/" + std::to_string(r.src[i].len);
        o += "]";
    }
    return o + ", protocol: " + proto + "}\n";
}

} // namespace

void resolve_fwmarks(ctx& c, const std::optional<std::string>& path) {
    std::vector<const vs_text*> fw;
    for (const vs_text& s : c.services)
        if (s.fwmark)
            fw.push_back(&s);
    if (fw.empty())
        return;
    if (!path) {
        std::string names;
        for (const vs_text* s : fw)
            names += (names.empty() ? "" : ", ") + std::to_string(*s->fwmark);
        c.d.error(fw[0]->at, "fwmark services (" + names + ") need the iptables rules that mark " +
                                 "their packets: give them with --iptables RULES (iptables-save " +
                                 "output or `iptables -t mangle -A ...` lines)");
        return;
    }
    std::ifstream in(*path);
    if (!in) {
        c.d.error(loc{std::make_shared<const std::string>(*path), 0, 0}, "cannot read " + *path);
        return;
    }
    parser p{c.d, {}};
    auto name = std::make_shared<const std::string>(*path);
    std::string s, table = "filter";
    for (int n = 1; std::getline(in, s); ++n)
        p.line(s, loc{name, n, 1}, table);
    std::vector<rule> rules; // the MARK rules, in order
    for (const auto& r : p.prerouting)
        if (r)
            rules.push_back(*r);

    std::map<uint32_t, const vs_text*> by_mark;
    for (const vs_text* s : fw) {
        if (by_mark.contains(*s->fwmark))
            c.d.error(s->at, "fwmark " + std::to_string(*s->fwmark) + " has two virtual servers");
        by_mark[*s->fwmark] = s;
    }
    // A rule of a mark without a service must not overlap an earlier one of a service.
    for (size_t j = 0; j < rules.size(); ++j) {
        if (by_mark.contains(rules[j].mark))
            continue;
        for (size_t i = 0; i < j; ++i)
            if (by_mark.contains(rules[i].mark) && overlap(rules[i], rules[j]))
                c.d.error(rules[j].at,
                          "this rule sets mark " + std::to_string(rules[j].mark) +
                              ", which has no virtual server, on packets that the "
                              "rule at line " +
                              std::to_string(rules[i].at.line) + " marks for fwmark " +
                              std::to_string(rules[i].mark) +
                              ": ulvs cannot let them through to the address services");
    }
    // Reverse order, merged, per protocol.
    struct entry {
        rule r;
        std::string proto;
    };
    std::vector<entry> out;
    for (size_t j = rules.size(); j-- > 0;) {
        const rule& r = rules[j];
        auto svc = by_mark.find(r.mark);
        if (svc == by_mark.end())
            continue;
        std::string proto = r.proto;
        if (proto.empty()) {
            proto = svc->second->udp ? "udp" : "tcp";
            c.d.warn(r.at, "a MARK rule without -p marks every protocol; the match service takes " +
                               proto + " (the virtual_server's protocol), other protocols are " +
                               "not balanced");
        }
        if (!out.empty() && out.back().r.mark == r.mark && out.back().proto == proto &&
            out.back().r.src == r.src) {
            rule& m = out.back().r;
            if (m.dst == r.dst && !m.ports.empty() && !r.ports.empty()) {
                m.ports.insert(m.ports.end(), r.ports.begin(), r.ports.end());
                continue;
            }
            if (m.ports == r.ports) {
                for (uint32_t a : r.dst)
                    if (std::find(m.dst.begin(), m.dst.end(), a) == m.dst.end())
                        m.dst.push_back(a);
                continue;
            }
        }
        out.push_back(entry{r, proto});
    }
    // A rule whose every packet a later rule marks again never decides a mark: its match service
    // would take nothing (ulvs refuses such a service), so it is left out.
    std::map<uint32_t, size_t> rules_of;
    for (const entry& e : out)
        ++rules_of[e.r.mark];
    for (size_t i = 1; i < out.size();) {
        size_t j = 0;
        while (j < i && !(out[j].proto == out[i].proto && covers(out[j].r, out[i].r)))
            ++j;
        if (j == i) {
            ++i;
            continue;
        }
        c.d.warn(out[i].r.at, "every packet this rule marks " + std::to_string(out[i].r.mark) +
                                  " is marked again by the rule at line " +
                                  std::to_string(out[j].r.at.line) + " (mark " +
                                  std::to_string(out[j].r.mark) + "): left out");
        out.erase(out.begin() + long(i));
    }
    // The match services in `out`'s order (first match wins), then the address services.
    std::map<uint32_t, size_t> count, seen;
    for (const entry& e : out)
        ++count[e.r.mark];
    std::vector<vs_text> result;
    for (const vs_text* s : fw) {
        const size_t n = count[*s->fwmark];
        if (n == 0 && rules_of[*s->fwmark] > 0)
            c.d.warn(s->at, "fwmark " + std::to_string(*s->fwmark) +
                                " never gets a packet (later " +
                                "rules mark all of its packets otherwise): left out");
        else if (n == 0)
            c.d.error(s->at, "fwmark " + std::to_string(*s->fwmark) + ": no MARK rule of mangle " +
                                 "PREROUTING in " + *path + " sets it");
        if (n > 1 && s->persistent)
            c.d.error(s->at, "persistent fwmark " + std::to_string(*s->fwmark) + " needs " +
                                 std::to_string(n) +
                                 " match services (its rules are not one set "
                                 "of destinations x ports); IPVS shares templates across a "
                                 "fwmark, ulvs keeps them per service");
    }
    for (const entry& e : out) {
        const vs_text& s = *by_mark.at(e.r.mark);
        vs_text t = s;
        const size_t i = ++seen[e.r.mark];
        t.name = s.name + (count[e.r.mark] > 1 ? "-" + std::to_string(i) : "");
        t.keys = match_yaml(e.r, e.proto);
        t.fwmark.reset();
        result.push_back(std::move(t));
    }
    for (vs_text& s : c.services)
        if (!s.fwmark)
            result.push_back(std::move(s));
    c.services = std::move(result);
}

} // namespace ulvs::importer
