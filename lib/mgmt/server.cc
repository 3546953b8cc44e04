#include "ulvs/mgmt/server.h"

#include "server_listen.h"
#include "ulvs/mgmt/audit.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ulvs::mgmt {

namespace {

constexpr size_t read_chunk = 65536;
constexpr size_t write_chunk = 262144;
constexpr unsigned accepts_per_pass = 16;
constexpr uint64_t scan_period_ms = 100; // deadlines are checked this often
// epoll data of the listeners; clients are their slot + 2.
constexpr uint64_t tag_unix = 0, tag_http = 1, tag_first_client = 2;

} // namespace

server::server(server_limits limits, request_fn on_request, metrics_fn on_metrics)
    : m_limits(limits), m_on_request(std::move(on_request)), m_on_metrics(std::move(on_metrics)) {}

std::expected<std::unique_ptr<server>, std::string>
server::open(const std::string& socket_path, const std::string& metrics_addr, request_fn on_request,
             metrics_fn on_metrics, server_limits limits, server_access access) {
    std::unique_ptr<server> s(new server(limits, std::move(on_request), std::move(on_metrics)));
    s->m_access = access;
    s->m_ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (s->m_ep < 0)
        return std::unexpected(std::string("epoll_create1: ") + std::strerror(errno));
    auto u = detail::listen_unix(socket_path, access.group);
    if (!u)
        return std::unexpected(u.error());
    s->m_unix_fd = *u;
    s->m_path = socket_path;
    epoll_event ev{EPOLLIN, {.u64 = tag_unix}};
    ::epoll_ctl(s->m_ep, EPOLL_CTL_ADD, s->m_unix_fd, &ev);
    if (!metrics_addr.empty()) {
        auto h = detail::listen_tcp(metrics_addr);
        if (!h)
            return std::unexpected(h.error());
        s->m_http_fd = *h;
        ev = {EPOLLIN, {.u64 = tag_http}};
        ::epoll_ctl(s->m_ep, EPOLL_CTL_ADD, s->m_http_fd, &ev);
    }
    return s;
}

server::~server() {
    for (client& c : m_slots)
        if (c.fd >= 0)
            ::close(c.fd);
    if (m_unix_fd >= 0) {
        ::close(m_unix_fd);
        ::unlink(m_path.c_str());
    }
    if (m_http_fd >= 0)
        ::close(m_http_fd);
    if (m_ep >= 0)
        ::close(m_ep);
}

