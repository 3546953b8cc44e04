// CLI changes on the config model, the YAML emitter's round trip, and reload's restart check.
#include "ulvs/config/emit.h"
#include "ulvs/config/load.h"
#include "ulvs/mgmt/config_edit.h"
#include "ulvs/mgmt/ipvsadm_args.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace ulvs::mgmt {
namespace {

constexpr std::string_view base_yaml = R"(
ports:
  - {name: wan, device: dev0, addresses: [203.0.113.10/24]}
  - {name: lan, device: dev1, addresses: [198.51.100.1/24]}
neighbors: [{address: 198.51.100.11, mac: "02:00:00:00:00:11", port: lan}]
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: wrr
    real_servers: [{address: 198.51.100.11, port: 80, weight: 3}]
management: {socket: "/tmp/x.sock", metrics: ""}
)";

config::config base() {
    auto c = config::load_string(base_yaml, "base.yaml");
    EXPECT_TRUE(c);
    return *c;
}

json op(std::string_view line) {
    auto a = parse_cli(split_words(line));
    EXPECT_TRUE(a) << line;
    return a ? a->request : json();
}

// Everything a config holds, compared through the emitter (config has no operator==).
std::string text(const config::config& c) {
    return config::to_yaml(c);
}

TEST(to_yaml, round_trips_the_shipped_configs) {
    for (const char* name : {"example.yaml", "lab.yaml"}) {
        auto c = config::load_file(std::string(ULVS_CONFIG_DIR) + "/" + name);
        ASSERT_TRUE(c) << name << ": " << c.error().front().to_string();
        const std::string once = config::to_yaml(*c);
        auto again = config::load_string(once, "again.yaml");
        ASSERT_TRUE(again) << name << ": " << again.error().front().to_string() << "\n" << once;
        EXPECT_EQ(config::to_yaml(*again), once) << name;
    }
}

TEST(to_yaml, keeps_persistence_and_match) {
    auto c = config::load_file(std::string(ULVS_CONFIG_DIR) + "/example.yaml");
    ASSERT_TRUE(c);
    c->virtual_servers[0].persistence->granularity = *ip_addr::parse("255.255.254.0");
    c->virtual_servers[0].persistence->expire_quiescent_template = true;
    auto again = config::load_string(config::to_yaml(*c), "again.yaml");
    ASSERT_TRUE(again) << again.error().front().to_string();
    for (size_t i = 0; i < c->virtual_servers.size(); ++i) {
        EXPECT_EQ(again->virtual_servers[i].persistence, c->virtual_servers[i].persistence) << i;
        EXPECT_EQ(again->virtual_servers[i].match, c->virtual_servers[i].match) << i;
    }
    ASSERT_TRUE(c->virtual_servers[2].match); // the example's match service
}

TEST(apply_op, persistence_options) {
    auto c = base();
    ASSERT_TRUE(apply_op(c, op("-E -t 203.0.113.100:80 -s rr -p 120 -M 255.255.255.0")));
    ASSERT_TRUE(c.virtual_servers[0].persistence);
    EXPECT_EQ(c.virtual_servers[0].persistence->timeout, std::chrono::seconds(120));
    EXPECT_EQ(c.virtual_servers[0].persistence->granularity, *ip_addr::parse("255.255.255.0"));
    ASSERT_TRUE(apply_op(c, op("-E -t 203.0.113.100:80 -s rr -p")));
    EXPECT_EQ(c.virtual_servers[0].persistence->timeout, std::chrono::seconds(300)); // ipvsadm's
    EXPECT_EQ(c.virtual_servers[0].persistence->granularity, *ip_addr::parse("255.255.255.255"));
    ASSERT_TRUE(apply_op(c, op("-E -t 203.0.113.100:80 -s rr"))); // as ipvsadm -E: reset
    EXPECT_FALSE(c.virtual_servers[0].persistence);
    // A non-contiguous mask is the validator's to refuse, with its message.
    ASSERT_TRUE(apply_op(c, op("-E -t 203.0.113.100:80 -s rr -p 60 -M 255.0.255.0")));
    auto bad = revalidate(c);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("netmask"), std::string::npos);
}

