// tcp, http, https and misc probes (probe.h); udp in udp_probe.cc, TLS in tls_stream.cc.
#include "ulvs/control/health/probe.h"

#include "stream.h"

#include <openssl/evp.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ulvs::ctl::health {

namespace {

// A body larger than this is not a health page: fail rather than buffer without bound.
constexpr size_t max_response = 1 << 20;

class failed_probe final : public probe {
public:
    explicit failed_probe(std::string why) { m_reason = std::move(why); }
    int fd() const override { return -1; }
    uint32_t events() const override { return 0; }
    probe_status on_ready() override { return probe_status::failed; }
    probe_status poll_child() override { return probe_status::failed; }
};

// Connect; for tcp that is the whole check, for http and https the request follows over a
// stream (stream.h): the TLS handshake first for https, then the GET, then the response to EOF.
class socket_probe final : public probe {
public:
    socket_probe(const config::health_check_cfg& c, const probe_target& t, int fd)
        : m_cfg(c), m_target(t), m_fd(fd) {}
    ~socket_probe() override { abort(); }
    int fd() const override { return m_fd; }
    uint32_t events() const override { return m_io ? m_want : EPOLLOUT; }

    probe_status on_ready() override {
        if (!m_io) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(m_fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0)
                return fail(std::string("connect: ") + std::strerror(err));
            if (m_cfg.type == config::check_type::tcp)
                return done(probe_status::ok);
            std::string why;
            m_io = m_cfg.type == config::check_type::https ? make_tls_stream(m_fd, host_name(), why)
                                                           : make_plain_stream(m_fd);
            if (!m_io)
                return fail(why);
            m_handshaken = m_cfg.type != config::check_type::https;
            m_out = request();
        }
        // Until the socket (or OpenSSL) says wait: OpenSSL may hold decrypted bytes that no
        // epoll event will announce, so a pass never stops while progress is possible.
        for (;;) {
            io_result r;
            if (!m_handshaken) {
                r = m_io->handshake();
                m_handshaken = r.state == io_state::ok;
            } else if (m_off < m_out.size()) {
                r = m_io->write(m_out.data() + m_off, m_out.size() - m_off);
                m_off += r.n;
            } else {
                char buf[4096];
                r = m_io->read(buf, sizeof buf);
                m_in.append(buf, r.n);
                if (m_in.size() > max_response)
                    return fail("response too large");
            }
            switch (r.state) {
            case io_state::ok:
                continue;
            case io_state::want_read:
                m_want = EPOLLIN;
                return probe_status::running;
            case io_state::want_write:
                m_want = EPOLLOUT;
                return probe_status::running;
            case io_state::error:
                return fail(r.error);
            case io_state::eof:
                if (!m_handshaken || m_off < m_out.size())
                    return fail("connection closed early");
                return verdict();
            }
        }
    }

    void abort() override {
        m_io.reset(); // before the fd it uses
        if (m_fd >= 0)
            close(m_fd);
        m_fd = -1;
    }

private:
    probe_status done(probe_status s) {
        abort();
        return s;
    }
    // EOF: HTTP/1.0 with Connection: close ends the body here.
    probe_status verdict() {
        auto r = parse_http_response(m_in);
        if (!r)
            return fail("not an HTTP response");
        std::string why;
        const auto urls = m_cfg.url_list();
        const config::url_cfg& u = urls[std::min(m_target.url, urls.size() - 1)];
        if (!http_passes(u, *r, why))
            return fail(urls.size() > 1 ? u.path + ": " + why : why);
        return done(probe_status::ok);
    }
    // The Host header's name, and the TLS server name (SNI): virtualhost, else the address.
    std::string host_name() const {
        return m_cfg.virtualhost.empty() ? m_target.address.to_string() : m_cfg.virtualhost;
    }
    std::string request() const {
        std::string host = m_cfg.virtualhost;
        if (host.empty())
            host = m_target.address.to_string() + ":" + std::to_string(m_target.port);
        // As keepalived's HTTP_GET: HTTP/1.0, the connection closes after the response.
        const auto urls = m_cfg.url_list();
        const std::string& path = urls[std::min(m_target.url, urls.size() - 1)].path;
        return "GET " + path + " HTTP/1.0\r\nUser-Agent: ulvs-health\r\nHost: " + host +
               "\r\nConnection: close\r\n\r\n";
    }

    config::health_check_cfg m_cfg;
    probe_target m_target;
    int m_fd;
    std::unique_ptr<stream> m_io; // set once connected (http, https)
    bool m_handshaken = false;
    uint32_t m_want = EPOLLOUT;
    std::string m_out, m_in;
    size_t m_off = 0;
};

