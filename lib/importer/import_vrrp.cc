// vrrp_script, vrrp_instance and vrrp_sync_group -> `vrrp_instances` and `vrrp_sync_groups`
// (helper_rules' keys: version, source_address, garp, notify.{stop,any}, track.scripts' rise,
// fall and timeout). Semantics from keepalived's vrrp_parser.c: state, auth_type and lb_kind-like
// words are matched case-sensitively there (`master` is not MASTER), so they are here too.
#include "import_common.h"

#include <algorithm>
#include <set>

namespace ulvs::importer {

namespace {

struct script_def {
    std::string path;
    std::string interval, timeout; // YAML durations; empty: keepalived's default
    int64_t weight = 0;
    std::string rise, fall;
    bool reverse = false;
    bool ok = true;
};

bool ipv4_like(std::string_view s) {
    return !s.empty() && s.find(':') == std::string_view::npos &&
           std::all_of(s.begin(), s.end(),
                       [](char ch) { return (ch >= '0' && ch <= '9') || ch == '.' || ch == '/'; });
}

std::string list(const std::vector<std::string>& v) {
    std::string o = "[";
    for (size_t i = 0; i < v.size(); ++i)
        o += (i ? ", " : "") + v[i];
    return o + "]";
}

std::optional<std::string> duration_arg(ctx& c, const node& n) {
    if (!need_args(c, n, 1))
        return std::nullopt;
    auto ms = seconds_ms(n.arg(0));
    if (!ms) {
        c.d.error(n.args[0].at, n.keyword + " must be a number of seconds, got " + n.arg(0));
        return std::nullopt;
    }
    return dur(*ms);
}

script_def read_script(ctx& c, const node& s) {
    script_def out;
    for (const node& n : s.children) {
        const std::string& k = n.keyword;
        if (k == "script") {
            if (auto p = command_arg(c, n))
                out.path = *p;
        } else if (k == "interval" || k == "timeout") {
            if (auto v = duration_arg(c, n))
                (k == "interval" ? out.interval : out.timeout) = *v;
        } else if (k == "weight") {
            if (!need_args(c, n, 1))
                continue;
            if (auto w = to_int(n.arg(0), -253, 253))
                out.weight = *w;
            else
                c.d.error(n.args[0].at, "weight must be in -253..253");
            if (n.arg(1) == "reverse") {
                c.d.error(n.args[1].at, "weight ... reverse (the weight applies while the script "
                                        "succeeds) has no ulvs equivalent");
                out.ok = false;
            }
        } else if (k == "rise" || k == "fall") {
            if (need_args(c, n, 1) && to_uint(n.arg(0), 1000000))
                (k == "rise" ? out.rise : out.fall) = n.arg(0);
            else if (!n.args.empty())
                c.d.error(n.args[0].at, k + " must be a positive integer");
        } else if (k == "user") {
            c.d.warn(n.at, "vrrp_script user: ulvs runs every script as scripts.user; left out");
        } else {
            unsupported(c, n, "vrrp_script");
        }
    }
    if (out.path.empty()) {
        c.d.error(s.at, "vrrp_script " + s.arg(0) + " has no script");
        out.ok = false;
    }
    return out;
}

struct instance_out {
    std::vector<std::string> lines; // "    key: value"
    void add(const std::string& k, const std::string& v) { lines.push_back("    " + k + ": " + v); }
};

// How keepalived's vrrp_complete_instance() treats weights: an instance of a sync group (without
// the group's sync_group_tracking_weight) or the address owner (priority 255) ignores weighted
// track scripts altogether, and its tracked interfaces' weights (a down one is then FAULT).
enum class weights { used, ignored_sync, ignored_owner, sync_tracking };

void import_instance(ctx& c, const node& vi, const std::map<std::string, script_def>& scripts,
                     weights sync) {
    if (vi.args.empty()) {
        c.d.error(vi.at, "vrrp_instance needs a name");
        return;
    }
    instance_out o;
    o.add("name", q(vi.arg(0)));
    const node* version = nullptr;
    for (const node& n : vi.children)
        if (n.keyword == "version")
            version = &n;
    int ver = c.vrrp_version;
    bool owner = false;
    for (const node& n : vi.children)
        if (n.keyword == "priority")
            owner = n.arg(0) == "255";
    bool strict = c.vrrp_strict;
    for (const node& n : vi.children)
        if (n.keyword == "strict_mode")
            strict = n.args.empty() || to_bool(n.arg(0)).value_or(true);
    if (version && need_args(c, *version, 1)) {
        if (auto v = to_int(version->arg(0), 2, 3))
            ver = int(*v);
        else
            c.d.error(version->args[0].at, "version must be 2 or 3");
    }
    std::string port, state, vrid;
    std::vector<std::string> peers, vips, track_ports, track_scripts;
    std::vector<std::pair<std::string, std::string>> notify;
    std::string auth, garp_delay = c.garp_delay.value_or(""),
                      garp_refresh = c.garp_refresh.value_or("");
    for (const node& n : vi.children) {
        const std::string& k = n.keyword;
        if (k == "interface") {
            if (need_args(c, n, 1)) {
                port = n.arg(0);
                c.use_interface(port, n.args[0].at);
            }
        } else if (k == "state") {
            if (!need_args(c, n, 1))
                continue;
            if (n.arg(0) == "MASTER" || n.arg(0) == "BACKUP")
                state = n.arg(0) == "MASTER" ? "master" : "backup";
            else
                c.d.error(n.args[0].at, "state must be MASTER or BACKUP (keepalived reads any "
                                        "other word, '" +
                                            n.arg(0) + "' too, as BACKUP)");
        } else if (k == "virtual_router_id") {
            if (!need_args(c, n, 1))
                continue;
            vrid = n.arg(0);
            if (auto v = to_uint(vrid, 255); !v || *v == 0)
                c.d.error(n.args[0].at, "virtual_router_id must be 1..255");
        } else if (k == "priority") {
            if (need_args(c, n, 1) && to_uint(n.arg(0), 255))
                o.add("priority", n.arg(0));
            else if (!n.args.empty())
                c.d.error(n.args[0].at, "priority must be 1..255");
        } else if (k == "advert_int" || k == "preempt_delay") {
            if (auto v = duration_arg(c, n))
                o.add(k, *v);
        } else if (k == "version") {
        } else if (k == "nopreempt") {
            o.add("preempt", "false");
        } else if (k == "preempt") {
            o.add("preempt", "true");
        } else if (k == "authentication") {
            std::string type, pass;
            for (const node& a : n.children) {
                if (a.keyword == "auth_type" && need_args(c, a, 1)) {
                    type = a.arg(0);
                    if (type == "AH")
                        c.d.error(a.args[0].at, "auth_type AH (IPsec AH) is not supported by ulvs");
                    else if (type != "PASS")
                        c.d.error(a.args[0].at, "auth_type must be PASS or AH");
                } else if (a.keyword == "auth_pass" && need_args(c, a, 1)) {
                    pass = a.arg(0);
                    if (pass.size() > 8) {
                        c.d.warn(a.args[0].at, "auth_pass is longer than 8 characters: keepalived "
                                               "uses the first 8, so does the import");
                        pass.resize(8);
                    }
                } else if (a.keyword != "auth_type" && a.keyword != "auth_pass") {
                    unsupported(c, a, "authentication");
                }
            }
            // keepalived's vrrp_complete_instance() drops authentication in these cases.
            if (type == "PASS" && ver == 3)
                c.d.warn(n.at, "authentication with VRRP version 3: keepalived ignores it, and so "
                               "does the import");
            else if (type == "PASS" && strict)
                c.d.warn(n.at, "authentication in strict mode: keepalived ignores it, and so "
                               "does the import");
            else if (type == "PASS" && pass.empty())
                c.d.warn(n.at, "authentication PASS without auth_pass: keepalived ignores it, and "
                               "so does the import");
            else if (type == "PASS")
                auth = "{type: pass, password: " + q(pass) + "}";
        } else if (k == "mcast_src_ip" || k == "unicast_src_ip") {
            if (need_args(c, n, 1) && ipv4_like(n.arg(0)))
                o.add("source_address", n.arg(0));
            else if (!n.args.empty())
                c.d.error(n.args[0].at, k + ": an IPv4 address is needed");
        } else if (k == "unicast_peer") {
            for (const node& p : n.children) {
                if (!ipv4_like(p.keyword))
                    c.d.error(p.at, "unicast_peer: " + p.keyword + " is not an IPv4 address");
                else
                    peers.push_back(p.keyword);
                if (!p.args.empty())
                    c.d.warn(p.args[0].at, "unicast_peer options (" + p.arg(0) +
                                               " ...) have no "
                                               "ulvs equivalent; left out");
            }
        } else if (k == "virtual_ipaddress" || k == "virtual_ipaddress_excluded") {
            if (k == "virtual_ipaddress_excluded")
                c.d.warn(n.at, "virtual_ipaddress_excluded: imported as virtual addresses (ulvs "
                               "has no separate list for addresses left out of adverts)");
            for (const node& a : n.children) {
                std::string addr = a.keyword;
                if (!ipv4_like(addr)) {
                    c.d.error(a.at, "virtual address " + addr +
                                        ": only IPv4 addresses are "
                                        "supported");
                    continue;
                }
                vips.push_back(addr.find('/') == std::string::npos ? addr + "/32" : addr);
                for (size_t i = 0; i < a.args.size(); ++i) {
                    const std::string& w = a.arg(i);
                    if (w == "dev" && i + 1 < a.args.size()) {
                        if (!port.empty() && a.arg(i + 1) != port)
                            c.d.warn(a.args[i].at, "dev " + a.arg(i + 1) + ": ulvs holds an " +
                                                       "instance's addresses on its own port; "
                                                       "left out");
                        ++i;
                    } else if ((w == "label" || w == "brd" || w == "scope") &&
                               i + 1 < a.args.size()) {
                        c.d.warn(a.args[i].at, w + " " + a.arg(i + 1) + ": ulvs does not put " +
                                                   "VIPs on kernel interfaces; left out");
                        ++i;
                    } else {
                        c.d.warn(a.args[i].at, "virtual address option " + w + " has no ulvs " +
                                                   "equivalent; left out");
                    }
                }
            }
        } else if (k == "track_interface") {
            for (const node& t : n.children) {
                const bool weighted = t.arg(0) == "weight" && t.arg(1) != "0";
                if (weighted && owner && sync == weights::used) {
                    c.d.warn(t.at, "track_interface " + t.keyword + " with a weight: keepalived " +
                                       "does not track it for the address owner, nor does the " +
                                       "import");
                    continue;
                }
                track_ports.push_back(q(t.keyword));
                c.use_interface(t.keyword, t.at);
                // In a sync group keepalived itself sets the weight to 0 (down = FAULT), as ulvs.
                if (weighted && sync == weights::used)
                    c.d.warn(t.args[0].at, "track_interface weight: keepalived lowers the "
                                           "priority when the interface is down, ulvs puts the "
                                           "instance in FAULT; weight left out");
            }
        } else if (k == "track_script") {
            for (const node& t : n.children) {
                auto s = scripts.find(t.keyword);
                if (s == scripts.end()) {
                    c.d.error(t.at, "track_script " + t.keyword + ": no vrrp_script of that name");
                    continue;
                }
                if (!s->second.ok)
                    continue;
                int64_t weight = s->second.weight;
                if (t.arg(0) == "weight") {
                    if (auto w = to_int(t.arg(1), -253, 253))
                        weight = *w;
                    else
                        c.d.error(t.at, "track_script weight must be in -253..253");
                    if (t.arg(2) == "reverse")
                        c.d.error(t.args[2].at, "weight ... reverse has no ulvs equivalent");
                } else if (!t.args.empty()) {
                    c.d.warn(t.args[0].at, "track_script option " + t.arg(0) + " left out");
                }
                weights mode = sync;
                if (mode == weights::used && owner)
                    mode = weights::ignored_owner;
                if (weight != 0 &&
                    (mode == weights::ignored_sync || mode == weights::ignored_owner)) {
                    c.d.warn(t.at,
                             "track_script " + t.keyword + " has a weight: keepalived " +
                                 "ignores it in " +
                                 (mode == weights::ignored_owner ? "the address owner"
                                                                 : "a sync group's instance") +
                                 ", and so does the import");
                    continue;
                }
                if (weight != 0 && mode == weights::sync_tracking) {
                    c.d.error(t.at, "track_script " + t.keyword +
                                        " with a weight in a sync group " +
                                        "with sync_group_tracking_weight: ulvs puts a sync group " +
                                        "in FAULT on a failing script, it has no weights there");
                    continue;
                }
                const script_def& d = s->second;
                std::string e = "{path: " + q(d.path);
                if (!d.interval.empty())
                    e += ", interval: " + d.interval;
                e += ", weight: " + std::to_string(weight);
                if (!d.rise.empty())
                    e += ", rise: " + d.rise;
                if (!d.fall.empty())
                    e += ", fall: " + d.fall;
                if (!d.timeout.empty())
                    e += ", timeout: " + d.timeout;
                track_scripts.push_back(e + "}");
            }
        } else if (k == "notify_master" || k == "notify_backup" || k == "notify_fault" ||
                   k == "notify_stop" || k == "notify") {
            if (auto cmd = command_arg(c, n))
                notify.emplace_back(k == "notify" ? "any" : k.substr(7), q(*cmd));
        } else if (k == "garp_master_delay" || k == "garp_master_refresh") {
            if (!need_args(c, n, 1))
                continue;
            if (auto v = to_uint(n.arg(0), 100000000))
                (k == "garp_master_delay" ? garp_delay : garp_refresh) = dur(int64_t(*v) * 1000);
            else
                c.d.error(n.args[0].at, k + " must be a number of seconds");
        } else {
            unsupported(c, n, "vrrp_instance");
        }
    }
    if (port.empty())
        c.d.error(vi.at, "vrrp_instance " + vi.arg(0) + " has no interface");
    if (vrid.empty())
        c.d.error(vi.at, "vrrp_instance " + vi.arg(0) + " has no virtual_router_id");
    o.lines.insert(o.lines.begin() + 1, "    port: " + q(port));
    o.lines.insert(o.lines.begin() + 2, "    vrid: " + vrid);
    o.lines.insert(o.lines.begin() + 3,
                   "    state: " + (state.empty() ? std::string("backup") : state));
    o.add("version", std::to_string(ver));
    if (!auth.empty())
        o.add("authentication", auth);
    if (!peers.empty())
        o.add("unicast_peers", list(peers));
    o.add("virtual_addresses", list(vips));
    if (!track_ports.empty() || !track_scripts.empty()) {
        std::string t = "{";
        if (!track_ports.empty())
            t += "ports: " + list(track_ports);
        if (!track_scripts.empty())
            t += std::string(track_ports.empty() ? "" : ", ") + "scripts: " + list(track_scripts);
        o.add("track", t + "}");
    }
    if (!notify.empty()) {
        std::string t = "{";
        for (size_t i = 0; i < notify.size(); ++i)
            t += (i ? ", " : "") + notify[i].first + ": " + notify[i].second;
        o.add("notify", t + "}");
    }
    if (!garp_delay.empty() || !garp_refresh.empty()) {
        std::string t = "{";
        if (!garp_delay.empty())
            t += "master_delay: " + garp_delay;
        if (!garp_refresh.empty())
            t += std::string(garp_delay.empty() ? "" : ", ") + "master_refresh: " + garp_refresh;
        o.add("garp", t + "}");
    }
    o.lines[0] = "  - " + o.lines[0].substr(4);
    for (const std::string& l : o.lines)
        c.vrrp_yaml += l + "\n";
}

void import_sync_group(ctx& c, const node& g, const std::set<std::string>& instances) {
    if (g.args.empty()) {
        c.d.error(g.at, "vrrp_sync_group needs a name");
        return;
    }
    std::vector<std::string> members;
    std::vector<std::pair<std::string, std::string>> notify;
    for (const node& n : g.children) {
        const std::string& k = n.keyword;
        if (k == "group") {
            for (const token& t : block_words(n)) {
                if (!instances.contains(t.text))
                    c.d.error(t.at, "vrrp_sync_group " + g.arg(0) + ": no vrrp_instance " + t.text);
                members.push_back(q(t.text));
            }
        } else if (k == "notify_master" || k == "notify_backup" || k == "notify_fault" ||
                   k == "notify") {
            if (auto cmd = command_arg(c, n))
                notify.emplace_back(k == "notify" ? "any" : k.substr(7), q(*cmd));
        } else {
            unsupported(c, n, "vrrp_sync_group");
        }
    }
    c.sync_yaml += "  - name: " + q(g.arg(0)) + "\n    instances: " + list(members) + "\n";
    if (!notify.empty()) {
        std::string t = "{";
        for (size_t i = 0; i < notify.size(); ++i)
            t += (i ? ", " : "") + notify[i].first + ": " + notify[i].second;
        c.sync_yaml += "    notify: " + t + "}\n";
    }
}

} // namespace

void import_vrrp(ctx& c, const std::vector<node>& top) {
    std::map<std::string, script_def> scripts;
    std::set<std::string> instances;
    for (const node& n : top) {
        if (n.keyword == "vrrp_script") {
            if (n.args.empty())
                c.d.error(n.at, "vrrp_script needs a name");
            else
                scripts[n.arg(0)] = read_script(c, n);
        } else if (n.keyword == "vrrp_instance" && !n.args.empty()) {
            instances.insert(n.arg(0));
        }
    }
    std::map<std::string, weights> synced; // instance -> how its group treats weights
    for (const node& g : top) {
        if (g.keyword != "vrrp_sync_group")
            continue;
        bool tracking = false;
        for (const node& n : g.children)
            tracking = tracking || n.keyword == "sync_group_tracking_weight" ||
                       n.keyword == "global_tracking";
        for (const node& n : g.children)
            if (n.keyword == "group")
                for (const token& t : block_words(n))
                    synced[t.text] = tracking ? weights::sync_tracking : weights::ignored_sync;
    }
    for (const node& n : top)
        if (n.keyword == "vrrp_instance") {
            auto s = synced.find(n.arg(0));
            import_instance(c, n, scripts, s == synced.end() ? weights::used : s->second);
        }
    for (const node& n : top)
        if (n.keyword == "vrrp_sync_group")
            import_sync_group(c, n, instances);
}

} // namespace ulvs::importer