TEST(to_yaml, quotes_strings_safely) {
    auto c = base();
    c.virtual_servers[0].name = "we\"b: #1 \\ {x}";
    auto again = config::load_string(config::to_yaml(c), "q.yaml");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->virtual_servers[0].name, c.virtual_servers[0].name);
}

TEST(apply_op, add_edit_delete_services_and_servers) {
    auto c = base();
    ASSERT_TRUE(apply_op(c, op("-A -t 203.0.113.100:443 -s rr")));
    ASSERT_TRUE(apply_op(c, op("-a -t 203.0.113.100:443 -r 198.51.100.12 -w 2")));
    ASSERT_EQ(c.virtual_servers.size(), 2u);
    EXPECT_EQ(c.virtual_servers[1].name, "tcp-203.0.113.100-443");
    EXPECT_EQ(c.virtual_servers[1].real_servers[0].port, 443);
    EXPECT_EQ(c.virtual_servers[1].real_servers[0].weight, 2u);
    ASSERT_TRUE(apply_op(c, op("-e -t 203.0.113.100:80 -r 198.51.100.11:80 -w 0")));
    EXPECT_EQ(c.virtual_servers[0].real_servers[0].weight, 0u);
    ASSERT_TRUE(apply_op(c, op("-E -t 203.0.113.100:80 -s rr")));
    EXPECT_EQ(c.virtual_servers[0].scheduler, "rr");
    ASSERT_TRUE(apply_op(c, op("-d -t 203.0.113.100:80 -r 198.51.100.11:80")));
    EXPECT_TRUE(c.virtual_servers[0].real_servers.empty());
    ASSERT_TRUE(apply_op(c, op("-D -t 203.0.113.100:80")));
    EXPECT_EQ(c.virtual_servers.size(), 1u);
    ASSERT_TRUE(apply_op(c, op("--set 100 0 30")));
    EXPECT_EQ(c.timeouts.tcp, std::chrono::seconds(100));
    EXPECT_EQ(c.timeouts.tcp_fin, std::chrono::seconds(120)); // 0: unchanged
    auto valid = revalidate(c);
    ASSERT_TRUE(valid) << valid.error().message;
    EXPECT_EQ(text(*valid), text(c));
    ASSERT_TRUE(apply_op(c, op("-C")));
    EXPECT_TRUE(c.virtual_servers.empty());
}

// Issue 16: as IPVS (ip_vs_add_dest/ip_vs_edit_dest), only NAT maps ports; a DR or TUN server
// given another port takes the service's (the old code listed 198.51.100.12:8080).
TEST(apply_op, dr_and_tun_servers_take_the_service_port_as_ipvs) {
    auto c = base();
    auto& rss = c.virtual_servers[0].real_servers;
    ASSERT_TRUE(apply_op(c, op("-a -t 203.0.113.100:80 -r 198.51.100.12:8080 -g")));
    EXPECT_EQ(rss.back().address.to_string(), "198.51.100.12");
    EXPECT_EQ(rss.back().port, 80);
    ASSERT_TRUE(apply_op(c, op("-a -t 203.0.113.100:80 -r 198.51.100.13:8080 -m")));
    EXPECT_EQ(rss.back().port, 8080); // NAT maps it
    ASSERT_TRUE(apply_op(c, op("-e -t 203.0.113.100:80 -r 198.51.100.12:8080 -i -w 3")));
    EXPECT_EQ(rss[rss.size() - 2].port, 80);
    EXPECT_EQ(rss[rss.size() - 2].weight, 3u);
}