uint16_t server::metrics_port() const {
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    if (m_http_fd < 0 || ::getsockname(m_http_fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
        return 0;
    // sin_port and sin6_port sit at the same offset.
    return ntohs(reinterpret_cast<const sockaddr_in&>(sa).sin_port);
}

bool server::admit(client& c) {
    if (detail::peer_allowed(c.fd, m_access.group, c.uid))
        return true;
    if (m_refused_uids.insert(c.uid).second)
        spdlog::warn("management: uid {} may not use the socket (root{}): refused", c.uid,
                     m_access.group ? " or group " + std::to_string(*m_access.group) : "");
    c.out = to_line(make_error({errc::permission_denied, "permission denied"}));
    c.close_after = true;
    c.eof = true; // nothing of theirs is read
    return false;
}

unsigned server::accept_from(int listen_fd, bool http, uint64_t now) {
    unsigned n = 0;
    for (; n < accepts_per_pass; ++n) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            break;
        if ((http ? m_metrics : m_admin) >= (http ? m_limits.max_metrics : m_limits.max_admin)) {
            ::close(fd); // full: the client sees EOF and may retry
            continue;
        }
        uint32_t slot;
        if (!m_free.empty()) {
            slot = m_free.back();
            m_free.pop_back();
        } else {
            slot = static_cast<uint32_t>(m_slots.size());
            m_slots.emplace_back();
        }
        client& c = m_slots[slot];
        c = client{};
        c.fd = fd;
        c.http = http;
        c.last_ms = now;
        c.request_by = now + m_limits.request_ms;
        if (http)
            c.close_by = now + m_limits.request_ms + m_limits.idle_ms;
        ++(http ? m_metrics : m_admin);
        epoll_event ev{0, {.u64 = tag_first_client + slot}};
        ::epoll_ctl(m_ep, EPOLL_CTL_ADD, fd, &ev);
        if (!http && !admit(c)) {
            // One line into an empty socket buffer: it fits, and stays readable after close.
            if (write_some(c, now) && !c.out.empty()) {
                update_events(slot);
                continue;
            }
            drop(slot);
            continue;
        }
        update_events(slot);
    }
    return n;
}

namespace {

// Issue 16: who changed what, in ipvsadm's words, with the outcome.
void audit(uid_t uid, const std::vector<std::string>& what, const json& reply) {
    for (const std::string& w : what) {
        if (reply.value("ok", false))
            spdlog::info("audit: uid {}: {}", uid, w);
        else
            spdlog::info("audit: uid {}: {} (refused: {})", uid, w,
                         reply.value("error", json::object()).value("message", std::string()));
    }
}

} // namespace

std::variant<std::string, deferred_reply> server::dispatch(client& c, std::string_view line,
                                                           uint64_t now_ms) {
    auto req = parse_request(line);
    if (!req)
        return to_line(make_error(req.error()));
    json reply;
    try {
        handler_result r = m_on_request(*req, now_ms);
        if (auto* d = std::get_if<deferred_reply>(&r)) {
            c.pending_audit = audit_text(*req); // logged with the outcome (serve_lines)
            return std::move(*d);
        }
        reply = std::move(std::get<json>(r));
    } catch (const std::exception& e) {
        // A handler bug (e.g. a JSON type error on an unexpected field) answers this request
        // only; the daemon and other clients go on.
        reply = make_error({errc::internal, std::string("internal error: ") + e.what()});
    }
    audit(c.uid, audit_text(*req), reply);
    return to_line(reply);
}

void server::answer(client& c, std::string_view line, uint64_t now_ms) {
    auto r = dispatch(c, line, now_ms);
    if (auto* s = std::get_if<std::string>(&r))
        c.out += *s;
    else
        c.pending = std::move(std::get<deferred_reply>(r));
    c.request_by = 0; // the next one is due once this reply is out (see service())
}

void server::read_some(client& c, uint64_t now) {
    char buf[read_chunk];
    const size_t room =
        c.http ? m_limits.max_http_request + 1 - std::min(c.in.size(), m_limits.max_http_request)
               : sizeof buf;
    ssize_t n = ::recv(c.fd, buf, std::min(room, sizeof buf), 0);
    if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
        c.eof = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        c.eof = true;
        c.close_after = true;
    }
    (void)now;
}

void server::serve_lines(client& c, uint64_t now) {
    if (c.pending) {
        std::optional<json> r;
        try {
            r = c.pending(now);
        } catch (const std::exception& e) {
            r = make_error({errc::internal, std::string("internal error: ") + e.what()});
        }
        if (!r)
            return; // still being produced; later requests wait behind it
        audit(c.uid, c.pending_audit, *r);
        c.pending_audit.clear();
        c.out += to_line(*r);
        c.pending = nullptr;
        c.last_ms = now;
    }
    unsigned served = 0;
    size_t start = 0;
    while (served < m_limits.requests_per_pass && !c.close_after && !c.pending) {
        size_t nl = c.in.find('\n', start);
        if (nl == std::string::npos)
            break;
        std::string_view line(c.in.data() + start, nl - start);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (!line.empty()) {
            answer(c, line, now);
            ++served;
        }
        start = nl + 1;
    }
    c.in.erase(0, start);
    if (c.close_after)
        return;
    if (c.in.size() > max_line) {
        c.out += to_line(make_error(
            {errc::too_large,
             "request longer than " + std::to_string(max_line) + " bytes: closing the connection",
             {}}));
        c.in.clear();
        c.close_after = true;
        return;
    }
    if (c.eof && !c.pending && c.in.find('\n') == std::string::npos) {
        if (!c.in.empty())
            answer(c, c.in, now);
        c.in.clear();
        // With a deferred last reply, close once it is produced (see service()).
        c.close_after = !c.pending;
    }
}

bool server::write_some(client& c, uint64_t now) {
    size_t budget = write_chunk;
    while (c.out_off < c.out.size() && budget > 0) {
        size_t len = std::min(c.out.size() - c.out_off, budget);
        ssize_t n = ::send(c.fd, c.out.data() + c.out_off, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            return false;
        }
        c.out_off += static_cast<size_t>(n);
        budget -= static_cast<size_t>(n);
        c.last_ms = now;
    }
    if (c.out_off == c.out.size()) {
        c.out.clear();
        c.out_off = 0;
    } else if (c.out_off > write_chunk) {
        c.out.erase(0, c.out_off);
        c.out_off = 0;
    }
    return true;
}

bool server::has_work(const client& c) const {
    return c.fd >= 0 && !c.close_after &&
           (c.pending || (!c.http && c.in.find('\n') != std::string::npos));
}

