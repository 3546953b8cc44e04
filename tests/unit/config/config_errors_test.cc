// One mistake per row: the exact message and its line:col. Rows are appended to `two_ports`
// (seven lines) unless `whole` is set, so their own text starts on line 8.
#include "test_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace ulvs::config;
using namespace ulvs::config::test;

namespace {

struct row {
    const char* name;
    const char* yaml;
    std::vector<std::string> want;
    bool whole = false; // yaml is the whole file, without two_ports
};

// A virtual server from line 8; `extra` starts on line 14 at column 5.
std::string service(std::string_view extra) {
    return "virtual_servers:\n"
           "  - name: web\n"
           "    address: 203.0.113.100\n"
           "    port: 80\n"
           "    protocol: tcp\n"
           "    scheduler: rr\n" +
           std::string(extra);
}

// A real server 198.51.100.11 from line 15; `extra` starts on line 16 at column 9.
std::string real_server(std::string_view extra) {
    return service("    real_servers:\n"
                   "      - address: 198.51.100.11\n" +
                   std::string(extra));
}

void run(const std::vector<row>& rows) {
    for (const row& r : rows) {
        auto got = r.whole ? errors_of(r.yaml) : errors_with_ports(r.yaml);
        EXPECT_EQ(got, r.want) << "row: " << r.name;
    }
}

} // namespace

TEST(ConfigErrors, UnknownAndDuplicateKeys) {
    run({
        {"top", "foo: 1\n", {"8:1: unknown key \"foo\" at top level"}},
        {"port",
         "ports:\n  - name: wan\n    device: d\n    addresses: [198.51.100.1/24]\n    speed: 10G\n",
         {"5:5: unknown key \"speed\" in ports[0]"},
         true},
        {"nested",
         "timeouts: {tcp: 1s, tcp_syn: 1s}\n",
         {"8:21: unknown key \"tcp_syn\" in timeouts"}},
        {"dup",
         "logging: {level: info, level: warn}\n",
         {"8:24: duplicate key \"level\" in logging"}},
        {"vs",
         service("    weight: 1\n").c_str(),
         {"14:5: unknown key \"weight\" in virtual_servers[0]"}},
        {"rs",
         real_server("        wieght: 1\n").c_str(),
         {"16:9: unknown key \"wieght\" in virtual_servers[0].real_servers[0] (did you mean "
          "\"weight\"?)"}},
        // Issue 16: a mistyped key gets the likely intent; a case slip too; nothing far-fetched.
        {"typo",
         service("    schedular: rr\n").c_str(),
         {"14:5: unknown key \"schedular\" in virtual_servers[0] (did you mean \"scheduler\"?)"}},
        {"case",
         "Logging: {level: info}\n",
         {"8:1: unknown key \"Logging\" at top level (did you "
          "mean \"logging\"?)"}},
    });
}

TEST(ConfigErrors, LaterKeysAreNotSupportedYet) {
    // Health keys are supported since issue 7 (tests/unit/control/health_config_test.cc), every
    // checker type included.
    for (const char* type : {"tcp", "http", "https", "udp"})
        EXPECT_EQ(
            errors_with_ports(service(std::string("    health_check: {type: ") + type + "}\n")),
            std::vector<std::string>{})
            << type;
    run({
        // Supported since issue 8 (tests/unit/control/vrrp_config_test.cc has the rest).
        {"vrrp",
         "vrrp_instances:\n  - name: VI_1\n",
         {"9:5: vrrp_instances[0] is missing required key \"port\"",
          "9:5: vrrp_instances[0] is missing required key \"vrid\"",
          "9:5: vrrp_instances[0] is missing required key \"virtual_addresses\""}},
        {"vrrp empty list is fine", "vrrp_instances: []\n", {}},
    });
}

