#include "socket_path.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>

namespace ulvs::adm {

namespace {

// ulvsd's defaults (app/ulvsd/options.h, config.h management_cfg).
constexpr const char* default_config = "/etc/ulvs/ulvs.yaml";
constexpr const char* builtin_socket = "/run/ulvs/ulvsd.sock";

const char* env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
}

} // namespace

socket_choice default_socket() {
    if (const char* s = env("ULVS_SOCKET"))
        return {s, ""}; // as --socket: the message names the path only
    const std::string file = env("ULVS_CONFIG") ? env("ULVS_CONFIG") : default_config;
    // Only this one key is read, without validating the file: ulvsd judged it at start, and a
    // file that does not parse (or that this user may not read) leaves the default.
    try {
        const YAML::Node root = YAML::LoadFile(file);
        const YAML::Node s = root["management"] ? root["management"]["socket"] : YAML::Node();
        if (s && s.IsScalar() && !s.Scalar().empty())
            return {s.Scalar(), "management.socket in " + file};
    } catch (const std::exception&) {
    }
    return {builtin_socket, ""};
}

} // namespace ulvs::adm
