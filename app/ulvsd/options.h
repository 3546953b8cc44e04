// ulvsd's command line (README "Running it").
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace ulvs::app {

struct options {
    std::string config = "/etc/ulvs/ulvs.yaml";
    bool check = false;
    bool version = false;
    std::optional<unsigned> exit_idle_s;
    std::optional<std::string> log_level;
    std::optional<std::vector<std::string>> eal_args; // after "--": replace dpdk.eal_args
};

std::expected<options, std::string> parse_options(int argc, char** argv);

constexpr const char* usage =
    "usage: ulvsd [-c FILE] [--check] [--exit-idle SECONDS] [--log-level LEVEL] [--version] "
    "[-- EAL-ARGS...]";

} // namespace ulvs::app
