// The validated configuration (README "Configuration"). Produced only by config::load_*; every
// value here has passed range and cross checks, so the control plane can build snapshots without
// re-checking.
#pragma once

#include "ulvs/common/inet.h"
#include "ulvs/config/exception_cfg.h"
#include "ulvs/config/health_cfg.h"
#include "ulvs/config/sync_cfg.h"
#include "ulvs/config/vrrp_cfg.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ulvs::config {

using duration = std::chrono::milliseconds;

// Where a value came from, for errors found after parsing (e.g. by the daemon at start-up).
struct source_loc {
    int line = 0; // 1-based, 0 = unknown
    int col = 0;  // 1-based
};

struct dpdk_cfg {
    std::vector<std::string> eal_args{"--no-huge", "-m", "512", "--no-pci"};
    uint32_t mbufs = 16383;
};

// What a worker does when its queues are empty: poll (spin, the lowest latency: the default) or
// adaptive (after a run of empty polls, sleep short intervals growing up to well under a
// millisecond; the first packet brings it back to spinning). lcores.idle.
enum class idle_mode : uint8_t { poll, adaptive };

struct lcores_cfg {
    unsigned control = 0;
    idle_mode idle = idle_mode::poll;
    std::vector<unsigned> workers{1};
    // Where each id was written, so check_host can point at it; line 0 when it is the default.
    source_loc control_loc;
    std::vector<source_loc> worker_locs; // parallel to `workers` when written in the file
};

struct port_cfg {
    std::string name;
    std::string device; // PCI address or vdev string ("net_pcap0,rx_pcap=...")
    std::vector<ip_prefix> addresses;
    uint16_t mtu = 1500;
    source_loc loc;
};

struct route_cfg {
    ip_prefix prefix;
    ip_addr via;
    source_loc loc;
};

struct neighbor_cfg {
    ip_addr address;
    mac_addr mac;
    std::string port;
    source_loc loc;
};

// As `ipvsadm --set tcp tcpfin udp`; the other IPVS TCP state timeouts keep their kernel defaults.
struct timeouts_cfg {
    duration tcp = std::chrono::seconds(900);
    duration tcp_fin = std::chrono::seconds(120);
    duration udp = std::chrono::seconds(300);
};

struct connections_cfg {
    uint32_t max = 1048576; // per worker
    // IPVS' expire_nodest_conn sysctl: a connection whose real server left its service (removed
    // by a change or by its health check) ends at its next packet, which is then handled as a
    // new one (the client's packets: replies pass, as in IPVS); off: it goes on to that server
    // until it expires.
    bool expire_nodest_conn = false;
};

// `vips`: how the virtual addresses (VRRP VIPs, virtual servers' addresses) behave.
struct vips_cfg {
    // false: ICMP echo requests to them are dropped (drop::vip_ping_refused)
    bool answer_ping = true;
};

// IPVS connection thresholds (ipvsadm -x/-y); 0 = none. lower <= upper.
struct thresholds_cfg {
    uint32_t upper = 0;
    uint32_t lower = 0; // 0: 3/4 of upper
    bool operator==(const thresholds_cfg&) const = default;
};

struct real_server_cfg {
    ip_addr address;
    uint16_t port = 0;                  // 0 = the client's destination port
    uint32_t weight = 1;                // 0..65535; 0 = quiesced
    std::optional<fwd_mode> forwarding; // overrides the service's
    thresholds_cfg thresholds;
    rs_health_cfg health; // health_cfg.h
    source_loc loc;
};

// IPVS persistence (ipvsadm -p/-M): connections of one client network to this service go to the
// real server its template names, until the template expires (`timeout` after the last new
// connection, and never while connections it created live on).
struct persistence_cfg {
    duration timeout = std::chrono::seconds(300);        // IPVS_SVC_PERSISTENT_TIMEOUT
    ip_addr granularity = ip_addr::from_v4(0xffffffffu); // a contiguous netmask; /32 by default
    // IPVS' net.ipv4.vs.expire_quiescent_template (default 0): when set, a template whose real
    // server has weight 0 is dropped and the client scheduled afresh; else it keeps its server.
    bool expire_quiescent_template = false;
    bool operator==(const persistence_cfg&) const = default;
};

