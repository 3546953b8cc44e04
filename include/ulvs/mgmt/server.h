// The management socket and the metrics endpoint, served from the control lcore's loop.
//
// Never blocks: every fd is non-blocking, poll() runs with a zero timeout, and one call does a
// bounded amount of work (accepts, one read and one write per client, a few requests per client)
// so a flood of clients cannot starve ARP or health checks. Robustness limits (bad input never
// stalls the appliance: a bad management request gets an error reply and harms nothing else):
//  - a request line longer than max_line gets a too_large error and the connection is closed;
//  - a client idle for idle_ms, or one that stops reading its replies for idle_ms, is closed;
//  - a client whose unread replies exceed max_out is closed;
//  - at most max_clients connections; beyond that new ones are closed at once;
//  - a half-closed client (shutdown(SHUT_WR)) still gets its replies, then is closed; a last
//    request without '\n' before EOF is served too (`printf '{...}' | socat`).
// The unix socket is created with mode 0600 (root's tool); a stale socket file is replaced, a live
// one (another ulvsd answering) is an error. Metrics: HTTP/1.0, GET /metrics only, one request
// per connection.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/mgmt/protocol.h"

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ulvs::mgmt {

struct server_limits {
    size_t max_clients = 64;
    uint64_t idle_ms = 10000;
    size_t max_out = 16u << 20;
    size_t max_http_request = 8192;
    unsigned requests_per_pass = 16; // per client per poll() call
};

// A reply that needs other cores' work (e.g. -c asks every worker for its connections): polled
// once per pass until it yields the reply. The client's later requests wait behind it, so
// replies stay in order; the loop never waits.
using deferred_reply = std::function<std::optional<json>(uint64_t now_ms)>;
using handler_result = std::variant<json, deferred_reply>;

class server {
public:
    using request_fn = std::function<handler_result(const json& request, uint64_t now_ms)>;
    using metrics_fn = std::function<std::string(uint64_t now_ms)>;

    // `metrics_addr` is "IP:PORT" or "" (no metrics endpoint).
    static std::expected<std::unique_ptr<server>, std::string>
    open(const std::string& socket_path, const std::string& metrics_addr, request_fn on_request,
         metrics_fn on_metrics, server_limits limits = {});
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // One bounded pass over every socket. Returns how much happened (0: idle).
    unsigned poll(uint64_t now_ms);

    size_t clients() const { return m_clients.size(); }

private:
    struct client {
        int fd = -1;
        bool http = false;
        std::string in;
        std::string out;
        size_t out_off = 0;
        uint64_t last_ms = 0;
        bool eof = false;         // peer shut its write side
        bool close_after = false; // close once `out` is flushed
        deferred_reply pending;   // a reply still being produced
    };

    // One request line -> its reply line, or a deferred reply.
    std::variant<std::string, deferred_reply> dispatch(std::string_view line, uint64_t now_ms);
    // Queue a request's reply on `c` (deferred ones are polled by serve_lines).
    void answer(client& c, std::string_view line, uint64_t now_ms);

    server(server_limits limits, request_fn on_request, metrics_fn on_metrics);
    unsigned accept_from(int listen_fd, bool http, uint64_t now);
    bool service(client& c, short revents, uint64_t now); // false: drop it
    void read_some(client& c, uint64_t now);
    void serve_lines(client& c, uint64_t now);
    void serve_http(client& c, uint64_t now);
    bool write_some(client& c, uint64_t now);

    server_limits m_limits;
    request_fn m_on_request;
    metrics_fn m_on_metrics;
    std::string m_path;
    int m_unix_fd = -1;
    int m_http_fd = -1;
    std::vector<client> m_clients;
};

} // namespace ulvs::mgmt
