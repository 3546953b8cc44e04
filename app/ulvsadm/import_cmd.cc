// ulvsadm import-keepalived: runs lib/importer and prints its YAML on stdout, warnings and errors
// on stderr. Needs no ulvsd.
#include "import_cmd.h"

#include "ulvs/importer/keepalived.h"

#include <cstdio>

namespace ulvs::adm {

std::string import_usage() {
    return "Usage: ulvsadm import-keepalived FILE [--base BASE.yaml] [--iptables RULES]\n"
           "  Prints FILE (a keepalived.conf, with its includes) as a ulvs YAML configuration.\n"
           "  --base BASE.yaml  dpdk, lcores, ports, routes, management, ... to put in front;\n"
           "                    its port names are keepalived's interface names. Without it,\n"
           "                    ports get placeholder devices to fill in.\n"
           "  --iptables RULES  the MARK rules of fwmark services (iptables-save output or\n"
           "                    `iptables -t mangle -A ...` lines), made into match services.\n"
           "  What ulvs has no equivalent for is a FILE:LINE:COL warning and left out.\n"
           "  Exit: 0 the YAML is printed and passes `ulvsd --check`'s validation; 1 the YAML is\n"
           "  printed but fails it (the errors say why: e.g. placeholders to fill in); 2 nothing\n"
           "  printed: bad usage, unreadable input, or settings that cannot be imported safely.\n";
}

int import_keepalived_cmd(const std::vector<std::string>& args) {
    importer::import_options o;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "-h" || a == "--help") {
            std::fputs(import_usage().c_str(), stdout);
            return 0;
        }
        if ((a == "--base" || a == "--iptables") && i + 1 < args.size()) {
            (a == "--base" ? o.base : o.iptables) = args[++i];
        } else if (a.starts_with("--base=")) {
            o.base = a.substr(7);
        } else if (a.starts_with("--iptables=")) {
            o.iptables = a.substr(11);
        } else if (!a.starts_with("-") && o.file.empty()) {
            o.file = a;
        } else {
            std::fprintf(stderr, "ulvsadm import-keepalived: unexpected argument %s\n%s", a.c_str(),
                         import_usage().c_str());
            return 2;
        }
    }
    if (o.file.empty()) {
        std::fputs(import_usage().c_str(), stderr);
        return 2;
    }
    const importer::import_result r = importer::import_keepalived(o);
    for (const std::string& w : r.warnings)
        std::fprintf(stderr, "%s\n", w.c_str());
    std::fputs(r.yaml.c_str(), stdout);
    for (const std::string& e : r.errors)
        std::fprintf(stderr, "%s\n", e.c_str());
    if (r.exit_code == 1)
        std::fprintf(stderr, "ulvsadm import-keepalived: the YAML above does not pass validation "
                             "yet (the errors give its lines)\n");
    return r.exit_code;
}

} // namespace ulvs::adm
