// Issue 14's keepalived parity of the checker (control/health/checker.h), driven as the daemon
// drives it (checker.poll and proc::children().poll every pass) against real sockets and
// scripts: several checkers per real server (up only while every one is), several url blocks
// per HTTP check (every url must pass), connect_ip (`address`) and bindto (`source`), warmup,
// and the service's quorum_up / quorum_down scripts.
#include "ulvs/config/load.h"
#include "ulvs/control/health/checker.h"
#include "ulvs/control/proc/children.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace ulvs::ctl::health {
namespace {

uint64_t mono_us() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

// Poll the checker as the control loop does until `done` or `limit_ms`; true when done.
bool drive(checker& chk, const std::function<bool()>& done, uint64_t limit_ms = 3000) {
    const uint64_t t0 = mono_us();
    while (mono_us() - t0 < limit_ms * 1000) {
        chk.poll(mono_us());
        proc::children().poll();
        if (done())
            return true;
        usleep(1000);
    }
    return false;
}

config::config load(const std::string& yaml) {
    auto c = config::load_string(yaml, "t.yaml");
    EXPECT_TRUE(c) << (c ? "" : c.error().front().to_string());
    return c ? *c : config::config{};
}

// A scratch directory for flag files the scripts test and touch.
struct scratch {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() /
        ("kach_health_" + std::to_string(getpid()) + "_" + std::to_string(mono_us()));
    scratch() { std::filesystem::create_directories(dir); }
    ~scratch() { std::filesystem::remove_all(dir); }
    std::string path(const std::string& name) const { return (dir / name).string(); }
};

const ip_addr rs1 = *ip_addr::parse("198.51.100.20");

// Two misc checkers on one real server: down while either fails, up once both pass; `ulvsadm
// health` shows each one.
TEST(several_checkers, a_server_is_up_only_while_every_checker_is) {
    scratch s;
    const std::string flag = s.path("b_ok");
    const config::config c =
        load("ports: [{name: lan, device: d0, addresses: [198.51.100.1/24]}]\n"
             "virtual_servers:\n"
             "  - {name: web, address: 198.51.100.100, port: 80, protocol: tcp, forwarding: nat,\n"
             "     real_servers: [{address: 198.51.100.20, port: 80, health_checks: [\n"
             "       {type: misc, path: /bin/true, delay_loop: 50ms},\n"
             "       {type: misc, path: \"test -e " +
             flag + "\", delay_loop: 50ms}]}]}\n");
    checker chk;
    chk.sync(c, mono_us() / 1000);
    ASSERT_TRUE(drive(chk, [&] { return !chk.server_up("web", rs1, 80); }))
        << "the failing second checker did not take the server down";
    auto checks = chk.server_checks("web", rs1, 80);
    ASSERT_EQ(checks.size(), 2u);
    EXPECT_TRUE(checks[0].up);
    EXPECT_FALSE(checks[1].up);
    EXPECT_EQ(checks[1].last_error, "script exited 1");
    EXPECT_EQ(chk.effective(c).virtual_servers[0].real_servers.size(), 0u);
    const auto rep = chk.report(c);
    ASSERT_EQ(rep.size(), 1u);
    EXPECT_EQ(rep[0].checks.size(), 2u);
    EXPECT_FALSE(rep[0].up);
    std::FILE* f = std::fopen(flag.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
    ASSERT_TRUE(drive(chk, [&] { return chk.server_up("web", rs1, 80); }))
        << "both checkers pass but the server stayed down";
    EXPECT_EQ(chk.effective(c).virtual_servers[0].real_servers.size(), 1u);
}

// A real server's own health_checks replace the service's list, as one health_check does.
TEST(several_checkers, the_real_server_s_list_replaces_the_service_s) {
    const config::config c =
        load("ports: [{name: lan, device: d0, addresses: [198.51.100.1/24]}]\n"
             "virtual_servers:\n"
             "  - {name: web, address: 198.51.100.100, port: 80, protocol: tcp, forwarding: nat,\n"
             "     health_checks: [{type: misc, path: /bin/false, delay_loop: 1h},\n"
             "                     {type: misc, path: /bin/false, delay_loop: 1h}],\n"
             "     real_servers: [{address: 198.51.100.20, port: 80,\n"
             "                     health_check: {type: misc, path: /bin/true, delay_loop: 1h}},\n"
             "                    {address: 198.51.100.21, port: 80}]}\n");
    checker chk;
    chk.sync(c, mono_us() / 1000);
    EXPECT_EQ(chk.server_checks("web", rs1, 80).size(), 1u);
    EXPECT_EQ(chk.server_checks("web", *ip_addr::parse("198.51.100.21"), 80).size(), 2u);
}

// An HTTP server on loopback answering per path, recording each request's source address.
class http_server {
public:
    explicit http_server(std::map<std::string, int> codes) : m_codes(std::move(codes)) {
        m_fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(m_fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        listen(m_fd, 16);
        socklen_t len = sizeof sa;
        getsockname(m_fd, reinterpret_cast<sockaddr*>(&sa), &len);
        port = ntohs(sa.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~http_server() {
        m_stop = true;
        m_thread.join();
        close(m_fd);
    }
    void set(const std::string& path, int code) {
        std::lock_guard g(m_mu);
        m_codes[path] = code;
    }
    std::vector<std::string> requests() {
        std::lock_guard g(m_mu);
        return m_requests;
    }
    std::vector<std::string> sources() {
        std::lock_guard g(m_mu);
        return m_sources;
    }
    uint16_t port = 0;

private:
    void serve() {
        while (!m_stop) {
            pollfd p{m_fd, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0)
                continue;
            sockaddr_in peer{};
            socklen_t len = sizeof peer;
            const int c = accept(m_fd, reinterpret_cast<sockaddr*>(&peer), &len);
            if (c < 0)
                continue;
            std::string req;
            char buf[1024];
            ssize_t n;
            while (req.find("\r\n\r\n") == std::string::npos && (n = read(c, buf, sizeof buf)) > 0)
                req.append(buf, static_cast<size_t>(n));
            const std::string path = req.substr(4, req.find(' ', 4) - 4);
            int code = 404;
            {
                std::lock_guard g(m_mu);
                if (auto it = m_codes.find(path); it != m_codes.end())
                    code = it->second;
                m_requests.push_back(path);
                m_sources.push_back(ip_addr::from_v4(ntohl(peer.sin_addr.s_addr)).to_string());
            }
            const std::string resp = "HTTP/1.0 " + std::to_string(code) + " X\r\n\r\nbody";
            [[maybe_unused]] auto w = write(c, resp.data(), resp.size());
            close(c);
        }
    }

    int m_fd = -1;
    std::map<std::string, int> m_codes;
    std::vector<std::string> m_requests, m_sources;
    std::mutex m_mu;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// keepalived's url blocks: every url is fetched, and the check fails on the first that fails.
// `address` sends the probes to 127.0.0.1 instead of the real server's address (connect_ip),
// `source` makes them leave from 127.0.0.2 (bindto).
TEST(several_urls, every_url_must_pass_and_address_and_source_are_used) {
    http_server srv({{"/a", 200}, {"/b", 500}});
    config::config c =
        load("ports: [{name: lan, device: d0, addresses: [198.51.100.1/24]}]\n"
             "virtual_servers:\n"
             "  - {name: web, address: 198.51.100.100, port: 80, protocol: tcp, forwarding: nat,\n"
             "     real_servers: [{address: 198.51.100.20, port: 80, health_check: {type: http,\n"
             "       urls: [{path: /a}, {path: /b, status: [200]}], address: 127.0.0.1,\n"
             "       port: " +
             std::to_string(srv.port) + ", delay_loop: 50ms, retry: 0, connect_timeout: 1s}}]}\n");
    // In a file `source` must be a port's address; loopback's second address stands in here.
    c.virtual_servers[0].real_servers[0].health.check->source = *ip_addr::parse("127.0.0.2");
    checker chk;
    chk.sync(c, mono_us() / 1000);
    ASSERT_TRUE(drive(chk, [&] { return !chk.server_up("web", rs1, 80); }))
        << "the failing second url did not take the server down";
    const auto checks = chk.server_checks("web", rs1, 80);
    ASSERT_EQ(checks.size(), 1u);
    EXPECT_EQ(checks[0].last_error, "/b: HTTP status 500");
    EXPECT_EQ(checks[0].check, "http 127.0.0.1 :" + std::to_string(srv.port) + " /a /b");
    const auto reqs = srv.requests();
    ASSERT_GE(reqs.size(), 2u);
    EXPECT_EQ(reqs[0], "/a");
    EXPECT_EQ(reqs[1], "/b");
    for (const auto& from : srv.sources())
        EXPECT_EQ(from, "127.0.0.2");
    srv.set("/b", 200);
    ASSERT_TRUE(drive(chk, [&] { return chk.server_up("web", rs1, 80); }))
        << "both urls pass but the server stayed down";
    // And a first url failing fails the round without fetching the second.
    srv.set("/a", 503);
    const size_t before = srv.requests().size();
    ASSERT_TRUE(drive(chk, [&] { return !chk.server_up("web", rs1, 80); }));
    const auto after = srv.requests();
    EXPECT_EQ(after[before], "/a");
    EXPECT_EQ(chk.server_checks("web", rs1, 80)[0].last_error, "/a: HTTP status 503");
}

// keepalived's warmup: the first probe of each checker waits a random delay up to warmup. With
// warmup 150ms every first probe of 12 servers has run by then; the fixed spread used without it
// (up to 1 s) would leave most of them later.
TEST(warmup, first_probes_start_within_the_warmup) {
    scratch s;
    std::string rss;
    for (int i = 0; i < 12; ++i)
        rss += std::string(i ? ",\n" : "") + "       {address: 198.51.100." +
               std::to_string(20 + i) + ", port: 80, health_check: {type: misc, path: \"touch " +
               s.path(std::to_string(i)) + "\", delay_loop: 1h, warmup: 150ms}}";
    const config::config c =
        load("ports: [{name: lan, device: d0, addresses: [198.51.100.1/24]}]\n"
             "virtual_servers:\n"
             "  - {name: web, address: 198.51.100.100, port: 80, protocol: tcp, forwarding: nat,\n"
             "     real_servers: [\n" +
             rss + "]}\n");
    checker chk;
    const uint64_t t0 = mono_us();
    chk.sync(c, t0 / 1000);
    auto started = [&] {
        size_t n = 0;
        for (int i = 0; i < 12; ++i)
            n += std::filesystem::exists(s.path(std::to_string(i))) ? 1 : 0;
        return n;
    };
    // 150 ms of warmup, plus the scripts' start on a loaded machine.
    drive(
        chk, [&] { return mono_us() - t0 > 160'000; }, 200);
    EXPECT_TRUE(drive(
        chk, [&] { return started() == 12; }, 400))
        << started() << " of 12 first probes ran within the warmup";
}

// keepalived's quorum_up / quorum_down: run when the service loses and regains quorum.
TEST(quorum_notify, scripts_run_when_quorum_is_lost_and_regained) {
    scratch s;
    const std::string flag = s.path("rs_ok"), down = s.path("down"), up = s.path("up");
    const config::config c =
        load("ports: [{name: lan, device: d0, addresses: [198.51.100.1/24]}]\n"
             "virtual_servers:\n"
             "  - {name: web, address: 198.51.100.100, port: 80, protocol: tcp, forwarding: nat,\n"
             "     notify: {quorum_up: \"touch " +
             up + "\", quorum_down: \"touch " + down +
             "\"},\n"
             "     health_check: {type: misc, path: \"test -e " +
             flag +
             "\", delay_loop: 50ms},\n"
             "     real_servers: [{address: 198.51.100.20, port: 80}]}\n");
    checker chk;
    chk.sync(c, mono_us() / 1000);
    ASSERT_TRUE(drive(chk, [&] { return std::filesystem::exists(down); }))
        << "quorum_down did not run";
    EXPECT_FALSE(chk.quorum_up("web"));
    EXPECT_FALSE(std::filesystem::exists(up));
    std::FILE* f = std::fopen(flag.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
    ASSERT_TRUE(drive(chk, [&] { return std::filesystem::exists(up); })) << "quorum_up did not run";
    EXPECT_TRUE(chk.quorum_up("web"));
}

} // namespace
} // namespace ulvs::ctl::health
