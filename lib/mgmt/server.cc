#include "ulvs/mgmt/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

namespace ulvs::mgmt {

namespace {

constexpr size_t read_chunk = 65536;
constexpr size_t write_chunk = 262144;
constexpr unsigned accepts_per_pass = 16;

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

std::expected<int, std::string> listen_unix(const std::string& path) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof sa.sun_path)
        return std::unexpected("management socket path \"" + path + "\" is empty or too long");
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    std::error_code ec;
    if (auto dir = std::filesystem::path(path).parent_path(); !dir.empty())
        std::filesystem::create_directories(dir, ec);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return std::unexpected(errno_text("socket"));
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            ::close(fd);
            return std::unexpected(path + " exists and is not a socket");
        }
        // A socket file: stale (refused) or another daemon's (accepted)?
        int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool live =
            probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
        if (probe >= 0)
            ::close(probe);
        if (live) {
            ::close(fd);
            return std::unexpected("another process already serves " + path);
        }
        ::unlink(path.c_str());
    }
    // Created 0600 from the start: no window in which others could connect.
    mode_t old = ::umask(0177);
    int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::umask(old);
    if (rc != 0 || ::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 64) != 0) {
        std::string e = errno_text("bind/listen " + path);
        ::close(fd);
        return std::unexpected(e);
    }
    return fd;
}

std::expected<int, std::string> listen_tcp(const std::string& addr) {
    auto colon = addr.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    unsigned port = 0;
    const std::string host = colon == std::string::npos ? "" : addr.substr(0, colon);
    const char* ps = colon == std::string::npos ? "" : addr.c_str() + colon + 1;
    auto [p, ec] = std::from_chars(ps, addr.c_str() + addr.size(), port);
    if (colon == std::string::npos || ec != std::errc() || *p != '\0' || port > 65535 ||
        inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1)
        return std::unexpected("management.metrics \"" + addr + "\" is not IP:PORT");
    sa.sin_port = htons(static_cast<uint16_t>(port));
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return std::unexpected(errno_text("socket"));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 64) != 0) {
        std::string e = errno_text("metrics listen on " + addr);
        ::close(fd);
        return std::unexpected(e);
    }
    return fd;
}

std::string http_response(int code, const char* reason, const std::string& type,
                          const std::string& body) {
    return "HTTP/1.0 " + std::to_string(code) + " " + reason + "\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           body;
}

} // namespace

server::server(server_limits limits, request_fn on_request, metrics_fn on_metrics)
    : m_limits(limits), m_on_request(std::move(on_request)), m_on_metrics(std::move(on_metrics)) {}

std::expected<std::unique_ptr<server>, std::string>
server::open(const std::string& socket_path, const std::string& metrics_addr, request_fn on_request,
             metrics_fn on_metrics, server_limits limits) {
    std::unique_ptr<server> s(new server(limits, std::move(on_request), std::move(on_metrics)));
    auto u = listen_unix(socket_path);
    if (!u)
        return std::unexpected(u.error());
    s->m_unix_fd = *u;
    s->m_path = socket_path;
    if (!metrics_addr.empty()) {
        auto h = listen_tcp(metrics_addr);
        if (!h)
            return std::unexpected(h.error());
        s->m_http_fd = *h;
    }
    return s;
}

server::~server() {
    for (client& c : m_clients)
        ::close(c.fd);
    if (m_unix_fd >= 0) {
        ::close(m_unix_fd);
        ::unlink(m_path.c_str());
    }
    if (m_http_fd >= 0)
        ::close(m_http_fd);
}

unsigned server::accept_from(int listen_fd, bool http, uint64_t now) {
    unsigned n = 0;
    for (; n < accepts_per_pass; ++n) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            break;
        if (m_clients.size() >= m_limits.max_clients) {
            ::close(fd); // full: the client sees EOF and may retry
            continue;
        }
        client c;
        c.fd = fd;
        c.http = http;
        c.last_ms = now;
        m_clients.push_back(std::move(c));
    }
    return n;
}