TEST(apply_op, typed_errors_in_ipvsadm_words) {
    auto c = base();
    auto code = [&](std::string_view line) {
        auto r = apply_op(c, op(line));
        return r ? std::string("ok")
                 : std::string(to_string(r.error().code)) + ": " + r.error().message;
    };
    EXPECT_EQ(code("-A -t 203.0.113.100:80 -s rr"), "exists: Service already exists");
    EXPECT_EQ(code("-E -t 203.0.113.100:81 -s rr"), "not_found: No such service");
    EXPECT_EQ(code("-D -t 203.0.113.100:81"), "not_found: No such service");
    EXPECT_EQ(code("-a -t 203.0.113.100:81 -r 198.51.100.11"), "not_found: Service not defined");
    EXPECT_EQ(code("-a -t 203.0.113.100:80 -r 198.51.100.11"),
              "exists: Destination already exists");
    EXPECT_EQ(code("-e -t 203.0.113.100:80 -r 198.51.100.12"), "not_found: No such destination");
    EXPECT_EQ(code("-d -t 203.0.113.100:80 -r 198.51.100.12"), "not_found: No such destination");
    EXPECT_EQ(code("-A -t 203.0.113.100:81 -s rr -M 255.255.255.0"),
              "bad_request: a persistence netmask (-M) needs -p");
    EXPECT_EQ(apply_op(c, json{{"cmd", "add_service"}, {"service", "x"}}).error().code,
              errc::bad_request);
    EXPECT_EQ(apply_op(c, json{{"cmd", "nope"}}).error().code, errc::unknown_command);
    EXPECT_EQ(text(c), text(base())); // failed ops changed nothing
}

TEST(apply_op, scheduler_flags_and_thresholds_reach_the_file) {
    auto c = base();
    ASSERT_TRUE(apply_op(c, op("-A -t 203.0.113.100:443 -s sh -b sh-port,sh-fallback")));
    ASSERT_TRUE(apply_op(c, op("-a -t 203.0.113.100:443 -r 198.51.100.11 -x 100 -y 50")));
    auto v = revalidate(c);
    ASSERT_TRUE(v) << v.error().message;
    const auto& vs = v->virtual_servers[1];
    EXPECT_EQ(vs.scheduler_flags, (std::vector<std::string>{"sh-port", "sh-fallback"}));
    EXPECT_EQ(vs.real_servers[0].thresholds.upper, 100u);
    EXPECT_EQ(vs.real_servers[0].thresholds.lower, 50u);
    // As ipvsadm -E/-e: options left out are reset.
    ASSERT_TRUE(apply_op(c, op("-E -t 203.0.113.100:443 -s rr")));
    ASSERT_TRUE(apply_op(c, op("-e -t 203.0.113.100:443 -r 198.51.100.11 -w 2")));
    EXPECT_TRUE(c.virtual_servers[1].scheduler_flags.empty());
    EXPECT_EQ(c.virtual_servers[1].real_servers[0].thresholds.upper, 0u);
    // A flag of another scheduler: the validator's message.
    ASSERT_TRUE(apply_op(c, op("-E -t 203.0.113.100:443 -s rr -b sh-port")));
    auto bad = revalidate(c);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("sh-port"), std::string::npos);
}

TEST(apply_op, locality_schedulers_lblc_and_lblcr) {
    // ipvsadm -s lblc / -s lblcr (issue 14): accepted, written to the file, listed back as given.
    auto c = base();
    ASSERT_TRUE(apply_op(c, op("-A -t 203.0.113.100:3128 -s lblc")));
    ASSERT_TRUE(apply_op(c, op("-a -t 203.0.113.100:3128 -r 198.51.100.11 -w 4")));
    auto v = revalidate(c);
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->virtual_servers[1].scheduler, "lblc");
    auto again = config::load_string(text(c), "emitted.yaml"); // what `ulvsadm -a` writes back
    ASSERT_TRUE(again);
    EXPECT_EQ(again->virtual_servers[1].scheduler, "lblc");
    ASSERT_TRUE(apply_op(c, op("-E -t 203.0.113.100:3128 -s lblcr")));
    v = revalidate(c);
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ(v->virtual_servers[1].scheduler, "lblcr");
    // They take no -b flag (IPVS' sh/mh flags).
    ASSERT_TRUE(apply_op(c, op("-E -t 203.0.113.100:3128 -s lblc -b sh-port")));
    EXPECT_FALSE(revalidate(c));
}

