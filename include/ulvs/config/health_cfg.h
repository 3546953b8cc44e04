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

// One of an http/https check's `urls` (keepalived's url blocks): every one must pass.
struct url_cfg {
    std::string path = "/";
    std::vector<uint16_t> status; // accepted codes; empty = 200..299
    std::string digest;           // md5 of the body, lowercase hex; empty = none
    bool operator==(const url_cfg&) const = default;
};

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
    // http/https `urls`: several url blocks, all fetched in turn (keepalived checks them one
    // after the other and fails on the first that fails). Empty: path/status/digest are the one.
    std::vector<url_cfg> urls;
    ip_addr address; // keepalived connect_ip: probe this address instead (0: the server's)
    ip_addr source;  // keepalived bindto: the probe's source address (0: the kernel picks)
    // keepalived warmup: the first probe waits a random time up to this (0: the usual spread).
    std::chrono::milliseconds warmup{0};
    bool operator==(const health_check_cfg&) const = default;

    // The url blocks to fetch: `urls`, else path/status/digest as one.
    std::vector<url_cfg> url_list() const {
        return urls.empty() ? std::vector<url_cfg>{{path, status, digest}} : urls;
    }
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
    std::vector<health_check_cfg> checks;  // `health_checks`: several (then `check` is empty)
    std::string quorum_up, quorum_down;    // `notify`: keepalived's quorum_up/quorum_down scripts
    bool operator==(const vs_health_cfg&) const = default;

    // Every checker, whichever key wrote them.
    std::vector<health_check_cfg> all_checks() const {
        return check ? std::vector<health_check_cfg>{*check} : checks;
    }
};

struct rs_health_cfg {
    bool inhibit_on_failure = false;
    std::optional<health_check_cfg> check; // overrides the service's
    std::vector<health_check_cfg> checks;  // `health_checks`: several (then `check` is empty)
    notify_cfg notify;
    bool operator==(const rs_health_cfg&) const = default;

    std::vector<health_check_cfg> all_checks() const {
        return check ? std::vector<health_check_cfg>{*check} : checks;
    }
    // The checkers a real server of `vs` gets: its own, else its service's.
    std::vector<health_check_cfg> effective(const vs_health_cfg& vs) const {
        return check || !checks.empty() ? all_checks() : vs.all_checks();
    }
};

} // namespace ulvs::config
