// Helpers shared by the importer's mapping files, and global_defs.
#include "import_common.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace ulvs::importer {

void ctx::use_interface(const std::string& name, const loc& at) {
    if (interface_at.emplace(name, at).second)
        interfaces.push_back(name);
}

std::string q(std::string_view s) {
    auto lower = [](std::string_view v) {
        std::string o(v);
        std::transform(o.begin(), o.end(), o.begin(),
                       [](unsigned char ch) { return std::tolower(ch); });
        return o;
    };
    static const char* special[] = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"};
    bool plain = !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '/');
    for (char ch : s)
        plain = plain && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' ||
                          ch == '/' || ch == '-' || ch == '@');
    for (const char* w : special)
        plain = plain && lower(s) != w;
    if (plain)
        return std::string(s);
    std::string o = "\"";
    for (unsigned char ch : s) {
        if (ch == '"' || ch == '\\') {
            o += '\\';
            o += char(ch);
        } else if (ch == '\n') {
            o += "\\n";
        } else if (ch == '\t') {
            o += "\\t";
        } else if (ch < 0x20 || ch == 0x7f) {
            static const char* hex = "0123456789abcdef";
            o += "\\x";
            o += hex[ch >> 4];
            o += hex[ch & 15];
        } else {
            o += char(ch);
        }
    }
    return o + "\"";
}

std::string dur(int64_t ms) {
    if (ms % 1000 == 0)
        return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

std::optional<int64_t> seconds_ms(std::string_view s) {
    const size_t dot = s.find('.');
    const std::string_view whole = s.substr(0, dot);
    int64_t sec = 0;
    if (whole.empty() && dot == std::string_view::npos)
        return std::nullopt;
    if (!whole.empty()) {
        auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), sec);
        if (ec != std::errc{} || p != whole.data() + whole.size() || sec < 0 || sec > 100000000)
            return std::nullopt;
    }
    int64_t ms = sec * 1000;
    if (dot != std::string_view::npos) {
        const std::string_view frac = s.substr(dot + 1);
        if (frac.empty() || frac.size() > 6)
            return std::nullopt;
        int64_t scale = 100;
        for (char ch : frac) {
            if (!std::isdigit(static_cast<unsigned char>(ch)))
                return std::nullopt;
            ms += (ch - '0') * scale;
            scale /= 10;
        }
    }
    return ms;
}

std::optional<uint64_t> to_uint(std::string_view s, uint64_t max) {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v > max)
        return std::nullopt;
    return v;
}

std::optional<int64_t> to_int(std::string_view s, int64_t min, int64_t max) {
    if (s.starts_with('+'))
        s.remove_prefix(1);
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v < min || v > max)
        return std::nullopt;
    return v;
}

std::optional<bool> to_bool(std::string_view s) {
    if (s == "true" || s == "on" || s == "yes")
        return true;
    if (s == "false" || s == "off" || s == "no")
        return false;
    return std::nullopt;
}

std::vector<token> block_words(const node& n) {
    std::vector<token> out;
    for (const node& ch : n.children) {
        out.push_back(token{ch.keyword, false, true, ch.at});
        out.insert(out.end(), ch.args.begin(), ch.args.end());
        if (ch.block)
            for (const token& t : block_words(ch))
                out.push_back(t);
    }
    return out;
}

std::optional<std::string> command_arg(ctx& c, const node& n) {
    if (!need_args(c, n, 1))
        return std::nullopt;
    if (n.args.size() > 1)
        c.d.warn(n.args[1].at, n.keyword + ": a script user (" + n.arg(1) +
                                   ") is not supported: the script runs as scripts.user");
    return n.args[0].text;
}

bool need_args(ctx& c, const node& n, size_t count) {
    if (n.args.size() >= count)
        return true;
    c.d.error(n.at, n.keyword + " needs " +
                        (count == 1 ? std::string("a value") : std::to_string(count) + " values"));
    return false;
}

void unsupported(ctx& c, const node& n, const std::string& why) {
    // keepalived matches keywords with strcmp: `Lb_Algo` is unknown to it, not lb_algo.
    const std::string& k = n.keyword;
    const bool upper =
        std::any_of(k.begin(), k.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; });
    const bool lower =
        std::any_of(k.begin(), k.end(), [](char ch) { return ch >= 'a' && ch <= 'z'; });
    if (upper && lower) {
        c.d.warn(n.at, "unknown keyword " + k + ": keepalived's keywords are case-sensitive and " +
                           "it ignores this one; left out");
        return;
    }
    c.d.warn(n.at, n.keyword + " has no ulvs equivalent" + (why.empty() ? "" : " (" + why + ")") +
                       "; left out");
}