bool server::alive(const client& c, uint64_t now) const {
    if (c.http && now >= c.close_by)
        return false;
    if (c.pending)
        return true; // the producer bounds its own time (e.g. the listing's worker deadline)
    if (!c.out.empty())
        return now - c.last_ms < m_limits.idle_ms; // not reading its replies
    return c.request_by == 0 || now < c.request_by;
}

bool server::service(client& c, uint32_t revents, uint64_t now) {
    // Read only when no complete request is waiting: pipelined requests then stay in the
    // kernel's buffer (back-pressure), and `in` holds at most one partial line plus one read.
    const bool backlog = c.pending || (!c.http && c.in.find('\n') != std::string::npos);
    if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c.eof && !c.close_after && !backlog)
        read_some(c, now);
    if (!c.close_after) {
        if (c.http)
            serve_http(c, now);
        else
            serve_lines(c, now);
    }
    if (c.out.size() - c.out_off > m_limits.max_out)
        return false; // not reading its replies
    if (!c.out.empty() && !write_some(c, now))
        return false;
    if (c.out.empty() && c.close_after)
        return false;
    if (c.out.empty() && c.eof && c.in.empty() && !c.pending)
        return false;
    // Every reply out and nothing queued: the next request is due within request_ms.
    if (c.request_by == 0 && c.out.empty() && !c.pending && c.in.find('\n') == std::string::npos)
        c.request_by = now + m_limits.request_ms;
    return alive(c, now);
}

void server::update_events(uint32_t slot) {
    client& c = m_slots[slot];
    const bool backlog = c.pending || (!c.http && c.in.find('\n') != std::string::npos);
    const uint32_t want = (c.eof || c.close_after || backlog ? 0u : uint32_t(EPOLLIN)) |
                          (c.out.empty() ? 0u : uint32_t(EPOLLOUT));
    if (want == c.events)
        return;
    epoll_event ev{want, {.u64 = tag_first_client + slot}};
    ::epoll_ctl(m_ep, EPOLL_CTL_MOD, c.fd, &ev);
    c.events = want;
}

void server::drop(uint32_t slot) {
    client& c = m_slots[slot];
    ::close(c.fd); // also leaves the epoll set
    --(c.http ? m_metrics : m_admin);
    c = client{};
    m_free.push_back(slot);
}

unsigned server::poll(uint64_t now_ms) {
    epoll_event evs[256];
    const int n =
        ::epoll_wait(m_ep, evs, static_cast<int>(std::min(m_limits.events_per_pass, 256u)), 0);
    unsigned work = 0;
    bool accept_unix = false, accept_http = false;
    // Clients with queued work, then those the kernel woke (each once per pass).
    std::vector<std::pair<uint32_t, uint32_t>> todo; // slot, revents
    todo.reserve(m_busy.size() + static_cast<size_t>(std::max(n, 0)));
    for (uint32_t slot : m_busy)
        todo.emplace_back(slot, 0u);
    m_busy.clear();
    for (int i = 0; i < n; ++i) {
        const uint64_t tag = evs[i].data.u64;
        const uint32_t events = evs[i].events; // epoll_event is packed: copy, never bind
        if (tag == tag_unix) {
            accept_unix = true;
        } else if (tag == tag_http) {
            accept_http = true;
        } else {
            const auto slot = static_cast<uint32_t>(tag - tag_first_client);
            if (m_slots[slot].queued)
                for (auto& t : todo)
                    if (t.first == slot)
                        t.second |= events;
            if (!m_slots[slot].queued)
                todo.emplace_back(slot, events);
        }
    }
    for (auto [slot, rev] : todo) {
        client& c = m_slots[slot];
        c.queued = false;
        if (c.fd < 0)
            continue;
        ++work;
        if (!service(c, rev, now_ms)) {
            drop(slot);
            continue;
        }
        update_events(slot);
        if (has_work(c)) {
            c.queued = true;
            m_busy.push_back(slot);
        }
    }
    if (accept_unix)
        work += accept_from(m_unix_fd, false, now_ms);
    if (accept_http)
        work += accept_from(m_http_fd, true, now_ms);
    // Deadlines of the clients nothing woke (silent or trickling ones).
    if (now_ms >= m_next_scan) {
        m_next_scan = now_ms + scan_period_ms;
        for (uint32_t slot = 0; slot < m_slots.size(); ++slot)
            if (m_slots[slot].fd >= 0 && !m_slots[slot].queued && !alive(m_slots[slot], now_ms))
                drop(slot);
    }
    return work;
}

} // namespace ulvs::mgmt