TEST(to_yaml, knows_every_field) {
    // CLI changes round-trip the running config through to_yaml: a field it does not write is
    // silently lost on the next `ulvsadm -a`. When a config struct grows, teach
    // lib/config/emit.cc the new field (and this test the new size).
    EXPECT_EQ(sizeof(config::virtual_server_cfg), 656u) << "new virtual server field?";
    EXPECT_EQ(sizeof(config::real_server_cfg), 408u) << "new real server field?";
    // Health keys: lib/config/emit_health.cc.
    EXPECT_EQ(sizeof(config::health_check_cfg), 264u) << "new health check field?";
    EXPECT_EQ(sizeof(config::vs_health_cfg), 392u) << "new virtual server health field?";
    EXPECT_EQ(sizeof(config::rs_health_cfg), 368u) << "new real server health field?";
    EXPECT_EQ(sizeof(config::notify_cfg), 64u) << "new notify script?";
    EXPECT_EQ(sizeof(config::sorry_server_cfg), 12u) << "new sorry server field?";
    EXPECT_EQ(sizeof(config::url_cfg), 88u) << "new url field?";
    EXPECT_EQ(sizeof(config::connections_cfg), 8u) << "new connections field?";
    EXPECT_EQ(sizeof(config::vips_cfg), 1u) << "new vips field?";
    EXPECT_EQ(sizeof(config::config), 672u) << "new top-level section?";
    // sync: lib/config/parse_sync.cc.
    EXPECT_EQ(sizeof(config::sync_cfg), 80u) << "new sync field?";
    EXPECT_EQ(sizeof(config::management_cfg), 96u) << "new management field?";
    EXPECT_EQ(sizeof(config::scripts_cfg), 72u) << "new scripts field?";
    // exception_path: lib/config/exception_path.cc.
    EXPECT_EQ(sizeof(config::exception_path_cfg), 24u) << "new exception_path key?";
    EXPECT_EQ(sizeof(config::exception_allow_cfg), 88u) << "new exception_path.allow field?";
    EXPECT_EQ(sizeof(config::control_policing_cfg), 16u) << "new control_policing class?";
    EXPECT_EQ(sizeof(config::police_cfg), 8u) << "new policer field?";
    EXPECT_EQ(sizeof(config::vrrp_instance_cfg), 440u) << "new VRRP instance field?";
    EXPECT_EQ(sizeof(config::vrrp_track_cfg), 72u) << "new VRRP track field?";
    EXPECT_EQ(sizeof(config::vrrp_track_script_cfg), 64u) << "new VRRP track script field?";
    EXPECT_EQ(sizeof(config::vrrp_notify_cfg), 160u) << "new VRRP notify script?";
    EXPECT_EQ(sizeof(config::vrrp_garp_cfg), 16u) << "new VRRP garp field?";
    EXPECT_EQ(sizeof(config::vrrp_sync_group_cfg), 216u) << "new VRRP sync group field?";
    EXPECT_EQ(sizeof(config::port_cfg), 104u) << "new port field?";
    EXPECT_EQ(sizeof(config::timeouts_cfg), 24u) << "new timeout?";
    EXPECT_EQ(sizeof(config::lcores_cfg), 64u) << "new lcores field?";
}

TEST(revalidate, refuses_what_a_file_would_refuse) {
    auto c = base();
    // A DR real server off every connected subnet: the validator's cross check.
    ASSERT_TRUE(apply_op(c, op("-a -t 203.0.113.100:80 -r 192.0.2.1")));
    auto r = revalidate(c);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::invalid);
    EXPECT_FALSE(r.error().details.empty());
    auto s = base();
    ASSERT_TRUE(apply_op(s, op("-E -t 203.0.113.100:80 -s nosuch")));
    EXPECT_FALSE(revalidate(s));
}

