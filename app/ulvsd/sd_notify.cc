#include "sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace ulvs::app {

sd_notifier sd_notifier::from_env() {
    const char* s = std::getenv("NOTIFY_SOCKET");
    std::string address = s != nullptr ? s : "";
    ::unsetenv("NOTIFY_SOCKET"); // our children are not the service's main process
    return sd_notifier(std::move(address));
}

sd_notifier::sd_notifier(std::string address) : m_address(std::move(address)) {
    // Paths and abstract names only (systemd also accepts vsock addresses, which a local daemon
    // does not need); one that does not fit sockaddr_un leaves the notifier disabled.
    if (m_address.empty() || (m_address[0] != '/' && m_address[0] != '@') ||
        m_address.size() > sizeof(sockaddr_un::sun_path))
        return;
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

sd_notifier::sd_notifier(sd_notifier&& o) noexcept
    : m_address(std::move(o.m_address)), m_fd(o.m_fd), m_dropped(o.m_dropped) {
    o.m_fd = -1;
}

sd_notifier::~sd_notifier() {
    if (m_fd >= 0)
        ::close(m_fd);
}

bool sd_notifier::send(std::string_view state) {
    if (m_fd < 0)
        return false;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, m_address.data(), m_address.size());
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0'; // abstract namespace: the length below bounds the name
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + m_address.size());
    // MSG_DONTWAIT on top of the non-blocking socket: a full receive queue at the manager costs
    // this state line, never a wait on the control lcore.
    const ssize_t n = ::sendto(m_fd, state.data(), state.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                               reinterpret_cast<const sockaddr*>(&sa), len);
    if (n != static_cast<ssize_t>(state.size())) {
        ++m_dropped;
        return false;
    }
    return true;
}

std::string sd_notifier::monotonic_usec() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const uint64_t us = uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
    return "MONOTONIC_USEC=" + std::to_string(us);
}

} // namespace ulvs::app