TEST(ConfigErrors, PersistenceAndMatch) {
    run({
        // match stands for address/port/protocol: no "missing address" errors beside its own.
        {"match needs destinations and protocol",
         "virtual_servers:\n  - name: m\n    match: {ports: [80]}\n    scheduler: rr\n",
         {"10:12: virtual_servers[0].match is missing required key \"destinations\"",
          "10:12: virtual_servers[0].match is missing required key \"protocol\""}},
        {"match and address",
         service("    match: {destinations: [203.0.113.100], protocol: tcp}\n").c_str(),
         {"10:5: virtual server with match: cannot also have address (match has destinations, "
          "ports and protocol)",
          "11:5: virtual server with match: cannot also have port (match has destinations, "
          "ports and protocol)",
          "12:5: virtual server with match: cannot also have protocol (match has destinations, "
          "ports and protocol)"}},
        {"match values",
         "virtual_servers:\n  - name: m\n    match: {destinations: [203.0.113.100, "
         "203.0.113.100], ports: [0, 80], sources: [203.0.113.5/24], protocol: sctp}\n",
         {"10:43: 203.0.113.100 is listed twice in virtual_servers[0].match.destinations",
          "10:67: virtual_servers[0].match.ports[0] must be in 1..65535, got 0",
          "10:85: virtual_servers[0].match.sources[0] has host bits set: 203.0.113.5/24 (did "
          "you mean 203.0.113.0/24?)",
          "10:112: virtual_servers[0].match.protocol must be tcp or udp, got \"sctp\""}},
        {"persistence values",
         service("    persistence: {timeout: 0s, granularity: 255.0.255.0, "
                 "expire_quiescent_template: yes}\n")
             .c_str(),
         {"14:28: virtual_servers[0].persistence.timeout must be between 1s and 30 days, got "
          "\"0s\"",
          "14:45: virtual_servers[0].persistence.granularity must be a netmask (contiguous "
          "ones, e.g. 255.255.255.0), got 255.0.255.0",
          "14:85: virtual_servers[0].persistence.expire_quiescent_template must be true or "
          "false, got \"yes\""}},
        {"persistence defaults are fine", service("    persistence: {}\n").c_str(), {}},
    });
}

// NAT replies are steered by the real server's address: services sharing a NAT real server must
// group clients the same way.
TEST(ConfigErrors, NatRealServerSharedAcrossPersistenceGranularities) {
    const std::string two =
        "virtual_servers:\n"
        "  - {name: a, address: 203.0.113.100, port: 80, protocol: tcp, forwarding: nat,\n"
        "     persistence: {granularity: 255.255.255.0},\n"
        "     real_servers: [{address: 198.51.100.11, port: 8080}]}\n"
        "  - {name: b, address: 203.0.113.100, port: 443, protocol: tcp, forwarding: nat,\n"
        "     real_servers: [{address: 198.51.100.11, port: 8443}]}\n";
    EXPECT_EQ(errors_with_ports(two),
              std::vector<std::string>{
                  "13:31: NAT real server 198.51.100.11 is also in virtual_servers[0] with a "
                  "different persistence granularity (or none): its replies could not find "
                  "their connection's worker"});
    // The same granularity, or DR, is fine.
    std::string same = two;
    same.replace(same.find("forwarding: nat,\n     real_servers: [{address: 198.51.100.11, port: "
                           "8443}]"),
                 16, "forwarding: dr, ");
    EXPECT_EQ(errors_with_ports(same), std::vector<std::string>{});
}

TEST(ConfigErrors, Schedulers) {
    run({
        {"unknown",
         "virtual_servers: [{name: a, address: 203.0.113.100, port: 80, protocol: "
         "tcp, scheduler: fastest}]\n",
         {"8:89: unknown scheduler \"fastest\" (expected rr, wrr, lc, wlc, sh, dh, sed, nq, mh, "
          "lblc or lblcr)"}},
        {"default wlc is fine",
         "virtual_servers: [{name: a, address: 203.0.113.100, port: 80, protocol: tcp}]\n",
         {}},
    });
    // Every ipvsadm scheduler name is accepted.
    for (const char* s :
         {"rr", "wrr", "lc", "wlc", "sh", "dh", "sed", "nq", "mh", "lblc", "lblcr"}) {
        auto got = errors_with_ports(
            "virtual_servers: [{name: a, address: 203.0.113.100, port: 80, protocol: tcp, "
            "scheduler: " +
            std::string(s) + "}]\n");
        EXPECT_TRUE(got.empty()) << s << ": " << ::testing::PrintToString(got);
    }
}