// Issue 16: a DR server the file lists with another port is the same destination (IPVS knows a
// DR server by its address): -a answers ipvsadm's EEXIST, with which one as a detail, not the
// validator's "listed twice in virtual_servers[0]"; -d and -e find it.
TEST(apply_op, a_dr_server_is_known_by_its_address) {
    auto c = base();
    c.virtual_servers[0].real_servers[0].port = 8080; // web is DR (the default)
    auto r = apply_op(c, op("-a -t 203.0.113.100:80 -r 198.51.100.11:80 -g"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "Destination already exists");
    EXPECT_EQ(r.error().details,
              std::vector<std::string>{
                  "198.51.100.11:8080 is a real server of TCP 203.0.113.100:80 (\"web\")"});
    ASSERT_TRUE(apply_op(c, op("-e -t 203.0.113.100:80 -r 198.51.100.11:80 -g -w 7")));
    EXPECT_EQ(c.virtual_servers[0].real_servers[0].weight, 7u);
    ASSERT_TRUE(apply_op(c, op("-d -t 203.0.113.100:80 -r 198.51.100.11:80")));
    EXPECT_TRUE(c.virtual_servers[0].real_servers.empty());
}

// What the validator refuses after a CLI change names the service as ipvsadm does.
TEST(revalidate, names_services_in_ipvsadm_terms) {
    auto c = base();
    ASSERT_TRUE(apply_op(c, op("-a -t 203.0.113.100:80 -r 192.0.2.50:80 -g")));
    auto bad = revalidate(c);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "DR real server 192.0.2.50 is not on a connected subnet of any "
                                   "port");
    c = base();
    c.virtual_servers[0].real_servers.push_back(c.virtual_servers[0].real_servers[0]);
    bad = revalidate(c);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message,
              "service TCP 203.0.113.100:80 (\"web\"): real server 198.51.100.11 is listed twice "
              "in virtual_servers[0] (also real_servers[0])");
    c = base();
    ASSERT_TRUE(apply_op(c, op("-a -t 203.0.113.100:80 -r 198.51.100.12 -g -x 10 -y 20")));
    bad = revalidate(c);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message,
              "service TCP 203.0.113.100:80 (\"web\"): virtual_servers[0].real_servers[1]."
              "thresholds.lower (20) is above virtual_servers[0].real_servers[1].thresholds.upper "
              "(10)");
}

TEST(batch, all_or_nothing) {
    auto c = base();
    json batch = {
        {"cmd", "batch"},
        {"ops",
         {op("-A -t 203.0.113.100:443 -s rr"), op("-a -t 203.0.113.100:443 -r 198.51.100.12"),
          op("-a -t 203.0.113.100:443 -r 198.51.100.12")}}};
    auto r = apply_op(c, batch);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "rule 3: Destination already exists");
}

TEST(restart_only_changes, names_the_sections) {
    auto a = base();
    auto b = base();
    EXPECT_TRUE(restart_only_changes(a, b).empty());
    b.virtual_servers.clear();
    b.timeouts.tcp = std::chrono::seconds(5);
    b.vrrp_instances.emplace_back();                 // keepalived reloads its instances too
    EXPECT_TRUE(restart_only_changes(a, b).empty()); // live
    b.ports[0].mtu = 9000;
    b.lcores.workers = {1, 2};
    b.connections.max = 10;
    b.neighbors.clear();
    auto r = restart_only_changes(a, b);
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0], "lcores");
    EXPECT_EQ(r[1], "ports");
    EXPECT_EQ(r[2], "connections");
    // lcores.idle is read by the workers once, when they start.
    auto c = base();
    c.lcores.idle = config::idle_mode::adaptive;
    EXPECT_EQ(restart_only_changes(a, c), std::vector<std::string>{"lcores"});
}

// issue 16: `-S > rules; -C; -R < rules` gives back what ran. The rules carry only what ipvsadm
// can say; the service's name, forwarding, checks, quorum and sorry server, and the real servers'
// checks come back from the history of this process (config_edit.h service_history).
constexpr std::string_view checked_yaml = R"(
ports:
  - {name: wan, device: dev0, addresses: [203.0.113.10/24]}
  - {name: lan, device: dev1, addresses: [198.51.100.1/24]}
