// `vrrp_instances` (README "Configuration"): one VRRP virtual router per entry, in keepalived's
// terms. Included by config.h; values here passed parse_vrrp.cc's range and cross checks.
#pragma once

#include "ulvs/common/inet.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ulvs::config {

// A script whose exit status adjusts the priority (keepalived vrrp_script + track_script).
struct vrrp_track_script_cfg {
    std::string path; // a command line, split on spaces as keepalived does
    std::chrono::milliseconds interval = std::chrono::seconds(1);
    int32_t weight = 0; // -253..253; 0: a failing script puts the instance in FAULT
    // keepalived's rise/fall: consecutive results that turn a failed script OK / an OK one
    // failed (the first result decides alone); timeout 0 = the interval (keepalived's default).
    uint32_t rise = 1;
    uint32_t fall = 1;
    std::chrono::milliseconds timeout{0};
    bool operator==(const vrrp_track_script_cfg&) const = default;
};

struct vrrp_track_cfg {
    std::vector<std::string> ports;           // names in `ports`; a link down = FAULT
    std::vector<std::string> virtual_servers; // names; down (no real server of weight > 0) = FAULT
    std::vector<vrrp_track_script_cfg> scripts;
    bool operator==(const vrrp_track_cfg&) const = default;
};

struct vrrp_notify_cfg {
    std::string master; // command lines run on entering the state; empty = none
    std::string backup;
    std::string fault;
    std::string stop; // ulvsd stops (keepalived notify_stop); instances only
    // keepalived's generic `notify`: run on every change with the arguments
    // INSTANCE|GROUP NAME MASTER|BACKUP|FAULT|STOP PRIORITY (0 for a group).
    std::string any;
    bool operator==(const vrrp_notify_cfg&) const = default;
};

// keepalived garp_master_delay / garp_master_refresh: after becoming MASTER the gratuitous ARP
// burst is sent again `master_delay` later, and one per address every `master_refresh` while
// MASTER. 0 = none.
struct vrrp_garp_cfg {
    std::chrono::milliseconds master_delay = std::chrono::seconds(5);
    std::chrono::milliseconds master_refresh{0};
    bool operator==(const vrrp_garp_cfg&) const = default;
};

struct vrrp_instance_cfg {
    std::string name;
    std::string port;            // name in `ports`
    uint8_t vrid = 0;            // 1..255
    bool initial_master = false; // state: master | backup
    uint8_t priority = 100;      // 1..255; 255 = the address owner
    // v2: whole seconds (the packet carries seconds); v3: a multiple of 10 ms (centiseconds).
    std::chrono::milliseconds advert_int = std::chrono::seconds(1);
    uint8_t version = 2; // 2 | 3; 2 as keepalived's default
    bool preempt = true; // false = keepalived's nopreempt
    std::chrono::milliseconds preempt_delay{0};
    std::string auth_pass;              // v2 PASS authentication (at most 8 bytes); empty = none
    std::vector<ip_addr> unicast_peers; // empty: multicast 224.0.0.18
    // Advertisements' source (keepalived mcast_src_ip / unicast_src_ip): one of the port's
    // addresses; unset: the port's address on the virtual addresses' subnet, else its first.
    std::optional<ip_addr> source_address;
    std::vector<ip_prefix> virtual_addresses;
    vrrp_track_cfg track;
    vrrp_notify_cfg notify;
    vrrp_garp_cfg garp;
    bool operator==(const vrrp_instance_cfg&) const = default;
};

// `vrrp_sync_groups` (keepalived vrrp_sync_group): instances that change state together.
struct vrrp_sync_group_cfg {
    std::string name;
    std::vector<std::string> instances; // names in vrrp_instances, each in one group at most
    vrrp_notify_cfg notify;             // master, backup, fault, any (no stop)
    bool operator==(const vrrp_sync_group_cfg&) const = default;
};

} // namespace ulvs::config
