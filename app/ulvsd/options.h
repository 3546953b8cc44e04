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

// --help: a manual page in plain text (scripts/install makes share/man/man8/ulvsd.8 from it).
constexpr const char* help_text =
    "NAME\n"
    "    ulvsd - userspace Linux Virtual Server: a layer-4 load balancer on DPDK\n"
    "\n"
    "SYNOPSIS\n"
    "    ulvsd [-c FILE] [--check] [--exit-idle DURATION] [--log-level LEVEL] [--version]\n"
    "          [--help] [-- EAL-ARGS...]\n"
    "\n"
    "DESCRIPTION\n"
    "    ulvsd forwards IPv4 TCP and UDP traffic for virtual servers to real servers (NAT, DR or\n"
    "    TUN, IPVS's schedulers), with health checks and VRRP, from the YAML configuration FILE.\n"
    "    Its ports are DPDK devices; one lcore runs the control plane, the others forward.\n"
    "    ulvsadm(8) manages the running daemon in ipvsadm's syntax.\n"
    "\n"
    "    Under systemd (ulvsd.service, Type=notify) it reports READY=1 once its ports are up and\n"
    "    the first configuration is published, RELOADING=1 and READY=1 around a reload, and\n"
    "    STOPPING=1 at shutdown, through $NOTIFY_SOCKET. When its stderr is the journal\n"
    "    ($JOURNAL_STREAM) it logs structured records (PRIORITY, ULVS_COMPONENT) to the journal;\n"
    "    otherwise to stderr, or to logging.file when the configuration sets one.\n"
    "\n"
    "OPTIONS\n"
    "    -c, --config FILE\n"
    "        The configuration (default /etc/ulvs/ulvs.yaml). Reloads read it again;\n"
    "        `ulvsadm save-yaml --write` writes the running configuration back to it.\n"
    "    --check\n"
    "        Validate FILE (errors and warnings as FILE:LINE:COL) and exit.\n"
    "    --exit-idle DURATION\n"
    "        Stop after DURATION (\"2\" seconds, \"300ms\") without a received packet (tests,\n"
    "        labs).\n"
    "    --log-level LEVEL\n"
    "        trace, debug, info, warn, error, critical or off (overrides logging.level).\n"
    "    --version\n"
    "        Print the version (and DPDK's) and exit.\n"
    "    -h, --help\n"
    "        Print this and exit.\n"
    "    -- EAL-ARGS...\n"
    "        DPDK EAL arguments instead of the configuration's dpdk.eal_args.\n"
    "\n"
    "FILES\n"
    "    /etc/ulvs/ulvs.yaml        the configuration (FILE.bak: the one save-yaml --write\n"
    "                               replaced)\n"
    "    /run/ulvs/ulvsd.sock       the management socket (management.socket)\n"
    "    ulvs-runas                 beside ulvsd: runs scripts as scripts.user\n"
    "\n"
    "SIGNALS\n"
    "    SIGHUP     reload FILE: applied if valid, else refused and the running configuration\n"
    "               kept (systemctl reload ulvsd; ulvsadm reload does the same)\n"
    "    SIGTERM, SIGINT\n"
    "               stop: VRRP masters send priority 0 first, then the ports are closed\n"
    "\n"
    "EXIT STATUS\n"
    "    0  stopped by a signal or --exit-idle; --check found FILE valid; --help, --version\n"
    "    1  a runtime failure (EAL, ports, memory, the management socket)\n"
    "    2  bad usage or an invalid configuration\n"
    "\n"
    "SEE ALSO\n"
    "    ulvsadm(8), systemctl(1), journalctl(1), README.md\n";

} // namespace ulvs::app
