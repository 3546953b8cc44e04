// One health probe in flight: a non-blocking kernel socket (tcp connect; http GET over it; https
// the same over OpenSSL; udp datagram) or a child process (misc). The kernel routes the sockets
// through the exception path's TAP interfaces (exception/kernel_tap.h), so probes leave from the
// appliance's own addresses.
//
// Nothing here blocks: start() only opens and connects (EINPROGRESS), on_ready() reads and
// writes what is ready, expired() is checked by the owner against the probe's deadline. A misc
// child is started and reaped by proc/children.h: abort() asks it to stop and never waits.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/config/health_cfg.h"
#include "ulvs/control/proc/children.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>

namespace ulvs::ctl::health {

enum class probe_status : uint8_t { running, ok, failed };

struct probe_target {
    probe_target(ip_addr a = {}, uint16_t p = 0, ip_addr src = {})
        : address(a), port(p), source(src) {}
    ip_addr address;   // where to connect (the check's `address`, else the server's)
    uint16_t port = 0; // the check's port, else the server's
    ip_addr source;    // the check's `source` (bindto): bound before connecting; 0 = none
    size_t url = 0;    // http/https: which of the check's url_list() this probe fetches
};

class probe {
public:
    virtual ~probe() = default;
    // The fd to wait on (epoll, level-triggered), or -1 for a misc child (poll_child instead).
    virtual int fd() const = 0;
    // Events to wait for: EPOLLIN / EPOLLOUT bits.
    virtual uint32_t events() const = 0;
    // fd ready: do what can be done now.
    virtual probe_status on_ready() = 0;
    // misc: has the child exited (never waits); sockets: running.
    virtual probe_status poll_child() { return probe_status::running; }
    // Give up: close; misc: SIGTERM, later SIGKILL, to the child's group (never waits).
    virtual void abort() {}
    // connect_timeout passed: the verdict (a failure, except a udp check that needs no reply).
    virtual probe_status on_deadline() { return fail("timeout"); }
    // misc `dynamic`: the weight the exit code asked for.
    virtual std::optional<uint32_t> weight() const { return std::nullopt; }
    // Why it failed, for the log and `ulvsadm health`.
    const std::string& reason() const { return m_reason; }

protected:
    probe_status fail(std::string why) {
        m_reason = std::move(why);
        return probe_status::failed;
    }
    std::string m_reason;
};

// Start a probe of `t`. Never null: a probe that cannot even start is returned already failed
// (its on_ready/poll_child report it at once; fd() is -1).
// `run`: whom a misc check runs as (config `scripts`).
std::unique_ptr<probe> start_probe(const config::health_check_cfg& c, const probe_target& t,
                                   const proc::spawn_options& run = {});

// An HTTP/1.0 response: status code and body, or nullopt when it is not one.
struct http_response {
    int status = 0;
    std::string body;
};
std::optional<http_response> parse_http_response(const std::string& raw);
// Lowercase hex md5 of `data`.
std::string md5_hex(const std::string& data);
// keepalived's HTTP_GET success test of one url: status in the list (empty: 2xx) and digest when
// set.
bool http_passes(const config::url_cfg& u, const http_response& r, std::string& why);

} // namespace ulvs::ctl::health