// A `match:` service, the fwmark-style service of iptables-marked LVS setups: every packet of
// `protocol` to one of `destinations`, to one of `ports` (empty: any port), from one of `sources`
// (empty: any source). Match services take precedence over address:port services, as fwmark
// services do in IPVS; among match services the first in the file wins.
struct match_cfg {
    std::vector<ip_addr> destinations;
    std::vector<uint16_t> ports;
    std::vector<ip_prefix> sources;
    l4_proto protocol = l4_proto::tcp;
    bool operator==(const match_cfg&) const = default;
};

struct virtual_server_cfg {
    std::string name;
    ip_addr address; // address services only (not `match`)
    uint16_t port = 0;
    l4_proto protocol = l4_proto::tcp; // match services: match->protocol
    std::optional<match_cfg> match;
    std::optional<persistence_cfg> persistence;
    std::string scheduler = "wlc";            // ipvsadm's default
    std::vector<std::string> scheduler_flags; // ipvsadm -b: sh-port sh-fallback mh-port mh-fallback
    uint32_t mh_table_size = 65537;           // Maglev table size (prime), scheduler mh only
    fwd_mode forwarding = fwd_mode::dr;
    std::vector<real_server_cfg> real_servers;
    vs_health_cfg health; // health_cfg.h
    source_loc loc;

    fwd_mode mode_of(const real_server_cfg& rs) const { return rs.forwarding.value_or(forwarding); }
};

// A token bucket for traffic the workers hand to the control lcore: `rate` packets/s refilling a
// bucket of `burst` packets, for the whole appliance (each worker polices its even share). rate 0
// switches the policer off.
struct police_cfg {
    uint32_t rate = 0;
    uint32_t burst = 1;
    bool operator==(const police_cfg&) const = default;
};

// `control_policing` (issue 12): ARP and VRRP are never policed (they have their own ring); ICMP
// echo to our addresses and VIPs, and the other traffic for the appliance itself, are. The
// defaults answer 1000 pings/s as Linux's icmp_msgs_per_sec does; the exception rate leaves
// three times the room 1,000 health checks a second need (their replies come back this way); both
// bursts together (900 per worker at most) fit in one exception ring (1024).
struct control_policing_cfg {
    police_cfg icmp_echo{1000, 100};
    police_cfg exception{10000, 800};
    bool operator==(const control_policing_cfg&) const = default;
};

struct management_cfg {
    std::string socket = "/run/ulvs/ulvsd.sock";
    std::string metrics = "127.0.0.1:9145";
    // Besides root, members of this group may use the socket (mode 0660 with this group);
    // empty: root only (0600). Checked to exist when the file is loaded.
    std::string group;
    bool operator==(const management_cfg&) const = default;
};

struct logging_cfg {
    std::string level = "info"; // trace debug info warn error critical off
    std::string file;           // empty: stderr
};

// `scripts:` whom health, VRRP and notify scripts run as (keepalived's script_user). No user:
// as ulvsd itself (root). The names are resolved when the file is loaded (--check fails on an
// unknown one) so that starting a script never asks NSS on the control lcore.
struct scripts_cfg {
    std::string user;
    std::string group; // empty: the user's primary group
    uint32_t uid = 0, gid = 0;
    bool operator==(const scripts_cfg&) const = default;
};

struct config {
    std::string path; // the file it was loaded from
    dpdk_cfg dpdk;
    lcores_cfg lcores;
    std::vector<port_cfg> ports;
    std::vector<route_cfg> routes;
    std::vector<neighbor_cfg> neighbors;
    timeouts_cfg timeouts;
    connections_cfg connections;
    vips_cfg vips;
    std::vector<vrrp_instance_cfg> vrrp_instances;
    std::vector<vrrp_sync_group_cfg> vrrp_sync_groups;
    std::vector<virtual_server_cfg> virtual_servers;
    control_policing_cfg control_policing;
    exception_path_cfg exception_path; // exception_cfg.h
    management_cfg management;
    logging_cfg logging;
    scripts_cfg scripts;
    std::optional<sync_cfg> sync; // sync_cfg.h; unset: no sync daemon

    // Index into `ports` of the port whose connected subnet holds `a`, if any.
    std::optional<size_t> port_for(ip_addr a) const;
};

} // namespace ulvs::config