TEST(ConfigErrors, SchedulerFlagsAndMaglevSize) {
    const std::string vs =
        "virtual_servers: [{name: a, address: 203.0.113.100, port: 80, protocol: tcp, ";
    run({
        {"sh flags",
         (vs + "scheduler: sh, scheduler_flags: [sh-port, sh-fallback]}]\n").c_str(),
         {}},
        {"mh flags and size",
         (vs + "scheduler: mh, scheduler_flags: [mh-fallback], mh_table_size: 251}]\n").c_str(),
         {}},
        {"unknown flag",
         (vs + "scheduler: sh, scheduler_flags: [sh-pot]}]\n").c_str(),
         {"8:111: unknown scheduler flag \"sh-pot\" (expected sh-port, sh-fallback, mh-port or "
          "mh-fallback)"}},
        {"flag of another scheduler",
         (vs + "scheduler: mh, scheduler_flags: [sh-port]}]\n").c_str(),
         {"8:111: scheduler flag \"sh-port\" needs scheduler sh, not \"mh\""}},
        {"not prime",
         (vs + "scheduler: mh, mh_table_size: 65536}]\n").c_str(),
         {"8:108: virtual_servers[0].mh_table_size must be a prime number, got 65536"}},
        {"size too small",
         (vs + "scheduler: mh, mh_table_size: 7}]\n").c_str(),
         {"8:108: virtual_servers[0].mh_table_size must be in 251..1048576, got 7"}},
        {"size without mh",
         (vs + "scheduler: wrr, mh_table_size: 251}]\n").c_str(),
         {"8:109: virtual_servers[0].mh_table_size applies to scheduler mh only, not \"wrr\""}},
    });
}

TEST(ConfigErrors, Thresholds) {
    run({
        {"upper and lower",
         real_server("        thresholds: {upper: 100, lower: 50}\n").c_str(),
         {}},
        {"upper only", real_server("        thresholds: {upper: 10}\n").c_str(), {}},
        {"lower above upper",
         real_server("        thresholds: {upper: 10, lower: 11}\n").c_str(),
         {"16:21: virtual_servers[0].real_servers[0].thresholds.lower (11) is above "
          "virtual_servers[0].real_servers[0].thresholds.upper (10)"}},
        {"lower without upper",
         real_server("        thresholds: {lower: 1}\n").c_str(),
         {"16:21: virtual_servers[0].real_servers[0].thresholds.lower (1) is above "
          "virtual_servers[0].real_servers[0].thresholds.upper (0)"}},
        {"unknown key",
         real_server("        thresholds: {upper: 1, max: 2}\n").c_str(),
         {"16:32: unknown key \"max\" in virtual_servers[0].real_servers[0].thresholds"}},
        {"negative",
         real_server("        thresholds: {upper: -1}\n").c_str(),
         {"16:29: virtual_servers[0].real_servers[0].thresholds.upper must be in "
          "0..4294967295, got -1"}},
    });
}

TEST(ConfigErrors, ForwardingAndProtocol) {
    run({
        {"nat", service("    forwarding: nat\n").c_str(), {}},
        {"tun on a real server", real_server("        forwarding: tun\n").c_str(), {}},
        {"NAT real server beyond every subnet and route",
         service("    forwarding: nat\n"
                 "    real_servers:\n"
                 "      - address: 192.0.2.11\n")
             .c_str(),
         {"16:18: real server 192.0.2.11 has no route: not on a connected subnet and no route "
          "covers it"}},
        {"TUN real server reached by a static route",
         ("routes: [{prefix: 192.0.2.0/24, via: 198.51.100.254}]\n" +
          service("    forwarding: tun\n"
                  "    real_servers:\n"
                  "      - address: 192.0.2.11\n"))
             .c_str(),
         {}},
        {"masq",
         service("    forwarding: masq\n").c_str(),
         {"14:17: virtual_servers[0].forwarding must be one of nat, dr, tun, got \"masq\""}},
        {"sctp",
         "virtual_servers: [{name: a, address: 203.0.113.100, port: 80, protocol: sctp, "
         "scheduler: rr}]\n",
         {"8:73: virtual_servers[0].protocol must be tcp or udp, got \"sctp\""}},
    });
}

