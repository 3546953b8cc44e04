// IPVS TCP connection states and transitions (net/netfilter/ipvs/ip_vs_proto_tcp.c semantics).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace ulvs::dp {

// Order and names as IPVS (`ipvsadm -Lc` prints these names).
enum class tcp_state : uint8_t {
    none,
    established,
    syn_sent,
    syn_recv,
    fin_wait,
    time_wait,
    close,
    close_wait,
    last_ack,
    listen,
    synack,
    count
};

std::string_view tcp_state_name(tcp_state s); // "ESTABLISHED", "SYN_RECV", ... as ipvsadm prints

// Which IPVS table applies: input = client->server when replies are seen (NAT), output =
// server->client, input_only = client->server when replies bypass us (DR, TUN).
enum class tcp_dir : uint8_t { input, output, input_only };

// Next state for a segment with `flags` (wire bits). RST takes precedence over SYN, SYN over FIN,
// FIN over ACK, as IPVS' tcp_state_idx; a segment with none of them goes to CLOSE, as IPVS'
// set_tcp_state does (its new_state defaults to CLOSE when tcp_state_idx finds no flag).
tcp_state tcp_next_state(tcp_state cur, uint8_t flags, tcp_dir dir) noexcept;

// Whether a connection in state `s` counts as active (ipvsadm ActiveConn, lc/wlc) rather than
// inactive: ESTABLISHED, SYN_SENT, SYN_RECV and SYNACK, as IPVS' tcp_state_active_table.
bool tcp_state_active(tcp_state s) noexcept;

// Whether a TCP segment may create a connection, as IPVS decides without sloppy_tcp
// (ip_vs_proto_tcp.c tcp_conn_schedule).
bool tcp_starts_conn(uint8_t flags) noexcept;

// Timeouts per state in milliseconds, IPVS defaults; `ipvsadm --set tcp tcpfin udp` overrides
// established, fin_wait and the UDP timeout.
struct state_timeouts {
    std::array<uint32_t, static_cast<size_t>(tcp_state::count)> tcp_ms;
    uint32_t udp_ms;

    static state_timeouts ipvs_defaults() noexcept;
    uint32_t of(tcp_state s) const noexcept { return tcp_ms[static_cast<size_t>(s)]; }
};

} // namespace ulvs::dp
