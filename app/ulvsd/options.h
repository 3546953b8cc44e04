// ulvsd's command line (README "Running it").
#pragma once

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace ulvs::app {

struct options {
    std::string config = "/etc/ulvs/ulvs.yaml";
    bool check = false;
    bool version = false;
    bool help = false;
    std::optional<std::chrono::milliseconds> exit_idle; // --exit-idle
    std::optional<std::string> log_level;
    std::optional<std::vector<std::string>> eal_args; // after "--": replace dpdk.eal_args
};

std::expected<options, std::string> parse_options(int argc, char** argv);

constexpr const char* usage =
    "usage: ulvsd [-c FILE] [--check] [--exit-idle DURATION] [--log-level LEVEL] [--version] "
    "[--help] [-- EAL-ARGS...]";

// --help: the usage line and what each option does.
constexpr const char* help_text =
    "ulvsd: a userspace Linux Virtual Server (layer-4 load balancer on DPDK).\n"
    "\n"
    "  -c, --config FILE     configuration (default /etc/ulvs/ulvs.yaml)\n"
    "  --check               validate FILE (errors as FILE:LINE:COL) and exit: 0 ok, 2 invalid\n"
    "  --exit-idle DURATION  stop after DURATION (\"2\" seconds, \"300ms\") without a received\n"
    "                        packet (tests, labs)\n"
    "  --log-level LEVEL     trace, debug, info, warn, error, critical or off (overrides\n"
    "                        logging.level)\n"
    "  --version             print the version and exit\n"
    "  --help                print this and exit\n"
    "  -- EAL-ARGS...        DPDK EAL arguments instead of dpdk.eal_args\n"
    "\n"
    "Manage the running daemon with ulvsadm (ipvsadm's syntax); reload with SIGHUP or\n"
    "`ulvsadm reload`; SIGTERM stops it (VRRP masters send priority 0 first).\n";

} // namespace ulvs::app