TEST(ConfigErrors, NumbersAndRanges) {
    run({
        {"mtu low",
         "ports: [{name: a, device: d, mtu: 67}]\n",
         {"1:35: ports[0].mtu must be in 68..9216, got 67"},
         true},
        {"mtu high",
         "ports: [{name: a, device: d, mtu: 9217}]\n",
         {"1:35: ports[0].mtu must be in 68..9216, got 9217"},
         true},
        {"mbufs low",
         "dpdk: {mbufs: 1022}\n",
         {"8:15: dpdk.mbufs must be in 1023..16777215, got 1022"}},
        {"mbufs high",
         "dpdk: {mbufs: 16777216}\n",
         {"8:15: dpdk.mbufs must be in 1023..16777215, got 16777216"}},
        {"conns 0",
         "connections: {max: 0}\n",
         {"8:20: connections.max must be in 1..67108864, got 0"}},
        {"conns high",
         "connections: {max: 67108865}\n",
         {"8:20: connections.max must be in 1..67108864, got 67108865"}},
        {"huge",
         "connections: {max: 123456789012345678901234567890}\n",
         {"8:20: connections.max must be in 1..67108864, got 123456789012345678901234567890"}},
        {"not a number",
         "connections: {max: lots}\n",
         {"8:20: connections.max must be an integer in 1..67108864, got \"lots\""}},
        {"hex",
         "connections: {max: 0x10}\n",
         {"8:20: connections.max must be an integer in 1..67108864, got \"0x10\""}},
        {"list",
         "connections: {max: [1]}\n",
         {"8:20: connections.max must be an integer in 1..67108864, got a list"}},
        {"service port 0",
         "virtual_servers: [{name: a, address: 203.0.113.100, port: 0, protocol: tcp, "
         "scheduler: rr}]\n",
         {"8:59: virtual_servers[0].port must be in 1..65535, got 0"}},
        {"service port high",
         "virtual_servers: [{name: a, address: 203.0.113.100, port: 65536, protocol: tcp, "
         "scheduler: rr}]\n",
         {"8:59: virtual_servers[0].port must be in 1..65535, got 65536"}},
        {"rs port high",
         real_server("        port: 65536\n").c_str(),
         {"16:15: virtual_servers[0].real_servers[0].port must be in 0..65535, got 65536"}},
        {"weight high",
         real_server("        weight: 65536\n").c_str(),
         {"16:17: virtual_servers[0].real_servers[0].weight must be in 0..65535, got 65536"}},
        {"weight negative",
         real_server("        weight: -1\n").c_str(),
         {"16:17: virtual_servers[0].real_servers[0].weight must be in 0..65535, got -1"}},
    });
}

TEST(ConfigErrors, Durations) {
    run({
        {"negative",
         "timeouts: {tcp: -5s}\n",
         {"8:17: timeouts.tcp must not be negative, got \"-5s\""}},
        {"unit",
         "timeouts:\n  udp: 5x\n",
         {"9:8: timeouts.udp has an unknown unit in \"5x\" (use e.g. 500ms, 6s, 2m, 1h, or a "
          "bare number of seconds)"}},
        {"zero", "timeouts: {tcp_fin: 0}\n", {"8:21: timeouts.tcp_fin must be greater than 0"}},
        {"empty", "timeouts:\n  tcp:\n", {"9:3: timeouts.tcp must be a duration, got nothing"}},
    });
}

TEST(ConfigErrors, Addresses) {
    run({
        {"bare port address",
         "ports: [{name: a, device: d, addresses: [198.51.100.1]}]\n",
         {"1:42: ports[0].addresses[0] must be an IPv4 prefix a.b.c.d/len, got \"198.51.100.1\""},
         true},
        {"vip",
         "virtual_servers: [{name: a, address: 203.0.113, port: 80, protocol: tcp, "
         "scheduler: rr}]\n",
         {"8:38: virtual_servers[0].address must be an IPv4 address a.b.c.d, got \"203.0.113\""}},
        {"mac",
         "neighbors: [{address: 198.51.100.11, mac: \"02:00:00:00:11\", port: lan}]\n",
         {"8:43: neighbors[0].mac must be a MAC address xx:xx:xx:xx:xx:xx, got "
          "\"02:00:00:00:11\""}},
        {"route via",
         "routes: [{prefix: 0.0.0.0/0, via: 203.0.113.256}]\n",
         {"8:35: routes[0].via must be an IPv4 address a.b.c.d, got \"203.0.113.256\""}},
        {"route host bits",
         "routes: [{prefix: 10.1.2.3/8, via: 203.0.113.1}]\n",
         {"8:19: routes[0].prefix 10.1.2.3/8 has host bits set (did you mean 10.0.0.0/8?)"}},
    });
}

