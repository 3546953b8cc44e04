// A start-up warning for packet-socket ports (issue 16): an interface that merges received TCP
// segments (GRO, LRO) hands net_af_packet frames larger than the MTU, which its ring cuts; the
// worker drops them as frame_cut. Said once at start, with the command that fixes it.
#pragma once

#include <string>
#include <string_view>

namespace ulvs {

// The interface a socket-fed device reads ("net_af_packet0,iface=eth1" -> "eth1"; pcap's iface=
// or rx_iface=), or "" for other devices.
std::string socket_iface(std::string_view device);

// The warning for port `port` on `device` when its interface (in this network namespace) has GRO
// or LRO on; "" when it has neither, is no packet-socket device, or cannot be asked.
std::string offload_warning(std::string_view port, std::string_view device);

} // namespace ulvs
