// Where ulvsadm finds ulvsd's socket when no --socket is given (issue 16: a daemon started with
// management.socket elsewhere was not found): ULVS_SOCKET, else management.socket of the config
// file ulvsd reads by default (/etc/ulvs/ulvs.yaml, or ULVS_CONFIG), else the built-in default.
#pragma once

#include <string>

namespace ulvs::adm {

struct socket_choice {
    std::string path;
    std::string origin; // for the "cannot reach" message: "management.socket in FILE" or ""
};

socket_choice default_socket();

} // namespace ulvs::adm