TEST(ConfigErrors, Lcores) {
    run({
        {"empty workers",
         "lcores: {workers: []}\n",
         {"8:19: lcores.workers must list at least one lcore"}},
        {"twice",
         "lcores: {workers: [1, 2, 1]}\n",
         {"8:26: lcores.workers[2]: lcore 1 is listed twice in lcores.workers"}},
        {"worker is control",
         "lcores: {control: 2, workers: [1, 2]}\n",
         {"8:35: lcore 2 is both the control lcore and a worker; workers must not include "
          "lcores.control"}},
        {"control is default worker",
         "lcores: {control: 1}\n",
         {"8:19: lcore 1 is both the control lcore and a worker; workers must not include "
          "lcores.control"}},
        {"negative",
         "lcores: {control: -1}\n",
         {"8:19: lcores.control must be in 0..1023, got -1"}},
    });
}

TEST(ConfigErrors, RequiredAndEmpty) {
    run({
        {"no name",
         "virtual_servers:\n  - address: 203.0.113.100\n    port: 80\n"
         "    protocol: tcp\n    scheduler: rr\n",
         {"9:5: virtual_servers[0] is missing required key \"name\""}},
        {"no address, no port",
         "virtual_servers:\n  - name: a\n    protocol: tcp\n"
         "    scheduler: rr\n",
         {"9:5: virtual_servers[0] is missing required key \"address\"",
          "9:5: virtual_servers[0] is missing required key \"port\""}},
        {"no protocol",
         "virtual_servers:\n  - name: a\n    address: 203.0.113.100\n"
         "    port: 80\n    scheduler: rr\n",
         {"9:5: virtual_servers[0] is missing required key \"protocol\""}},
        {"rs without address",
         real_server("      - port: 80\n").c_str(),
         {"16:9: virtual_servers[0].real_servers[1] is missing required key \"address\""}},
        {"empty port name",
         "ports: [{name: \"\", device: d}]\n",
         {"1:16: ports[0].name must not be empty"},
         true},
        {"no device",
         "ports: [{name: a}]\n",
         {"1:9: ports[0] is missing required key \"device\""},
         true},
        {"empty device",
         "ports: [{name: a, device: ''}]\n",
         {"1:27: ports[0].device must not be empty"},
         true},
        {"empty vs name",
         service("").replace(27, 3, "\"\"").c_str(),
         {"9:11: virtual_servers[0].name must not be empty"}},
        {"neighbor without mac",
         "neighbors: [{address: 198.51.100.11, port: lan}]\n",
         {"8:13: neighbors[0] is missing required key \"mac\""}},
        {"route without via",
         "routes: [{prefix: 0.0.0.0/0}]\n",
         {"8:10: routes[0] is missing required key \"via\""}},
    });
}

TEST(ConfigErrors, ShapesAndManagement) {
    run({
        {"ports not a list",
         "ports: {name: a}\n",
         {"1:8: ports must be a list, got a mapping"},
         true},
        {"timeouts not a map",
         "timeouts: [1s]\n",
         {"8:11: timeouts must be a mapping, got a list"}},
        {"logging empty", "logging:\n", {"8:1: logging must be a mapping, got nothing"}},
        {"document is a list",
         "- a\n- b\n",
         {"1:1: the document must be a mapping, got a list"},
         true},
        {"eal_args item",
         "dpdk: {eal_args: [--no-huge, {m: 1}]}\n",
         {"8:30: dpdk.eal_args[1] must be a string, got a mapping"}},
        {"key not a name",
         "? [a]\n: 1\n",
         {"8:3: keys must be plain names, got a list at top level"}},
        {"level",
         "logging: {level: verbose}\n",
         {"8:18: logging.level must be one of trace, debug, info, warn, error, critical, off, got "
          "\"verbose\""}},
        {"socket", "management: {socket: \"\"}\n", {"8:22: management.socket must not be empty"}},
        {"metrics no port",
         "management: {metrics: localhost}\n",
         {"8:23: management.metrics must be \"host:port\" (port 1..65535) or \"\" to disable, got "
          "\"localhost\""}},
        {"metrics port 0",
         "management: {metrics: \"127.0.0.1:0\"}\n",
         {"8:23: management.metrics must be \"host:port\" (port 1..65535) or \"\" to disable, got "
          "\"127.0.0.1:0\""}},
        {"metrics no host",
         "management: {metrics: \":9145\"}\n",
         {"8:23: management.metrics must be \"host:port\" (port 1..65535) or \"\" to disable, got "
          "\":9145\""}},
        {"metrics fine", "management: {metrics: \"localhost:9145\"}\n", {}},
        {"metrics v6 fine", "management: {metrics: \"[::1]:9145\"}\n", {}},
        {"metrics any address fine", "management: {metrics: \"0.0.0.0:9145\"}\n", {}},
        {"group fine", "management: {group: root}\n", {}},
        {"group unknown",
         "management: {group: no-such-group-ulvs}\n",
         {"8:21: management.group names no group of this system, got \"no-such-group-ulvs\""}},
        {"group empty",
         "management: {group: \"\"}\n",
         {"8:21: management.group must not be empty"}},
    });
}