namespace {

// lvs_sync_daemon INTERFACE [[inst] VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N]
// [group ADDR]: keepalived runs IPVS' master daemon on the node whose instance is MASTER and the
// backup daemon on the others. ulvs runs both on every node (`role: both`): a node sends what it
// forwards, which only the VRRP MASTER does, and installs what it receives.
void import_lvs_sync_daemon(ctx& c, const node& n) {
    if (!need_args(c, n, 1))
        return;
    c.use_interface(n.arg(0), n.args[0].at);
    std::string y = "sync: {role: both, interface: " + q(n.arg(0));
    std::string inst;
    for (size_t i = 1; i < n.args.size(); ++i) {
        const std::string& w = n.arg(i);
        auto value = [&](uint64_t min, uint64_t max) -> std::optional<uint64_t> {
            if (i + 1 >= n.args.size()) {
                c.d.error(n.args[i].at, "lvs_sync_daemon: " + w + " needs a value");
                return std::nullopt;
            }
            ++i;
            auto v = to_uint(n.arg(i), max);
            if (!v || *v < min)
                c.d.error(n.args[i].at, "lvs_sync_daemon: " + w + " must be " +
                                            std::to_string(min) + ".." + std::to_string(max));
            return v && *v >= min ? v : std::nullopt;
        };
        if (w == "id") {
            if (auto v = value(0, 255))
                y += ", syncid: " + std::to_string(*v);
        } else if (w == "maxlen") {
            if (auto v = value(1, 65507))
                y += ", maxlen: " + std::to_string(*v);
        } else if (w == "port") {
            if (auto v = value(1, 65535))
                y += ", port: " + std::to_string(*v);
        } else if (w == "ttl") {
            if (auto v = value(1, 255))
                y += ", ttl: " + std::to_string(*v);
        } else if (w == "group") {
            if (i + 1 >= n.args.size()) {
                c.d.error(n.args[i].at, "lvs_sync_daemon: group needs a value");
                continue;
            }
            ++i;
            if (n.arg(i).find(':') != std::string::npos)
                c.d.error(n.args[i].at, "lvs_sync_daemon: group " + n.arg(i) +
                                            " is IPv6; ulvs syncs over IPv4 only");
            else
                y += ", group: " + q(n.arg(i));
        } else if (w == "inst" && i + 1 < n.args.size()) {
            inst = n.arg(++i);
        } else if (i == 1) {
            inst = w; // keepalived's older form: the instance right after the interface
        } else {
            c.d.error(n.args[i].at,
                      "lvs_sync_daemon: unknown option " + w + " (id, maxlen, port, ttl, group)");
        }
    }
    if (!inst.empty())
        c.d.warn(n.at, "lvs_sync_daemon: the VRRP instance " + inst +
                           " is not needed: ulvs runs the master and backup daemons together "
                           "(role: both) and the node VRRP makes MASTER is the one that forwards "
                           "and so sends");
    c.lvs_sync = y + "}";
}

} // namespace

void import_global_defs(ctx& c, const node& g) {
    for (const node& n : g.children) {
        const std::string& k = n.keyword;
        if (k == "router_id") {
            if (need_args(c, n, 1))
                c.router_id = n.arg(0);
        } else if (k == "script_user") {
            if (need_args(c, n, 1)) {
                c.script_user = n.arg(0);
                c.script_group = n.arg(1);
            }
        } else if (k == "enable_script_security") {
            // ulvs runs scripts as scripts.user (root without it) and does not inspect the
            // permissions of the script files as keepalived does with this option.
            c.d.warn(n.at, "enable_script_security: ulvs does not check that scripts are "
                           "writable by root only; keep them so (left out)");
        } else if (k == "vrrp_strict") {
            c.vrrp_strict = true;
            unsupported(c, n, "global_defs");
        } else if (k == "vrrp_version") {
            if (need_args(c, n, 1)) {
                if (auto v = to_int(n.arg(0), 2, 3))
                    c.vrrp_version = int(*v);
                else
                    c.d.error(n.args[0].at, "vrrp_version must be 2 or 3");
            }
        } else if (k == "vrrp_garp_master_delay" || k == "vrrp_garp_master_refresh") {
            if (need_args(c, n, 1)) {
                auto v = to_uint(n.arg(0), 100000000);
                if (!v)
                    c.d.error(n.args[0].at, k + " must be a number of seconds");
                else if (k == "vrrp_garp_master_delay")
                    c.garp_delay = dur(int64_t(*v) * 1000);
                else
                    c.garp_refresh = dur(int64_t(*v) * 1000);
            }
        } else if (k == "lvs_sync_daemon") {
            import_lvs_sync_daemon(c, n);
        } else if (k == "lvs_timeouts") {
            // lvs_timeouts [tcp N] [tcpfin N] [udp N]: ipvsadm --set.
            std::string line;
            for (size_t i = 0; i + 1 < n.args.size(); i += 2) {
                const std::string& w = n.arg(i);
                auto v = to_uint(n.arg(i + 1), 100000000);
                const char* key = w == "tcp"      ? "tcp"
                                  : w == "tcpfin" ? "tcp_fin"
                                  : w == "udp"    ? "udp"
                                                  : nullptr;
                if (!key || !v) {
                    c.d.error(n.args[i].at,
                              "lvs_timeouts: expected tcp, tcpfin or udp and seconds");
                    continue;
                }
                line +=
                    std::string(line.empty() ? "" : ", ") + key + ": " + dur(int64_t(*v) * 1000);
            }
            if (n.args.size() % 2 != 0)
                c.d.error(n.at, "lvs_timeouts: a value is missing");
            if (!line.empty())
                c.timeouts = "timeouts: {" + line + "}";
        } else {
            unsupported(c, n, "global_defs");
        }
    }
}

} // namespace ulvs::importer
