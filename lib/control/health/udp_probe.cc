// The udp probe, as keepalived's UDP_CHECK (check_udp.c, layer4.c udp_socket_state): send
// `payload` on a connected UDP socket, then
// - a reply (any bytes) within connect_timeout passes;
// - an ICMP port unreachable fails: on a connected socket Linux reports it as ECONNREFUSED from
//   recv (the socket is readable with EPOLLERR);
// - silence until connect_timeout fails with require_reply and passes without it.
// keepalived sends a pattern buffer when no payload is given; we send an empty datagram, which
// a port-unreachable test needs just as well.
#include "stream.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ulvs::ctl::health {

namespace {

class udp_probe final : public probe {
public:
    udp_probe(int fd, bool require_reply) : m_fd(fd), m_require_reply(require_reply) {}
    ~udp_probe() override { abort(); }
    int fd() const override { return m_fd; }
    uint32_t events() const override { return EPOLLIN; }
    probe_status on_ready() override {
        char buf[512]; // the content is not compared (keepalived's reply matching is not built)
        const ssize_t n = recv(m_fd, buf, sizeof buf, MSG_TRUNC);
        if (n >= 0)
            return probe_status::ok;
        if (errno == EAGAIN || errno == EINTR)
            return probe_status::running;
        return fail(errno == ECONNREFUSED ? "port unreachable"
                                          : std::string("recv: ") + std::strerror(errno));
    }
    probe_status on_deadline() override {
        return m_require_reply ? fail("no reply") : probe_status::ok;
    }
    void abort() override {
        if (m_fd >= 0)
            close(m_fd);
        m_fd = -1;
    }

private:
    int m_fd;
    bool m_require_reply;
};

} // namespace

std::unique_ptr<probe> start_udp_probe(const config::health_check_cfg& c, const probe_target& t) {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return make_failed_probe(std::string("socket: ") + std::strerror(errno));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(t.port);
    sa.sin_addr.s_addr = htonl(t.address.v4);
    if (std::string why; !bind_source(fd, t.source, why)) {
        close(fd);
        return make_failed_probe(why);
    }
    // connect() on UDP only sets the peer (no packet, no wait); send() of one small datagram on
    // a fresh socket does not block either.
    if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0 ||
        send(fd, c.payload.data(), c.payload.size(), MSG_NOSIGNAL) < 0) {
        const int err = errno;
        close(fd);
        return make_failed_probe(std::string("send: ") + std::strerror(err));
    }
    return std::make_unique<udp_probe>(fd, c.require_reply);
}

} // namespace ulvs::ctl::health
