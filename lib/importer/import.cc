// The importer's driver: keepalived.conf -> tree -> sections -> one YAML text, with the base file
// (or placeholder ports) in front, then validated by the config loader itself (what `ulvsd
// --check` runs: the loader and the host's lcores), in-process.
#include "ulvs/importer/keepalived.h"

#include "import_common.h"
#include "import_iptables.h"

#include "ulvs/config/load.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace ulvs::importer {

namespace {

// Root keywords of keepalived with no ulvs equivalent (warned about and left out). Anything else
// unknown is warned about as keepalived does ("Unknown keyword").
const std::set<std::string> known_roots = {"static_ipaddress",
                                           "static_routes",
                                           "static_rules",
                                           "linkbeat_interfaces",
                                           "net_namespace",
                                           "instance",
                                           "track_group",
                                           "garp_group",
                                           "vrrp_track_process",
                                           "interface_up_down_delays",
                                           "track_file",
                                           "vrrp_track_file",
                                           "SSL",
                                           "bfd_instance",
                                           "use_pid_dir",
                                           "child_wait_time"};

// The port section written when there is no --base: placeholder devices, no addresses.
std::string placeholder_ports(const ctx& c) {
    std::string o =
        "# No --base file: fill in each port's DPDK device (a PCI address or a vdev such as\n"
        "# \"net_af_packet0,iface=eth0\") and its addresses (README \"Configuration\"). The\n"
        "# placeholder devices pass `ulvsd --check` (devices are opened at start) but not\n"
        "# the start itself; real servers and VRRP need the addresses.\n"
        "ports:\n";
    for (const std::string& i : c.interfaces)
        o += "  - name: " + q(i) + "\n    device: " + q("FILL-IN: the DPDK device of " + i) +
             "\n    addresses: []\n";
    return o;
}

// Reads the base file and checks it leaves the imported sections to the import.
std::optional<std::string> read_base(ctx& c, const std::string& path) {
    std::ifstream in(path);
    const loc at{std::make_shared<const std::string>(path), 0, 0};
    if (!in) {
        c.d.error(at, "cannot read " + path);
        return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (!text.empty() && !text.ends_with('\n'))
        text += '\n';
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        c.d.error(loc{at.file, e.mark.line + 1, e.mark.column + 1}, "not YAML: " + e.msg);
        return std::nullopt;
    }
    if (root.IsNull())
        return text;
    if (!root.IsMap()) {
        c.d.error(at, "the base file must be a YAML mapping (dpdk, lcores, ports, ...)");
        return std::nullopt;
    }
    std::set<std::string> ports;
    for (const auto& kv : root) {
        const std::string key = kv.first.as<std::string>("");
        const loc k{at.file, kv.first.Mark().line + 1, kv.first.Mark().column + 1};
        if (key == "vrrp_instances" || key == "vrrp_sync_groups" || key == "virtual_servers" ||
            (key == "scripts" && !c.script_user.empty()) || (key == "timeouts" && c.timeouts) ||
            (key == "sync" && c.lvs_sync))
            c.d.error(k, key + " comes from keepalived.conf: leave it out of the base file");
        if (key == "ports" && kv.second.IsSequence())
            for (const auto& p : kv.second)
                if (p.IsMap() && p["name"])
                    ports.insert(p["name"].as<std::string>(""));
    }
    for (const std::string& i : c.interfaces)
        if (!ports.contains(i))
            c.d.error(c.interface_at.at(i),
                      "interface " + i + " has no port of that name in " + path);
    return text;
}

} // namespace

import_result import_keepalived(const import_options& opts) {
    diags d;
    import_result res;
    ctx c(d);
    std::vector<node> top = build_tree(read_tokens(opts.file, d), d);
    for (const node& n : top) {
        const std::string& k = n.keyword;
        if (k == "global_defs")
            import_global_defs(c, n);
        else if (k == "vrrp_script" || k == "vrrp_instance" || k == "vrrp_sync_group" ||
                 k == "virtual_server" || k == "virtual_server_group")
            continue;
        else if (k.starts_with('$') || k.starts_with('@') || k.starts_with("~SEQ"))
            continue; // kc_parse's error already
        else if (known_roots.contains(k))
            unsupported(c, n, "");
        else
            d.warn(n.at, "unknown keyword " + k + " (keepalived ignores it too); left out");
    }
    import_vrrp(c, top);
    import_virtual_servers(c, top);
    resolve_fwmarks(c, opts.iptables);
    std::optional<std::string> base;
    if (opts.base)
        base = read_base(c, *opts.base);
    else
        for (const std::string& i : c.interfaces)
            d.warn(c.interface_at.at(i), "no --base: port " + i + " gets a placeholder device " +
                                             "and no address; fill them in before running ulvsd");
    res.warnings = d.warnings;
    res.errors = d.errors;
    if (!d.errors.empty())
        return res;

    std::string y = "# Imported from " + opts.file + " by `ulvsadm import-keepalived`.\n";
    if (!c.router_id.empty())
        y += "# keepalived's router_id was " + c.router_id + " (it names the host in its mails).\n";
    y += opts.base ? *base : placeholder_ports(c);
    if (c.timeouts)
        y += *c.timeouts + "\n";
    if (c.lvs_sync)
        y += *c.lvs_sync + "\n";
    if (!c.script_user.empty()) {
        y += "scripts: {user: " + q(c.script_user);
        if (!c.script_group.empty())
            y += ", group: " + q(c.script_group);
        y += "}\n";
    }
    if (!c.vrrp_yaml.empty())
        y += "vrrp_instances:\n" + c.vrrp_yaml;
    if (!c.sync_yaml.empty())
        y += "vrrp_sync_groups:\n" + c.sync_yaml;
    if (!c.services.empty()) {
        y += "virtual_servers:\n";
        for (const vs_text& s : c.services)
            y += "  - name: " + q(s.name) + "\n" + s.keys + s.body;
    }
    res.yaml = y;
    auto loaded = config::load_string(y, "(imported YAML)");
    std::vector<config::diagnostic> errors;
    if (!loaded) {
        errors = loaded.error();
    } else {
        // As `ulvsd --check` (app/ulvsd/main.cc): lcores must exist on this host unless the EAL
        // arguments map them (--lcores).
        const auto& eal = loaded->dpdk.eal_args;
        if (std::none_of(eal.begin(), eal.end(), [](const std::string& a) {
                return a == "--lcores" || a.starts_with("--lcores=");
            }))
            errors = config::check_host(*loaded, std::thread::hardware_concurrency());
    }
    if (!errors.empty()) {
        for (const config::diagnostic& e : errors)
            res.errors.push_back(e.to_string());
        res.exit_code = 1;
        return res;
    }
    res.exit_code = 0;
    return res;
}

} // namespace ulvs::importer
