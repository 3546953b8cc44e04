// ulvsadm's connection to ulvsd: one unix socket, one request line out, one reply line back.
// Bounded in time so a wedged daemon cannot hang a script: 30 s for the whole exchange.
#pragma once

#include "ulvs/mgmt/protocol.h"

#include <expected>
#include <string>

namespace ulvs::adm {

// Transport failures only ("cannot reach ulvsd at PATH: REASON" is built by the caller).
struct transport_error {
    std::string reason;
};

class client {
public:
    static std::expected<client, transport_error> connect(const std::string& path);
    client(client&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }
    client(const client&) = delete;
    ~client();

    // Send `request` (the "v" field is added) and return the parsed reply line.
    std::expected<mgmt::json, transport_error> call(mgmt::json request);

private:
    explicit client(int fd) : m_fd(fd) {}
    int m_fd = -1;
    std::string m_buf;
};

} // namespace ulvs::adm