// A child process (proc/children.h) whose exit code is the verdict, as keepalived's MISC_CHECK
// (keepalived.conf(5), MISC_CHECK misc_dynamic; check_misc.c): exit 0 is up (weight unchanged);
// without `dynamic` any other exit is down; with `dynamic`, 1 is down and 2..255 up with weight
// code - 2. Killed by a signal: down.
class misc_probe final : public probe {
public:
    misc_probe(const config::health_check_cfg& c, proc::child_id id)
        : m_dynamic(c.dynamic), m_id(id) {}
    ~misc_probe() override { abort(); }
    int fd() const override { return -1; }
    uint32_t events() const override { return 0; }
    probe_status on_ready() override { return poll_child(); }
    probe_status poll_child() override {
        if (m_id == 0)
            return m_status;
        const auto end = proc::children().status(m_id);
        if (!end)
            return probe_status::running;
        proc::children().release(m_id);
        m_id = 0;
        return m_status = verdict(*end);
    }
    // Past its timeout, or the server left the configuration: SIGTERM to its group now, SIGKILL
    // 2 s later if needed, reaped whenever it dies. Never waits.
    void abort() override {
        if (m_id != 0)
            proc::children().terminate(m_id);
        m_id = 0;
    }
    std::optional<uint32_t> weight() const override { return m_weight; }

private:
    probe_status verdict(const proc::exit_status& end) {
        if (!end.exited)
            return fail(end.signal != 0 ? "script killed by signal " + std::to_string(end.signal)
                                        : "script did not exit normally");
        const int code = end.code;
        if (code == 0) {
            m_weight.reset(); // weight unchanged: the configured one
            return probe_status::ok;
        }
        if (m_dynamic && code >= 2) {
            m_weight = static_cast<uint32_t>(code - 2);
            return probe_status::ok;
        }
        return fail("script exited " + std::to_string(code));
    }

    bool m_dynamic;
    proc::child_id m_id;
    probe_status m_status = probe_status::failed;
    std::optional<uint32_t> m_weight;
};

} // namespace

bool bind_source(int fd, ip_addr source, std::string& why) {
    if (source.v4 == 0)
        return true;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(source.v4);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0)
        return true;
    why = "bind " + source.to_string() + ": " + std::strerror(errno);
    return false;
}

std::unique_ptr<probe> make_failed_probe(std::string why) {
    return std::make_unique<failed_probe>(std::move(why));
}

std::unique_ptr<probe> start_probe(const config::health_check_cfg& c, const probe_target& t,
                                   const proc::spawn_options& run) {
    if (c.type == config::check_type::udp)
        return start_udp_probe(c, t);
    if (c.type == config::check_type::misc) {
        auto id = proc::children().start(c.path, run);
        if (!id)
            return std::make_unique<failed_probe>(id.error());
        return std::make_unique<misc_probe>(c, *id);
    }
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return std::make_unique<failed_probe>(std::string("socket: ") + std::strerror(errno));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(t.port);
    sa.sin_addr.s_addr = htonl(t.address.v4);
    if (std::string why; !bind_source(fd, t.source, why)) {
        close(fd);
        return std::make_unique<failed_probe>(why);
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) < 0 &&
        errno != EINPROGRESS) {
        const int err = errno;
        close(fd);
        return std::make_unique<failed_probe>(std::string("connect: ") + std::strerror(err));
    }
    return std::make_unique<socket_probe>(c, t, fd);
}

std::optional<http_response> parse_http_response(const std::string& raw) {
    // "HTTP/1.x SSS reason\r\n" ... "\r\n\r\n" body
    if (raw.compare(0, 5, "HTTP/") != 0)
        return std::nullopt;
    const size_t sp = raw.find(' ');
    if (sp == std::string::npos || sp + 4 > raw.size())
        return std::nullopt;
    int code = 0;
    for (size_t i = sp + 1; i < sp + 4; ++i) {
        if (raw[i] < '0' || raw[i] > '9')
            return std::nullopt;
        code = code * 10 + (raw[i] - '0');
    }
    const size_t head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos)
        return std::nullopt;
    return http_response{code, raw.substr(head_end + 4)};
}

std::string md5_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

bool http_passes(const config::url_cfg& c, const http_response& r, std::string& why) {
    const bool status_ok =
        c.status.empty() ? r.status >= 200 && r.status <= 299
                         : std::find(c.status.begin(), c.status.end(), r.status) != c.status.end();
    if (!status_ok) {
        why = "HTTP status " + std::to_string(r.status);
        return false;
    }
    if (!c.digest.empty()) {
        const std::string got = md5_hex(r.body);
        if (got != c.digest) {
            why = "body digest " + got;
            return false;
        }
    }
    return true;
}

} // namespace ulvs::ctl::health
