// Where the fields of a vrrp_instances entry that the cross checks talk about were written
// (draft.h explains notes). Private to lib/config.
#pragma once

#include "ulvs/config/config.h"

#include <vector>

namespace ulvs::config::detail {

struct vrrp_note {
    bool ok = true; // name, port and vrid were read
    source_loc name_at;
    source_loc port_at;
    source_loc vrid_at;
    std::vector<source_loc> track_port_at; // parallel to track.ports
    std::vector<source_loc> track_vs_at;   // parallel to track.virtual_servers
    std::vector<source_loc> address_at;    // parallel to virtual_addresses
    source_loc source_at;                  // source_address, when given
};

// A vrrp_sync_groups entry.
struct vrrp_sync_note {
    source_loc name_at;
    std::vector<source_loc> instance_at; // parallel to instances
};

} // namespace ulvs::config::detail
