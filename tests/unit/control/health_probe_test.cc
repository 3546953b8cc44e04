// HTTP verdicts of the http checker (control/health/probe.h) and a tcp/http probe against a
// loopback listener, driven to completion without blocking.
#include "ulvs/control/health/probe.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ulvs::ctl::health {
namespace {

TEST(http_response, parses_status_and_body) {
    auto r = parse_http_response("HTTP/1.0 503 Busy\r\nA: b\r\n\r\nhello");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->body, "hello");
    EXPECT_FALSE(parse_http_response("SSH-2.0-OpenSSH\r\n"));
    EXPECT_FALSE(parse_http_response("HTTP/1.0 200 OK\r\n")); // headers never ended
}

TEST(http_passes, status_list_default_2xx_and_digest) {
    config::url_cfg c;
    std::string why;
    EXPECT_TRUE(http_passes(c, {204, ""}, why));
    EXPECT_FALSE(http_passes(c, {500, ""}, why));
    EXPECT_EQ(why, "HTTP status 500");
    c.status = {500};
    EXPECT_TRUE(http_passes(c, {500, ""}, why));
    c.status.clear();
    EXPECT_EQ(md5_hex("rs1\n"), "7a6c0d2ef5a9e6e1776090916c66ba3a");
    c.digest = md5_hex("rs1\n");
    EXPECT_TRUE(http_passes(c, {200, "rs1\n"}, why));
    EXPECT_FALSE(http_passes(c, {200, "rs2\n"}, why));
    EXPECT_EQ(why.substr(0, 11), "body digest");
}

// A listener on 127.0.0.1 with an ephemeral port.
struct listener {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0); // accept never blocks a test
    uint16_t port = 0;
    listener() {
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        listen(fd, 4);
        socklen_t len = sizeof sa;
        getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
        port = ntohs(sa.sin_port);
    }
    ~listener() { close(fd); }
};

probe_status drive(probe& p, const std::function<void()>& between = {}) {
    for (int i = 0; i < 200; ++i) {
        pollfd pf{p.fd(), static_cast<short>(p.events()), 0};
        if (poll(&pf, 1, 10) > 0) {
            const auto st = p.on_ready();
            if (st != probe_status::running)
                return st;
        }
        if (between)
            between();
    }
    return probe_status::running;
}

TEST(probe, tcp_connect_and_refused) {
    listener l;
    config::health_check_cfg c;
    const ip_addr lo = ip_addr::from_v4(INADDR_LOOPBACK);
    auto p = start_probe(c, {lo, l.port});
    EXPECT_EQ(drive(*p), probe_status::ok);
    const uint16_t closed = l.port;
    close(l.fd);
    l.fd = -1;
    auto q = start_probe(c, {lo, closed});
    EXPECT_EQ(q->fd() < 0 ? q->poll_child() : drive(*q), probe_status::failed);
    EXPECT_NE(q->reason().find("refused"), std::string::npos) << q->reason();
}

TEST(probe, http_get_reads_the_status) {
    listener l;
    config::health_check_cfg c;
    c.type = config::check_type::http;
    c.path = "/health";
    c.virtualhost = "www.example";
    auto p = start_probe(c, {ip_addr::from_v4(INADDR_LOOPBACK), l.port});
    int conn = -1;
    std::string req;
    auto server = [&] {
        if (conn == -2)
            return; // answered
        if (conn < 0)
            conn = accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK);
        char buf[512];
        ssize_t n;
        while (conn >= 0 && (n = read(conn, buf, sizeof buf)) > 0)
            req.append(buf, static_cast<size_t>(n));
        if (req.find("\r\n\r\n") != std::string::npos && conn >= 0) {
            const std::string resp = "HTTP/1.0 500 Oops\r\n\r\nno";
            [[maybe_unused]] auto w = write(conn, resp.data(), resp.size());
            close(conn);
            conn = -2; // answered
        }
    };
    EXPECT_EQ(drive(*p, server), probe_status::failed);
    EXPECT_EQ(p->reason(), "HTTP status 500");
    EXPECT_EQ(req.substr(0, 20), "GET /health HTTP/1.0");
    EXPECT_NE(req.find("Host: www.example\r\n"), std::string::npos);
}

