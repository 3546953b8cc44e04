// The health keys of the config (lib/config/parse_health.cc, emit_health.cc): defaults,
// overrides, errors with their line and column, and the to_yaml round trip.
#include "../config/test_util.h"

#include "ulvs/config/emit.h"

#include <gtest/gtest.h>

namespace ulvs::config {
namespace {

using namespace std::chrono_literals;
using test::errors_with_ports;
using test::two_ports;

// Appended to two_ports (7 lines): the service starts on line 8, its keys at column 5.
std::string service(std::string_view vs_keys, std::string_view rs_keys = "") {
    return "virtual_servers:\n"
           "  - name: web\n"
           "    address: 203.0.113.100\n"
           "    port: 80\n"
           "    protocol: tcp\n" +
           std::string(vs_keys) +
           "    real_servers:\n"
           "      - {address: 198.51.100.11, port: 80" +
           std::string(rs_keys) + "}\n";
}

TEST(health_config, defaults_are_keepalived_s) {
    auto c =
        load_string(std::string(two_ports) + service("    health_check: {type: tcp}\n"), "t.yaml");
    ASSERT_TRUE(c);
    const auto& vs = c->virtual_servers[0];
    EXPECT_EQ(vs.health.quorum, 1u);
    EXPECT_EQ(vs.health.hysteresis, 0u);
    EXPECT_FALSE(vs.health.alpha);
    ASSERT_TRUE(vs.health.check);
    EXPECT_EQ(vs.health.check->delay_loop, 60s);
    EXPECT_EQ(vs.health.check->connect_timeout, 5s);
    EXPECT_EQ(vs.health.check->retry, 1u);
    EXPECT_EQ(vs.health.check->delay_before_retry, 1s);
    EXPECT_FALSE(vs.real_servers[0].health.inhibit_on_failure);
}

TEST(health_config, everything_round_trips_through_to_yaml) {
    const std::string text =
        std::string(two_ports) +
        service("    quorum: 3\n    hysteresis: 1\n    alpha: true\n"
                "    sorry_server: {address: 198.51.100.99, port: 8080}\n"
                "    health_check: {type: http, path: /h, status: [200, 301], digest: "
                "\"0123456789abcdef0123456789abcdef\", virtualhost: \"a\\\"b\", delay_loop: 2s, "
                "connect_timeout: 500ms, retry: 3, delay_before_retry: 2s, port: 8080}\n",
                ", inhibit_on_failure: true, notify: {up: \"echo up\", down: \"x\"}, "
                "health_check: {type: misc, path: \"/bin/true 1\", timeout: 3s, dynamic: true}");
    auto c = load_string(text, "t.yaml");
    ASSERT_TRUE(c) << c.error()[0].to_string();
    const auto& vs = c->virtual_servers[0];
    EXPECT_EQ(vs.health.check->status, (std::vector<uint16_t>{200, 301}));
    EXPECT_EQ(vs.health.check->virtualhost, "a\"b");
    const auto& rs = vs.real_servers[0].health;
    ASSERT_TRUE(rs.check);
    EXPECT_EQ(rs.check->type, check_type::misc);
    EXPECT_EQ(rs.check->connect_timeout, 3s);
    EXPECT_EQ(rs.check->retry, 0u); // MISC_CHECK's default
    EXPECT_TRUE(rs.check->dynamic);
    EXPECT_EQ(rs.notify.up, "echo up");
    auto again = load_string(to_yaml(*c), "again.yaml");
    ASSERT_TRUE(again) << again.error()[0].to_string() << "\n" << to_yaml(*c);
    EXPECT_EQ(again->virtual_servers[0].health, vs.health);
    EXPECT_EQ(again->virtual_servers[0].real_servers[0].health, vs.real_servers[0].health);
}

TEST(health_config, https_and_udp_keys_round_trip) {
    const std::string text =
        std::string(two_ports) +
        service("    health_check: {type: https, path: /h, status: [200], virtualhost: rs1, "
                "port: 443, connect_timeout: 2s}\n",
                ", health_check: {type: udp, payload: \"0A1b00\", require_reply: true, "
                "port: 53}");
    auto c = load_string(text, "t.yaml");
    ASSERT_TRUE(c) << c.error()[0].to_string();
    const auto& vs = c->virtual_servers[0];
    EXPECT_EQ(vs.health.check->type, check_type::https);
    EXPECT_EQ(vs.health.check->path, "/h");
    const auto& rs = *vs.real_servers[0].health.check;
    EXPECT_EQ(rs.type, check_type::udp);
    EXPECT_EQ(rs.payload, std::string("\x0a\x1b\x00", 3));
    EXPECT_TRUE(rs.require_reply);
    auto again = load_string(to_yaml(*c), "again.yaml");
    ASSERT_TRUE(again) << again.error()[0].to_string() << "\n" << to_yaml(*c);
    EXPECT_EQ(again->virtual_servers[0].health, vs.health);
    EXPECT_EQ(again->virtual_servers[0].real_servers[0].health, vs.real_servers[0].health);
}

TEST(health_config, errors_point_at_the_key) {
    EXPECT_EQ(errors_with_ports(service("    health_check: {type: udp, payload: \"0g\"}\n")),
              (std::vector<std::string>{"13:40: virtual_servers[0].health_check.payload must be "
                                        "hex bytes, e.g. \"0a1b\""}));
    EXPECT_EQ(errors_with_ports(service("    health_check: {type: https, require_reply: true}\n")),
              (std::vector<std::string>{"13:33: virtual_servers[0].health_check.require_reply "
                                        "applies to udp checks only"}));
    EXPECT_EQ(errors_with_ports(service("    health_check: {type: tcp, path: /x}\n")),
              (std::vector<std::string>{
                  "13:31: virtual_servers[0].health_check.path applies to http, https and misc "
                  "checks only"}));
    EXPECT_EQ(errors_with_ports(service("    health_check: {type: http, digest: abc}\n")),
              (std::vector<std::string>{"13:40: virtual_servers[0].health_check.digest must be "
                                        "an md5 digest: 32 lowercase hex digits"}));
    EXPECT_EQ(errors_with_ports(service("    health_check: {type: misc}\n")),
              (std::vector<std::string>{"13:19: virtual_servers[0].health_check is missing "
                                        "required key \"path\""}));
    EXPECT_EQ(errors_with_ports(service("    quorum: 0\n")),
              (std::vector<std::string>{"13:13: virtual_servers[0].quorum must be in "
                                        "1..4294967295, got 0"}));
    EXPECT_EQ(errors_with_ports(service("    forwarding: dr\n"
                                        "    sorry_server: {address: 192.0.2.9, port: 80}\n")),
              (std::vector<std::string>{"9:5: virtual_servers[0].sorry_server 192.0.2.9 is not "
                                        "on a connected subnet of any port (DR)"}));
    EXPECT_EQ(errors_with_ports(service("", ", health_check: {type: tcp, payload: \"00\"}")).size(),
              1u);
}

// Issue 14: keepalived's several url blocks, connect_ip, bindto and warmup, several checkers per
// service and real server, quorum_up/quorum_down; all through to_yaml and back.
TEST(health_config, keepalived_check_options_round_trip) {
    const std::string text =
        std::string(two_ports) +
        service("    notify: {quorum_up: \"/bin/up 1\", quorum_down: /bin/down}\n"
                "    health_checks:\n"
                "      - {type: http, urls: [{path: /a, status: [200, 204]}, {path: /b, digest: "
                "\"0123456789abcdef0123456789abcdef\"}], address: 198.51.100.50, "
                "source: 198.51.100.1, warmup: 3s}\n"
                "      - {type: tcp, port: 22}\n",
                ", health_checks: [{type: misc, path: /bin/true, warmup: 500ms}, "
                "{type: udp, port: 53, source: 198.51.100.1}]");
    auto c = load_string(text, "t.yaml");
    ASSERT_TRUE(c) << c.error()[0].to_string();
    const auto& vs = c->virtual_servers[0];
    EXPECT_FALSE(vs.health.check);
    ASSERT_EQ(vs.health.checks.size(), 2u);
    const auto& web = vs.health.checks[0];
    ASSERT_EQ(web.urls.size(), 2u);
    EXPECT_EQ(web.urls[0].path, "/a");
    EXPECT_EQ(web.urls[0].status, (std::vector<uint16_t>{200, 204}));
    EXPECT_EQ(web.urls[1].digest, "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(web.address.to_string(), "198.51.100.50");
    EXPECT_EQ(web.source.to_string(), "198.51.100.1");
    EXPECT_EQ(web.warmup, 3s);
    EXPECT_EQ(vs.health.checks[1].port, 22);
    EXPECT_EQ(vs.health.quorum_up, "/bin/up 1");
    EXPECT_EQ(vs.health.quorum_down, "/bin/down");
    const auto& rs = vs.real_servers[0].health;
    ASSERT_EQ(rs.checks.size(), 2u);
    EXPECT_EQ(rs.checks[0].warmup, 500ms);
    EXPECT_EQ(rs.effective(vs.health).size(), 2u);
    EXPECT_EQ(rs.effective(vs.health)[1].type, check_type::udp);
    auto again = load_string(to_yaml(*c), "again.yaml");
    ASSERT_TRUE(again) << again.error()[0].to_string() << "\n" << to_yaml(*c);
    EXPECT_EQ(again->virtual_servers[0].health, vs.health);
    EXPECT_EQ(again->virtual_servers[0].real_servers[0].health, vs.real_servers[0].health);
}

TEST(health_config, keepalived_check_option_errors_point_at_the_key) {
    EXPECT_EQ(errors_with_ports(service("    health_check: {type: tcp}\n"
                                        "    health_checks: [{type: tcp}]\n")),
              (std::vector<std::string>{"14:5: virtual_servers[0].health_checks and "
                                        "virtual_servers[0].health_check are both set: list every "
                                        "checker in health_checks"}));
    EXPECT_EQ(
        errors_with_ports(
            service("    health_check: {type: http, path: /x, urls: [{path: /y}]}\n")),
        (std::vector<std::string>{"13:32: virtual_servers[0].health_check.path and "
                                  "virtual_servers[0].health_check.urls are both set: write the "
                                  "path, status and digest in each url"}));
    EXPECT_EQ(errors_with_ports(service("    health_check: {type: tcp, urls: [{path: /y}]}\n")),
              (std::vector<std::string>{"13:31: virtual_servers[0].health_check.urls applies to "
                                        "http and https checks only"}));
    EXPECT_EQ(errors_with_ports(service("    health_check: {type: http, urls: [{path: y}]}\n")),
              (std::vector<std::string>{"13:46: virtual_servers[0].health_check.urls[0].path "
                                        "must start with \"/\""}));
    EXPECT_EQ(
        errors_with_ports(
            service("    health_check: {type: misc, path: /bin/true, source: 1.2.3.4}\n")),
        (std::vector<std::string>{"13:49: virtual_servers[0].health_check.source applies to tcp, "
                                  "http, https and udp checks only"}));
    EXPECT_EQ(errors_with_ports(service("    health_checks: []\n")),
              (std::vector<std::string>{"13:20: virtual_servers[0].health_checks must hold at "
                                        "least one checker"}));
    EXPECT_EQ(errors_with_ports(service("    notify: {quorum_up: x, up: y}\n")).size(), 1u);
    EXPECT_EQ(errors_with_ports(service("    health_check: {type: tcp, source: 198.51.100.7}\n")),
              (std::vector<std::string>{"9:5: virtual_servers[0] health check source "
                                        "198.51.100.7 is not an address of any port"}));
    EXPECT_EQ(errors_with_ports(service("", ", health_checks: [{type: tcp, warmup: fast}]")).size(),
              1u);
}

TEST(health_config, connections_and_vips_switches_round_trip) {
    auto c = load_string(std::string(two_ports) + "connections: {expire_nodest_conn: true}\n"
                                                  "vips: {answer_ping: false}\n",
                         "t.yaml");
    ASSERT_TRUE(c) << c.error()[0].to_string();
    EXPECT_TRUE(c->connections.expire_nodest_conn);
    EXPECT_FALSE(c->vips.answer_ping);
    auto again = load_string(to_yaml(*c), "again.yaml");
    ASSERT_TRUE(again) << again.error()[0].to_string();
    EXPECT_TRUE(again->connections.expire_nodest_conn);
    EXPECT_FALSE(again->vips.answer_ping);
    auto d = load_string(std::string(two_ports), "t.yaml"); // IPVS' and our defaults
    EXPECT_FALSE(d->connections.expire_nodest_conn);
    EXPECT_TRUE(d->vips.answer_ping);
    EXPECT_EQ(test::errors_with_ports("vips: {answer_ping: maybe}\n").size(), 1u);
    EXPECT_EQ(test::errors_with_ports("connections: {expire_nodest: true}\n").size(), 1u);
}

} // namespace
} // namespace ulvs::config
