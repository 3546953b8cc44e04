// Health-check keys of virtual and real servers (README "Configuration" and "Health checks"), with
// keepalived's defaults: delay_loop 60 s (check_data.c), connect_timeout 5 s (check_api.c
// queue_checker), retry 1 and delay_before_retry 1 s ("the default value is 1 retry after 1
// second", keepalived PR #181); MISC_CHECK: retry 0, timeout = delay_loop. HTTP without `status`:
// any 2xx passes.
#pragma once

#include "ulvs/common/inet.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ulvs::config {

enum class check_type : uint8_t { tcp, http, https, misc, udp };

std::string_view to_string(check_type t);

struct health_check_cfg {
    check_type type = check_type::tcp;
    std::chrono::milliseconds delay_loop{60000};
    std::chrono::milliseconds connect_timeout{5000}; // misc: the script's timeout
    uint32_t retry = 1;
    std::chrono::milliseconds delay_before_retry{1000};
    uint16_t port = 0;            // 0: the real server's port (or the service's when that is 0)
    std::string path;             // http/https: URL path ("/" by default); misc: the command
    std::vector<uint16_t> status; // http/https: accepted codes; empty = 200..299
    std::string digest;           // http/https: md5 of the body, lowercase hex; empty = none
    std::string virtualhost;      // http/https: Host header; empty = the server's address
    bool dynamic = false;         // misc: exit 2..255 sets weight code-2
    std::string payload;          // udp: the datagram's bytes (written in hex, as keepalived)
    bool require_reply = false;   // udp: a reply within connect_timeout is needed
    bool operator==(const health_check_cfg&) const = default;
};

struct notify_cfg {
    std::string up;   // shell command run when the server comes up
    std::string down; // ... goes down
    bool operator==(const notify_cfg&) const = default;
};

struct sorry_server_cfg {
    ip_addr address;
    uint16_t port = 0;
    bool operator==(const sorry_server_cfg&) const = default;
};

// What the health checker needs from a virtual server; kept in one member so that the sizes of
// the shared config structs move only once.
struct vs_health_cfg {
    uint32_t quorum = 1; // keepalived's default
    uint32_t hysteresis = 0;
    bool alpha = false;
    std::optional<sorry_server_cfg> sorry_server;
    std::optional<health_check_cfg> check; // default for every real server
    bool operator==(const vs_health_cfg&) const = default;
};

struct rs_health_cfg {
    bool inhibit_on_failure = false;
    std::optional<health_check_cfg> check; // overrides the service's
    notify_cfg notify;
    bool operator==(const rs_health_cfg&) const = default;
};

} // namespace ulvs::config
