// The management socket and the metrics endpoint, served from the control lcore's loop.
//
// Never blocks: every fd is non-blocking, one epoll set with a zero timeout says which clients
// have something to do, and one call does a bounded amount of work (a few accepts per listener,
// at most `events_per_pass` clients woken by the kernel plus those with queued work, one read and
// one write per client, a few requests per client), so a flood of clients cannot starve ARP or
// health checks, and a pass costs nothing per idle connection.
//
// Who may use it (issue 13):
//  - the unix socket is root's tool: its file is created 0600, or 0660 with the group
//    `management.group` when one is configured; every accepted peer's credentials (SO_PEERCRED,
//    SO_PEERGROUPS) are checked as well, so a socket file whose mode was loosened by hand still
//    serves only root and members of that group. Anyone else gets one error line
//    (`permission_denied`) and the connection is closed, without a byte of theirs being read;
//    such a uid is logged once.
//  - admin (unix socket) and metrics (HTTP) clients have separate limits: metrics connections,
//    however many, never take an admin slot. Beyond its limit a new connection is closed at once.
//
// Robustness limits (bad input never stalls the appliance: a bad management request gets an error
// reply and harms nothing else):
//  - a client must send a complete request within request_ms of connecting (admin clients: or of
//    its previous reply); bytes trickled in without completing a request do not extend that;
//  - while a reply is being written, a client that reads nothing for idle_ms is closed; a metrics
//    client gets at most request_ms + idle_ms from connecting to its last byte;
//  - a request line longer than max_line gets a too_large error and the connection is closed;
//  - a client whose unread replies exceed max_out is closed;
//  - a half-closed client (shutdown(SHUT_WR)) still gets its replies, then is closed; a last
//    request without '\n' before EOF is served too (`printf '{...}' | socat`).
// A stale socket file is replaced, a live one (another ulvsd answering) is an error.
// Metrics: GET /metrics only (HTTP/1.0 or 1.1), one request per connection; other paths 404, other
// methods 405, malformed requests 400, a request head over max_http_request 431.
// Every change made through the socket is logged at info level: `audit: uid U: <ipvsadm form>`.
//
// Thread safety: control lcore only.
#pragma once

#include "ulvs/mgmt/protocol.h"

#include <sys/types.h>

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace ulvs::mgmt {

struct server_limits {
    // Admin clients: ulvsadm runs, scripts; 64 as before (scripts run a few dozen at once).
    size_t max_admin = 64;
    // Metrics clients: a Prometheus server holds one or two; 256 leaves room for many scrapers
    // (and for 200 idle connections) without touching the admin pool.
    size_t max_metrics = 256;
    uint64_t request_ms = 5000;
    uint64_t idle_ms = 10000;
    size_t max_out = 16u << 20;
    size_t max_http_request = 4096;
    unsigned requests_per_pass = 16; // per client per poll() call
    unsigned events_per_pass = 64;   // clients woken by the kernel per poll() call
};

// Who may use the unix socket besides root (management.group).
struct server_access {
    std::optional<gid_t> group;
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

    // `metrics_addr` is "HOST:PORT" (any local address, 0.0.0.0 for all; a name of this host;
    // "[v6]:PORT") or "" (no endpoint).
    static std::expected<std::unique_ptr<server>, std::string>
    open(const std::string& socket_path, const std::string& metrics_addr, request_fn on_request,
         metrics_fn on_metrics, server_limits limits = {}, server_access access = {});
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // One bounded pass. Returns how much happened (0: idle).
    unsigned poll(uint64_t now_ms);

    // An fd that is readable when poll() has kernel events to serve (for a loop that sleeps).
    int event_fd() const { return m_ep; }

    // The metrics endpoint's port (as bound: "IP:0" picks one), 0 without an endpoint.
    uint16_t metrics_port() const;

    size_t clients() const { return m_admin + m_metrics; }
    size_t admin_clients() const { return m_admin; }
    size_t metrics_clients() const { return m_metrics; }

private:
    struct client {
        int fd = -1;
        bool http = false;
        bool queued = false; // in m_busy
        uint32_t events = 0; // the epoll interest set now
        uid_t uid = 0;
        std::string in;
        std::string out;
        size_t out_off = 0;
        uint64_t request_by = 0;  // a complete request is due by then (0: none expected now)
        uint64_t close_by = 0;    // metrics: the connection's end, whatever happens
        uint64_t last_ms = 0;     // last write progress
        bool eof = false;         // peer shut its write side
        bool close_after = false; // close once `out` is flushed
        deferred_reply pending;   // a reply still being produced
        std::vector<std::string> pending_audit; // its request's audit lines (audit.h)
    };

    // One request line -> its reply line, or a deferred reply.
    std::variant<std::string, deferred_reply> dispatch(client& c, std::string_view line,
                                                       uint64_t now_ms);
    // Queue a request's reply on `c` (deferred ones are polled by serve_lines).
    void answer(client& c, std::string_view line, uint64_t now_ms);

    server(server_limits limits, request_fn on_request, metrics_fn on_metrics);
    unsigned accept_from(int listen_fd, bool http, uint64_t now);
    bool admit(client& c);                                   // credentials of a unix-socket peer
    bool service(client& c, uint32_t revents, uint64_t now); // false: drop it
    bool alive(const client& c, uint64_t now) const;         // deadlines
    void read_some(client& c, uint64_t now);
    void serve_lines(client& c, uint64_t now);
    void serve_http(client& c, uint64_t now);
    bool write_some(client& c, uint64_t now);
    bool has_work(const client& c) const; // needs a pass without a kernel event
    void update_events(uint32_t slot);
    void drop(uint32_t slot);

    server_limits m_limits;
    server_access m_access;
    request_fn m_on_request;
    metrics_fn m_on_metrics;
    std::string m_path;
    int m_unix_fd = -1;
    int m_http_fd = -1;
    int m_ep = -1;
    std::vector<client> m_slots; // fd < 0: free
    std::vector<uint32_t> m_free;
    std::vector<uint32_t> m_busy; // slots with work queued (has_work)
    size_t m_admin = 0, m_metrics = 0;
    uint64_t m_next_scan = 0;
    std::set<uid_t> m_refused_uids; // logged once each
};

} // namespace ulvs::mgmt
