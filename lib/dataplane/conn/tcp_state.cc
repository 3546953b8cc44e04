// IPVS TCP state machine, written from the semantics of net/netfilter/ipvs/ip_vs_proto_tcp.c
// (tcp_states, tcp_state_idx, set_tcp_state, tcp_conn_schedule, tcp_timeouts) of current kernels,
// with secure_tcp off (the "dos" tables are not modelled).
#include "ulvs/dataplane/conn/tcp_state.h"

#include "ulvs/dataplane/pkt/parse.h"

namespace ulvs::dp {

namespace {

using enum tcp_state;

constexpr size_t n_states = static_cast<size_t>(tcp_state::count);

// Rows: the flag class picked by flag_class(); columns: the current state in enum order.
enum flag_class : uint8_t { c_syn, c_fin, c_ack, c_rst, n_classes };
using state_table = std::array<std::array<tcp_state, n_states>, n_classes>;

// clang-format off
constexpr state_table input_table = {{
    //        none         established  syn_sent  syn_recv     fin_wait   time_wait  close      close_wait  last_ack  listen  synack
    /*syn*/ {{syn_recv,    established, established, syn_recv, syn_recv,  syn_recv,  syn_recv,  syn_recv,   syn_recv, syn_recv, syn_recv}},
    /*fin*/ {{close,       close_wait,  syn_sent, time_wait,   time_wait, time_wait, close,     close_wait, last_ack, listen, time_wait}},
    /*ack*/ {{established, established, syn_sent, established, fin_wait,  time_wait, close,     close_wait, close,    listen, established}},
    /*rst*/ {{close,       close,       close,    syn_recv,    close,     close,     close,     close,      last_ack, listen, syn_recv}},
}};

constexpr state_table output_table = {{
    //        none         established  syn_sent  syn_recv     fin_wait   time_wait  close      close_wait  last_ack  listen  synack
    /*syn*/ {{syn_sent,    established, syn_sent, syn_recv,    syn_sent,  syn_sent,  syn_sent,  syn_sent,   syn_sent, listen, syn_recv}},
    /*fin*/ {{time_wait,   fin_wait,    syn_sent, time_wait,   fin_wait,  time_wait, close,     time_wait,  last_ack, listen, time_wait}},
    /*ack*/ {{established, established, syn_sent, established, fin_wait,  time_wait, close,     close_wait, last_ack, established, established}},
    /*rst*/ {{close,       close,       syn_sent, close,       close,     time_wait, close,     close,      close,    close,  close}},
}};

constexpr state_table input_only_table = {{
    //        none         established  syn_sent  syn_recv     fin_wait   time_wait  close      close_wait  last_ack  listen  synack
    /*syn*/ {{syn_recv,    established, established, syn_recv, syn_recv,  syn_recv,  syn_recv,  syn_recv,   syn_recv, syn_recv, syn_recv}},
    /*fin*/ {{close,       fin_wait,    syn_sent, time_wait,   fin_wait,  time_wait, close,     close_wait, last_ack, listen, time_wait}},
    /*ack*/ {{established, established, syn_sent, established, fin_wait,  time_wait, close,     close_wait, close,    listen, established}},
    /*rst*/ {{close,       close,       close,    syn_recv,    close,     close,     close,     close,      last_ack, listen, close}},
}};
// clang-format on

constexpr std::array<const state_table*, 3> tables = {&input_table, &output_table,
                                                      &input_only_table};

constexpr std::array<std::string_view, n_states> names = {
    "NONE",  "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "SYNACK"};

// IPVS counts the handshake states as active too (current kernels): a SYN flood then shows up
// in ActiveConn and steers lc/wlc away, as it would on Linux.
constexpr std::array<bool, n_states> active = {false, true,  true,  true,  false, false,
                                               false, false, false, false, true};

constexpr uint32_t sec = 1000;

} // namespace

std::string_view tcp_state_name(tcp_state s) {
    const auto i = static_cast<size_t>(s);
    return i < n_states ? names[i] : "BUG!";
}

tcp_state tcp_next_state(tcp_state cur, uint8_t flags, tcp_dir dir) noexcept {
    // Precedence RST > SYN > FIN > ACK (IPVS tcp_state_idx). No flag at all: IPVS leaves its
    // default new_state, CLOSE.
    flag_class c;
    if (flags & tcp_flag::rst)
        c = c_rst;
    else if (flags & tcp_flag::syn)
        c = c_syn;
    else if (flags & tcp_flag::fin)
        c = c_fin;
    else if (flags & tcp_flag::ack)
        c = c_ack;
    else
        return close;
    const auto s = static_cast<size_t>(cur);
    const auto d = static_cast<size_t>(dir);
    if (s >= n_states || d >= tables.size())
        return close; // corrupted input: the safest state times out quickly
    return (*tables[d])[c][s];
}

bool tcp_state_active(tcp_state s) noexcept {
    const auto i = static_cast<size_t>(s);
    return i < n_states && active[i];
}

bool tcp_starts_conn(uint8_t flags) noexcept {
    // tcp_conn_schedule without sloppy_tcp: a SYN (with or without ACK: IPVS schedules SYN+ACK
    // too, for active FTP) and never a segment carrying RST.
    return (flags & tcp_flag::syn) && !(flags & tcp_flag::rst);
}

state_timeouts state_timeouts::ipvs_defaults() noexcept {
    state_timeouts t{};
    auto set = [&t](tcp_state s, uint32_t ms) { t.tcp_ms[static_cast<size_t>(s)] = ms; };
    // ip_vs_proto_tcp.c tcp_timeouts.
    set(none, 2 * sec);
    set(established, 15 * 60 * sec);
    set(syn_sent, 2 * 60 * sec);
    set(syn_recv, 1 * 60 * sec);
    set(fin_wait, 2 * 60 * sec);
    set(time_wait, 2 * 60 * sec);
    set(close, 10 * sec);
    set(close_wait, 60 * sec);
    set(last_ack, 30 * sec);
    set(listen, 2 * 60 * sec);
    set(synack, 120 * sec);
    t.udp_ms = 5 * 60 * sec; // ip_vs_proto_udp.c udp_timeouts[IP_VS_UDP_S_NORMAL]
    return t;
}

} // namespace ulvs::dp