// misc checks: health_misc_test.cc.

} // namespace
} // namespace ulvs::ctl::health

namespace ulvs::ctl::health {
namespace {

// keepalived's UDP_CHECK on loopback: a reply passes, port unreachable fails, silence passes
// only without require_reply (the checker asks on_deadline() at connect_timeout).
TEST(probe, udp_reply_unreachable_and_silence) {
    const ip_addr lo = ip_addr::from_v4(INADDR_LOOPBACK);
    const int srv = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    socklen_t len = sizeof sa;
    getsockname(srv, reinterpret_cast<sockaddr*>(&sa), &len);
    const uint16_t port = ntohs(sa.sin_port);
    config::health_check_cfg c;
    c.type = config::check_type::udp;
    c.payload = std::string("\x0a\x00\x1b", 3);
    c.require_reply = true;
    std::string got;
    auto echo = [&] {
        char buf[64];
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        const ssize_t n =
            recvfrom(srv, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n > 0) {
            got.assign(buf, static_cast<size_t>(n));
            sendto(srv, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), fl);
        }
    };
    auto p = start_probe(c, {lo, port});
    EXPECT_EQ(drive(*p, echo), probe_status::ok);
    EXPECT_EQ(got, c.payload);
    // Silence: still running, then the deadline decides.
    auto quiet = start_probe(c, {lo, port});
    pollfd pf{quiet->fd(), POLLIN, 0};
    EXPECT_EQ(poll(&pf, 1, 20), 0);
    EXPECT_EQ(quiet->on_deadline(), probe_status::failed);
    EXPECT_EQ(quiet->reason(), "no reply");
    c.require_reply = false;
    auto quiet2 = start_probe(c, {lo, port});
    EXPECT_EQ(quiet2->on_deadline(), probe_status::ok);
    // Nobody on the port: the kernel's ICMP port unreachable fails it, with or without reply.
    close(srv);
    auto gone = start_probe(c, {lo, port});
    EXPECT_EQ(drive(*gone), probe_status::failed);
    EXPECT_EQ(gone->reason(), "port unreachable");
}

} // namespace
} // namespace ulvs::ctl::health

namespace ulvs::ctl::health {
namespace {

// The https checker against `openssl s_server -www` on loopback (a throwaway EC certificate,
// made here): the TLS handshake and the GET run non-blocking, and the status list decides.
TEST(probe, https_get_against_openssl_s_server) {
    char dir[] = "/tmp/ulvs-tls-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    const std::string d = dir, crt = d + "/c.pem", key = d + "/k.pem";
    ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                           "-nodes -subj /CN=rs1 -days 1 -keyout " +
                           key + " -out " + crt + " 2>/dev/null")
                              .c_str()),
              0);
    uint16_t port;
    {
        listener free_port; // a port nobody uses, for s_server
        port = free_port.port;
    }
    const std::string accept = "127.0.0.1:" + std::to_string(port);
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execlp("openssl", "openssl", "s_server", "-www", "-quiet", "-accept", accept.c_str(),
               "-cert", crt.c_str(), "-key", key.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    ASSERT_GT(pid, 0);
    config::health_check_cfg c;
    c.type = config::check_type::https;
    c.path = "/";
    c.virtualhost = "rs1";
    auto run = [&] {
        auto p = start_probe(c, {ip_addr::from_v4(INADDR_LOOPBACK), port});
        const auto st = drive(*p);
        return std::pair{st, p->reason()};
    };
    auto [st, why] = run();
    for (int i = 0; i < 100 && st == probe_status::failed && why.find("refused") != why.npos;
         ++i) { // s_server still starting
        usleep(20000);
        std::tie(st, why) = run();
    }
    EXPECT_EQ(st, probe_status::ok) << why;
    c.status = {500};
    std::tie(st, why) = run();
    EXPECT_EQ(st, probe_status::failed);
    EXPECT_EQ(why, "HTTP status 200");
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    std::system(("rm -rf " + d).c_str());
}

} // namespace
} // namespace ulvs::ctl::health