virtual_servers:
  - name: web
    address: 203.0.113.100
    port: 80
    protocol: tcp
    scheduler: wrr
    forwarding: nat
    persistence: {timeout: 60s, expire_quiescent_template: true}
    quorum: 2
    hysteresis: 1
    sorry_server: {address: 198.51.100.99, port: 80}
    health_check: {type: tcp, delay_loop: 2s, retry: 0}
    real_servers:
      - {address: 198.51.100.11, port: 80, weight: 3}
      - address: 198.51.100.12
        port: 80
        weight: 2
        inhibit_on_failure: true
        health_check: {type: misc, path: /bin/false}
  - name: dns
    address: 203.0.113.100
    port: 53
    protocol: udp
    scheduler: rr
    real_servers: [{address: 198.51.100.11, port: 53, weight: 1}]
management: {socket: "/tmp/x.sock", metrics: ""}
)";

// What `ulvsadm -S -n` prints for checked_yaml (the configured servers, ipvsadm's order).
constexpr std::string_view checked_rules = "-A -t 203.0.113.100:80 -s wrr -p 60\n"
                                           "-a -t 203.0.113.100:80 -r 198.51.100.11:80 -m -w 3\n"
                                           "-a -t 203.0.113.100:80 -r 198.51.100.12:80 -m -w 2\n"
                                           "-A -u 203.0.113.100:53 -s rr\n"
                                           "-a -u 203.0.113.100:53 -r 198.51.100.11:53 -g -w 1\n";

TEST(service_history, clear_and_restore_gives_back_names_and_checks) {
    auto c = config::load_string(checked_yaml, "c.yaml");
    ASSERT_TRUE(c) << c.error().front().to_string();
    const std::string before = text(*c);
    service_history h;
    h.remember(*c);
    config::config next = *c;
    ASSERT_TRUE(apply_op(next, op("-C"), &h));
    h.remember(next); // -C was committed: the history keeps what it removed
    auto batch = parse_restore(checked_rules);
    ASSERT_TRUE(batch);
    ASSERT_TRUE(apply_op(next, *batch, &h));
    auto valid = revalidate(next);
    ASSERT_TRUE(valid) << valid.error().message;
    EXPECT_EQ(text(*valid), before);

    // Without the history, what ipvsadm cannot say is lost (the behaviour before).
    config::config bare = *c;
    ASSERT_TRUE(apply_op(bare, op("-C")));
    ASSERT_TRUE(apply_op(bare, *batch));
    EXPECT_EQ(bare.virtual_servers[0].name, "tcp-203.0.113.100-80");
    EXPECT_FALSE(bare.virtual_servers[0].health.check);
}

TEST(service_history, a_taken_name_is_not_reused_and_plain_servers_are_not_kept) {
    auto c = config::load_string(checked_yaml, "c.yaml");
    ASSERT_TRUE(c);
    service_history h;
    h.remember(*c);
    config::config next = *c;
    ASSERT_TRUE(apply_op(next, op("-D -t 203.0.113.100:80"), &h));
    next.virtual_servers[0].name = "web"; // dns renamed to web meanwhile
    ASSERT_TRUE(apply_op(next, op("-A -t 203.0.113.100:80 -s rr"), &h));
    EXPECT_EQ(next.virtual_servers[1].name, "tcp-203.0.113.100-80");
    EXPECT_TRUE(next.virtual_servers[1].health.check); // the rest still comes back
    // A real server without health settings has nothing remembered; one with them has.
    EXPECT_EQ(h.find_rs(l4_proto::tcp, *ip_addr::parse("203.0.113.100"), 80,
                        *ip_addr::parse("198.51.100.11"), 80),
              nullptr);
    ASSERT_NE(h.find_rs(l4_proto::tcp, *ip_addr::parse("203.0.113.100"), 80,
                        *ip_addr::parse("198.51.100.12"), 80),
              nullptr);
    // A later definition without them forgets them.
    config::config later = *c;
    later.virtual_servers[0].real_servers[1].health = {};
    h.remember(later);
    EXPECT_EQ(h.find_rs(l4_proto::tcp, *ip_addr::parse("203.0.113.100"), 80,
                        *ip_addr::parse("198.51.100.12"), 80),
              nullptr);
}

} // namespace
} // namespace ulvs::mgmt
