#include "client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

namespace ulvs::adm {

namespace {

constexpr int timeout_ms = 30000;

transport_error from_errno() {
    return {std::strerror(errno)};
}

} // namespace

std::expected<client, transport_error> client::connect(const std::string& path) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path)
        return std::unexpected(transport_error{"socket path too long"});
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return std::unexpected(from_errno());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        auto e = from_errno();
        ::close(fd);
        return std::unexpected(e);
    }
    return client(fd);
}

client::~client() {
    if (m_fd >= 0)
        ::close(m_fd);
}

std::expected<mgmt::json, transport_error> client::call(mgmt::json request) {
    request["v"] = mgmt::protocol_version;
    const std::string line = mgmt::to_line(request);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    auto wait = [&](short events) -> bool {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        pollfd p{m_fd, events, 0};
        return left > 0 && ::poll(&p, 1, static_cast<int>(left)) > 0;
    };
    std::optional<transport_error> send_failed;
    for (size_t off = 0; off < line.size();) {
        if (!wait(POLLOUT))
            return std::unexpected(transport_error{"timed out sending the request"});
        ssize_t n = ::send(m_fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            // ulvsd may have answered and closed before reading a byte (a refused peer gets
            // "permission denied" at once): that reply is still there to read.
            send_failed = from_errno();
            break;
        }
        if (n > 0)
            off += static_cast<size_t>(n);
    }
    for (;;) {
        if (auto nl = m_buf.find('\n'); nl != std::string::npos) {
            std::string reply = m_buf.substr(0, nl);
            m_buf.erase(0, nl + 1);
            auto r = mgmt::parse_reply(reply);
            if (r)
                return *r;
            return mgmt::make_error(r.error()); // the caller reads "ok": false
        }
        if (!wait(POLLIN))
            return std::unexpected(transport_error{"timed out waiting for the reply"});
        char buf[65536];
        ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        if (n == 0)
            return std::unexpected(
                send_failed.value_or(transport_error{"connection closed by ulvsd"}));
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            return std::unexpected(send_failed.value_or(from_errno()));
        if (n > 0)
            m_buf.append(buf, static_cast<size_t>(n));
    }
}

} // namespace ulvs::adm
