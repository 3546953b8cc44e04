// ipvsadm's sync daemon commands against the running configuration's `sync:` (README
// "Connection sync"): --start-daemon and --stop-daemon are config changes (apply_op routes them
// here, so they are validated, committed and shown by save-yaml like -A), -L --daemon lists what
// runs. Pure functions, no DPDK.
//
// ulvs has one `sync:` for both daemons, where IPVS keeps a configuration per daemon: starting
// the second one adds its role (master + backup = both) and must not contradict what the running
// one uses (interface, syncid, maxlen, group, port, ttl); stopping one leaves the other's.
//
// Ops (JSON, as ulvsadm sends them):
//   {"cmd":"start_daemon","state":"master"|"backup", "mcast_ifn":"wan", "syncid":N,
//    "maxlen":N, "group":"224.0.0.81", "port":N, "ttl":N}   (all but state optional)
//   {"cmd":"stop_daemon","state":"master"|"backup"}
// The `daemon` reply (-L --daemon): {"daemons":[{"state":"master","mcast_ifn":"wan","syncid":0,
//   "maxlen":1472,"group":"224.0.0.81","port":8848,"ttl":1,"peer":"a.b.c.d"?}, ...]}, master
//   first; empty when no daemon runs.
#pragma once

#include "ulvs/config/config.h"
#include "ulvs/mgmt/protocol.h"

#include <expected>

namespace ulvs::mgmt {

// start_daemon / stop_daemon on `c` (a copy of the running config; revalidate() judges it).
std::expected<void, error> sync_daemon_op(config::config& c, const json& op);

// The `daemon` command's reply fields.
json daemon_listing(const config::config& c);

} // namespace ulvs::mgmt
