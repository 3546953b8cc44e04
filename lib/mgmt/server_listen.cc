// The management server's listening sockets (server.h): the unix socket with its owner, group and
// mode, and the metrics TCP endpoint.
#include "server_listen.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ulvs::mgmt::detail {

namespace {

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

} // namespace

std::expected<int, std::string> listen_unix(const std::string& path, std::optional<gid_t> group) {
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
    // Created 0600 from the start: no window in which others could connect. The group is set
    // before the mode opens to it.
    mode_t old = ::umask(0177);
    int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::umask(old);
    if (rc == 0 && group)
        rc = ::chown(path.c_str(), static_cast<uid_t>(-1), *group);
    if (rc != 0 || ::chmod(path.c_str(), group ? 0660 : 0600) != 0 || ::listen(fd, 64) != 0) {
        std::string e = errno_text("bind/listen " + path);
        ::close(fd);
        return std::unexpected(e);
    }
    return fd;
}

std::expected<int, std::string> listen_tcp(const std::string& addr) {
    // "host:port" as the config accepts it: an IPv4 address (0.0.0.0: every local one), a name
    // of this host (resolved once, here, at start), or "[v6]:port".
    const auto colon = addr.rfind(':');
    if (colon == std::string::npos || colon == 0)
        return std::unexpected("management.metrics \"" + addr + "\" is not HOST:PORT");
    std::string host = addr.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), addr.c_str() + colon + 1, &hints, &res);
        rc != 0 || res == nullptr)
        return std::unexpected("management.metrics \"" + addr + "\": " + ::gai_strerror(rc));
    int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ::freeaddrinfo(res);
        return std::unexpected(errno_text("socket"));
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const int rc = ::bind(fd, res->ai_addr, res->ai_addrlen);
    ::freeaddrinfo(res);
    if (rc != 0 || ::listen(fd, 128) != 0) {
        std::string e = errno_text("metrics listen on " + addr);
        ::close(fd);
        return std::unexpected(e);
    }
    return fd;
}

bool peer_allowed(int fd, std::optional<gid_t> group, uid_t& uid) {
    ucred cr{};
    socklen_t len = sizeof cr;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
        return false; // unknown peer: refused
    uid = cr.uid;
    if (cr.uid == 0)
        return true;
    if (!group)
        return false;
    if (cr.gid == *group)
        return true;
    // Supplementary groups as the peer had them at connect() (Linux 4.13+).
    gid_t groups[256];
    len = sizeof groups;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0)
        return false;
    for (size_t i = 0; i < len / sizeof(gid_t); ++i)
        if (groups[i] == *group)
            return true;
    return false;
}

} // namespace ulvs::mgmt::detail
