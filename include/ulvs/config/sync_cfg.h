// `sync:` (README "Connection sync"): the connection sync daemon, IPVS' sync protocol version 1
// (ipvsadm --start-daemon, keepalived's lvs_sync_daemon). Included by config.h; values here
// passed parse_sync.cc's range and cross checks. Absent from the file (config::sync unset): no
// daemon, nothing sent or received.
#pragma once

#include "ulvs/common/inet.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ulvs::config {

// Which daemons run: the master sends the connections this node forwards, the backup installs
// what it receives. Bits, so `both` is master | backup (ipvsadm starts the two separately).
enum class sync_role : uint8_t { master = 1, backup = 2, both = 3 };
std::string_view to_string(sync_role r); // "master", "backup", "both"

constexpr bool has_master(sync_role r) {
    return (static_cast<uint8_t>(r) & 1) != 0;
}
constexpr bool has_backup(sync_role r) {
    return (static_cast<uint8_t>(r) & 2) != 0;
}

struct sync_cfg {
    sync_role role = sync_role::master;
    // The ulvs port the datagrams leave by and arrive on (ipvsadm --mcast-interface); empty in
    // the file only when there is exactly one port, which it then names (parse fills it in).
    std::string interface;
    uint16_t port = 8848;                          // IP_VS_SYNC_PORT, both directions
    ip_addr group = ip_addr::from_v4(0xe0000051u); // 224.0.0.81, IP_VS_SYNC_GROUP
    // Unicast: send to this address instead of the group, and accept from it (networks without
    // multicast). Unset: the group.
    std::optional<ip_addr> peer;
    // Sent in every message; a backup with syncid != 0 ignores messages of another syncid (IPVS:
    // 0 on the backup accepts every id).
    uint8_t syncid = 0;
    // IPVS' sync_threshold "3 50" (net.ipv4.vs.sync_threshold): a connection is sent when its
    // packet count reaches `threshold`, and again every `period` packets (count % period ==
    // threshold); period 0: only once, at `threshold`. threshold < period when period != 0.
    // State changes and templates are sent whatever the count (IPVS' sync_conn_needed).
    uint32_t threshold = 3;
    uint32_t period = 50;
    // Largest datagram payload sent (ipvsadm --sync-maxlen); 0: the interface's MTU less the IP
    // and UDP headers (1472 for 1500), as IPVS sizes it.
    uint16_t maxlen = 0;
    uint8_t ttl = 1; // multicast TTL (ipvsadm --mcast-ttl), 1..255

    bool operator==(const sync_cfg&) const = default;
};

} // namespace ulvs::config
