// The configuration while it is being loaded: the values read so far plus, per item, whether every
// field of it was read and where the fields the cross checks talk about were written. Cross checks
// skip items that already have an error so that one mistake gives one diagnostic, not a cascade.
// Private to lib/config.
#pragma once

#include "vrrp_note.h"
#include "yaml_reader.h"

#include "ulvs/config/config.h"

#include <vector>

namespace ulvs::config::detail {

// `ok` flags cover only the fields the cross checks use: an unknown key or a bad mtu in a port
// does not make its subnets unknown.
struct port_note {
    bool name_ok = true;
    bool addresses_ok = true;
    source_loc name_at;
    std::vector<source_loc> address_at; // parallel to port_cfg::addresses
};

struct route_note {
    bool ok = true;
    source_loc via_at;
};

struct neighbor_note {
    bool ok = true;
    source_loc address_at;
    source_loc port_at;
};

struct real_server_note {
    bool ok = true;
    source_loc address_at;
};

struct virtual_server_note {
    bool key_ok = true;         // address, port and protocol were read
    bool fwd_ok = true;         // the service's forwarding mode was read and is supported
    bool match_ok = false;      // a `match:` was read whole (match services only)
    bool persistence_ok = true; // `persistence:` absent or read whole
    source_loc name_at;
    std::vector<real_server_note> real_servers;
};

struct draft {
    config cfg;
    std::vector<port_note> ports;
    source_loc ports_at{1, 1};     // the `ports:` key, or the start of the file if there is none
    bool ports_unreadable = false; // `ports` (or the document) was not even a list (a mapping)
    std::vector<route_note> routes;
    std::vector<neighbor_note> neighbors;
    std::vector<virtual_server_note> virtual_servers;
    std::vector<vrrp_note> vrrp;
    std::vector<vrrp_sync_note> vrrp_sync;
    // dpdk.mbufs: where it is (the `dpdk` key, or the file's start, when it is not given), and
    // whether it was read (a value out of range already has its error).
    source_loc mbufs_at{1, 1};
    bool mbufs_given = false;
    bool mbufs_ok = true;
};

// parse_top.cc: the whole document; reads each section into d.cfg.
void parse_document(reader& r, const YAML::Node& root, draft& d);
// parse_services.cc: `virtual_servers`.
void parse_virtual_servers(reader& r, const field& f, draft& d);
// parse_vrrp.cc: `vrrp_instances`, and their checks against ports and virtual servers (run by
// validate()).
void parse_vrrp_instances(reader& r, const field& f, draft& d);
void check_vrrp_instances(reader& r, const draft& d, bool names_known, bool subnets_known);
// A notify mapping of an instance or sync group; `keys` names the states it may hold.
void parse_vrrp_notify(reader& r, const field& f, vrrp_notify_cfg& out,
                       std::initializer_list<std::string_view> keys);
// parse_vrrp_sync.cc: `vrrp_sync_groups`, and their check against the instances.
void parse_vrrp_sync_groups(reader& r, const field& f, draft& d);
void check_vrrp_sync_groups(reader& r, const draft& d);
// check_mbufs.cc: dpdk.mbufs against what the ports, rings and caches can hold.
void check_mbufs(reader& r, const draft& d);
// validate.cc: checks across items (names, subnets, duplicates).
void validate(reader& r, draft& d);

} // namespace ulvs::config::detail