TEST(ConfigErrors, Documents) {
    run({
        {"empty file", "", {"1:1: at least one port is required (ports: [...])"}, true},
        {"two documents",
         "---\nlogging: {level: info}\n---\nlogging: {level: warn}\n",
         {"3:1: only one YAML document is expected in a file"},
         true},
        // yaml-cpp 0.7 neither consumes nor rejects these: LoadAll would loop forever and Load
        // would return an empty document.
        {"leading comma", ",\n", {"1:1: YAML syntax error: unexpected \",\""}, true},
        {"comma after a comment", "# c\n, x\n", {"2:1: YAML syntax error: unexpected \",\""}, true},
        {"syntax",
         "logging: [info\nports: []\n",
         {"9:6: YAML syntax error: end of sequence flow not found (a line above is indented "
          "differently from the keys beside it, or a bracket or quote opened above is not "
          "closed)"}},
    });
}

// The bad/ directory: five_mistakes.yaml must give exactly its five errors, each where it is.
TEST(ConfigErrors, FiveMistakesFile) {
    auto r = load_file(ULVS_BAD_CONFIG_DIR "/five_mistakes.yaml");
    ASSERT_FALSE(r.has_value());
    std::vector<std::string> got;
    for (const diagnostic& d : r.error())
        got.push_back(d.to_string());
    const std::string f = ULVS_BAD_CONFIG_DIR "/five_mistakes.yaml";
    EXPECT_EQ(
        got, (std::vector<std::string>{
                 f + ":9:5: error: unknown key \"speed\" in ports[0]",
                 f + ":14:10: error: ports[1].mtu must be in 68..9216, got 10000",
                 f + ":18:8: error: timeouts.tcp has an unknown unit in \"15x\" (use e.g. 500ms, "
                     "6s, 2m, 1h, or a bare number of seconds)",
                 f + ":25:16: error: unknown scheduler \"fastest\" (expected rr, wrr, lc, wlc, sh, "
                     "dh, sed, nq, mh, lblc or lblcr)",
                 f + ":29:19: error: DR real server 198.51.100.200 is not on a connected subnet "
                     "of any port",
             }));
}

TEST(ConfigErrors, SyntaxErrorFile) {
    auto r = load_file(ULVS_BAD_CONFIG_DIR "/syntax_error.yaml");
    ASSERT_FALSE(r.has_value());
    ASSERT_EQ(r.error().size(), 1u);
    EXPECT_EQ(r.error()[0].line, 5);
    EXPECT_EQ(r.error()[0].message, "YAML syntax error: illegal map value");
}

// Issue 16: an indentation slip surfaced as yaml-cpp's bare "end of map not found".
TEST(ConfigErrors, UnclosedFlowSaysWhatUsuallyCausesIt) {
    auto r = load_string("logging: {level: info\nvirtual_servers: []\n", "unclosed.yaml");
    ASSERT_FALSE(r.has_value());
    ASSERT_EQ(r.error().size(), 1u);
    EXPECT_NE(r.error()[0].message.find("YAML syntax error: end of map flow not found (a line "
                                        "above is indented differently"),
              std::string::npos)
        << r.error()[0].message;
}
