#include "eal_args.h"

#include "ulvs/dataplane/port/port.h"

#include <algorithm>

namespace ulvs::app {

namespace {

bool has_flag(const std::vector<std::string>& args, std::initializer_list<std::string_view> flags) {
    return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
        return std::any_of(flags.begin(), flags.end(), [&](std::string_view f) {
            return a == f || (a.starts_with(f) && a.size() > f.size() && a[f.size()] == '=');
        });
    });
}

} // namespace

std::vector<std::string> build_eal_args(const config::config& cfg,
                                        const std::vector<std::string>& base) {
    std::vector<std::string> args{"ulvsd"};
    args.insert(args.end(), base.begin(), base.end());
    if (!has_flag(args, {"-l", "-c", "--lcores"})) {
        std::string list = std::to_string(cfg.lcores.control);
        for (unsigned w : cfg.lcores.workers)
            list += "," + std::to_string(w);
        args.insert(args.end(), {"-l", list});
    }
    if (!has_flag(args, {"--main-lcore"}))
        args.insert(args.end(), {"--main-lcore", std::to_string(cfg.lcores.control)});
    if (!has_flag(args, {"--log-level"}))
        args.push_back("--log-level=notice");
    for (const config::port_cfg& p : cfg.ports) {
        if (dp::is_pci_address(p.device))
            args.insert(args.end(), {"-a", p.device});
        else
            args.insert(args.end(), {"--vdev", p.device});
    }
    return args;
}

} // namespace ulvs::app