std::variant<std::string, deferred_reply> server::dispatch(std::string_view line, uint64_t now_ms) {
    auto req = parse_request(line);
    if (!req)
        return to_line(make_error(req.error()));
    try {
        handler_result r = m_on_request(*req, now_ms);
        if (auto* d = std::get_if<deferred_reply>(&r))
            return std::move(*d);
        return to_line(std::get<json>(r));
    } catch (const std::exception& e) {
        // A handler bug (e.g. a JSON type error on an unexpected field) answers this request
        // only; the daemon and other clients go on.
        return to_line(make_error({errc::internal, std::string("internal error: ") + e.what()}));
    }
}

void server::answer(client& c, std::string_view line, uint64_t now_ms) {
    auto r = dispatch(line, now_ms);
    if (auto* s = std::get_if<std::string>(&r))
        c.out += *s;
    else
        c.pending = std::move(std::get<deferred_reply>(r));
}

void server::read_some(client& c, uint64_t now) {
    char buf[read_chunk];
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        c.last_ms = now;
    } else if (n == 0) {
        c.eof = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        c.eof = true;
        c.close_after = true;
    }
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

void server::serve_http(client& c, uint64_t now) {
    size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos)
        end = c.in.find("\n\n");
    if (end == std::string::npos) {
        if (c.in.size() > m_limits.max_http_request) {
            c.out = http_response(431, "Request Header Fields Too Large", "text/plain", "");
            c.close_after = true;
        } else if (c.eof) {
            c.close_after = true;
        }
        return;
    }
    const std::string_view req(c.in.data(), end);
    const auto line_end = req.find_first_of("\r\n");
    const std::string_view first = req.substr(0, line_end);
    if (first.starts_with("GET /metrics ") || first == "GET /metrics")
        c.out = http_response(200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                              m_on_metrics ? m_on_metrics(now) : std::string{});
    else if (first.starts_with("GET "))
        c.out = http_response(404, "Not Found", "text/plain", "try /metrics\n");
    else
        c.out = http_response(400, "Bad Request", "text/plain", "");
    c.in.clear();
    c.close_after = true;
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

bool server::service(client& c, short revents, uint64_t now) {
    // Read only when no complete request is waiting: pipelined requests then stay in the
    // kernel's buffer (back-pressure), and `in` holds at most one partial line plus one read.
    const bool backlog = c.pending || (!c.http && c.in.find('\n') != std::string::npos);
    if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c.eof && !c.close_after && !backlog)
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
    if (c.pending)
        return true; // the producer bounds its own time (e.g. manager's listing deadline)
    // Idle, or stuck with unread output: either way it has held a slot long enough.
    return now - c.last_ms < m_limits.idle_ms;
}

unsigned server::poll(uint64_t now_ms) {
    std::vector<pollfd> fds;
    fds.reserve(m_clients.size() + 2);
    fds.push_back({m_unix_fd, POLLIN, 0});
    fds.push_back({m_http_fd, POLLIN, 0}); // -1 is ignored by poll()
    for (const client& c : m_clients)
        fds.push_back(
            {c.fd, static_cast<short>((c.eof ? 0 : POLLIN) | (c.out.empty() ? 0 : POLLOUT)), 0});
    if (::poll(fds.data(), fds.size(), 0) < 0)
        return 0;
    unsigned work = 0;
    // Clients first (indices stay valid), then new connections.
    std::vector<client> keep;
    keep.reserve(m_clients.size());
    for (size_t i = 0; i < m_clients.size(); ++i) {
        client& c = m_clients[i];
        const short rev = fds[i + 2].revents;
        const bool pending = !c.in.empty() || !c.out.empty() || c.eof;
        if (rev != 0 || pending)
            ++work;
        if (service(c, rev, now_ms))
            keep.push_back(std::move(c));
        else
            ::close(c.fd);
    }
    m_clients = std::move(keep);
    if (fds[0].revents & POLLIN)
        work += accept_from(m_unix_fd, false, now_ms);
    if (m_http_fd >= 0 && (fds[1].revents & POLLIN))
        work += accept_from(m_http_fd, true, now_ms);
    return work;
}

} // namespace ulvs::mgmt
