#include "ulvs/dataplane/conn/tcp_state.h"

#include "ulvs/dataplane/pkt/parse.h"

#include <gtest/gtest.h>
#include <map>
#include <sstream>
#include <string>

using namespace ulvs::dp;
namespace f = ulvs::dp::tcp_flag;

namespace {

// Typed from the tcp_states[] table of net/netfilter/ipvs/ip_vs_proto_tcp.c (Linux 6.x, secure_tcp
// off), in the kernel's own two-letter abbreviations. Columns: the current state
// NO ES SS SR FW TW CL CW LA LI SA; rows: syn fin ack rst.
const char* const kernel_input[4] = {
    "SR ES ES SR SR SR SR SR SR SR SR", // syn
    "CL CW SS TW TW TW CL CW LA LI TW", // fin
    "ES ES SS ES FW TW CL CW CL LI ES", // ack
    "CL CL CL SR CL CL CL CL LA LI SR", // rst
};
const char* const kernel_output[4] = {
    "SS ES SS SR SS SS SS SS SS LI SR",
    "TW FW SS TW FW TW CL TW LA LI TW",
    "ES ES SS ES FW TW CL CW LA ES ES",
    "CL CL SS CL CL TW CL CL CL CL CL",
};
const char* const kernel_input_only[4] = {
    "SR ES ES SR SR SR SR SR SR SR SR",
    "CL FW SS TW FW TW CL CW LA LI TW",
    "ES ES SS ES FW TW CL CW CL LI ES",
    "CL CL CL SR CL CL CL CL LA LI CL",
};

tcp_state from_abbrev(const std::string& s) {
    static const std::map<std::string, tcp_state> m = {
        {"NO", tcp_state::none},     {"ES", tcp_state::established}, {"SS", tcp_state::syn_sent},
        {"SR", tcp_state::syn_recv}, {"FW", tcp_state::fin_wait},    {"TW", tcp_state::time_wait},
        {"CL", tcp_state::close},    {"CW", tcp_state::close_wait},  {"LA", tcp_state::last_ack},
        {"LI", tcp_state::listen},   {"SA", tcp_state::synack}};
    return m.at(s);
}

void check_table(const char* const rows[4], tcp_dir dir, const char* name) {
    const uint8_t row_flag[4] = {f::syn, f::fin, f::ack, f::rst};
    for (int r = 0; r < 4; ++r) {
        std::istringstream in(rows[r]);
        std::string cell;
        int col = 0;
        while (in >> cell) {
            const auto cur = static_cast<tcp_state>(col);
            EXPECT_EQ(tcp_next_state(cur, row_flag[r], dir), from_abbrev(cell))
                << name << " row " << r << " from " << tcp_state_name(cur);
            ++col;
        }
        ASSERT_EQ(col, static_cast<int>(tcp_state::count));
    }
}

} // namespace

TEST(tcp_state, names_as_ipvsadm_prints) {
    const char* want[] = {"NONE",  "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT",
                          "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "SYNACK"};
    for (size_t i = 0; i < static_cast<size_t>(tcp_state::count); ++i)
        EXPECT_EQ(tcp_state_name(static_cast<tcp_state>(i)), want[i]);
}

TEST(tcp_state, every_cell_of_the_three_tables) {
    check_table(kernel_input, tcp_dir::input, "input");
    check_table(kernel_output, tcp_dir::output, "output");
    check_table(kernel_input_only, tcp_dir::input_only, "input_only");
}

TEST(tcp_state, flag_precedence_rst_syn_fin_ack) {
    for (auto dir : {tcp_dir::input, tcp_dir::output, tcp_dir::input_only})
        for (size_t i = 0; i < static_cast<size_t>(tcp_state::count); ++i) {
            const auto s = static_cast<tcp_state>(i);
            EXPECT_EQ(tcp_next_state(s, f::rst | f::syn | f::fin | f::ack, dir),
                      tcp_next_state(s, f::rst, dir));
            EXPECT_EQ(tcp_next_state(s, f::syn | f::ack, dir), tcp_next_state(s, f::syn, dir));
            EXPECT_EQ(tcp_next_state(s, f::syn | f::fin, dir), tcp_next_state(s, f::syn, dir));
            EXPECT_EQ(tcp_next_state(s, f::fin | f::ack | f::psh, dir),
                      tcp_next_state(s, f::fin, dir));
            EXPECT_EQ(tcp_next_state(s, f::ack | f::psh, dir), tcp_next_state(s, f::ack, dir));
            // No SYN/FIN/ACK/RST: IPVS' set_tcp_state falls back to CLOSE.
            EXPECT_EQ(tcp_next_state(s, f::psh, dir), tcp_state::close);
            EXPECT_EQ(tcp_next_state(s, 0, dir), tcp_state::close);
        }
    // Spot checks where precedence matters: SYN+ACK from NONE on input is SYN_RECV (not
    // ESTABLISHED as ACK alone), RST+ACK in ESTABLISHED is CLOSE.
    EXPECT_EQ(tcp_next_state(tcp_state::none, f::syn | f::ack, tcp_dir::input),
              tcp_state::syn_recv);
    EXPECT_EQ(tcp_next_state(tcp_state::established, f::rst | f::ack, tcp_dir::input_only),
              tcp_state::close);
}

TEST(tcp_state, dr_session_on_the_input_only_table) {
    auto s = tcp_state::none;
    auto step = [&s](uint8_t flags) { return s = tcp_next_state(s, flags, tcp_dir::input_only); };
    EXPECT_EQ(step(f::syn), tcp_state::syn_recv);
    EXPECT_EQ(step(f::ack), tcp_state::established);
    EXPECT_EQ(step(f::ack | f::psh), tcp_state::established);
    EXPECT_EQ(step(f::fin | f::ack), tcp_state::fin_wait);
    EXPECT_EQ(step(f::ack), tcp_state::fin_wait); // last ACK of the client: still FIN_WAIT
    EXPECT_EQ(step(f::rst), tcp_state::close);
    EXPECT_EQ(step(f::syn), tcp_state::syn_recv); // port reuse starts over
}

TEST(tcp_state, nat_session_sees_both_directions) {
    auto s = tcp_state::none;
    s = tcp_next_state(s, f::syn, tcp_dir::input);
    EXPECT_EQ(s, tcp_state::syn_recv);
    s = tcp_next_state(s, f::syn | f::ack, tcp_dir::output);
    EXPECT_EQ(s, tcp_state::syn_recv);
    s = tcp_next_state(s, f::ack, tcp_dir::input);
    EXPECT_EQ(s, tcp_state::established);
    s = tcp_next_state(s, f::fin | f::ack, tcp_dir::input);
    EXPECT_EQ(s, tcp_state::close_wait);
    s = tcp_next_state(s, f::fin | f::ack, tcp_dir::output);
    EXPECT_EQ(s, tcp_state::time_wait);
    s = tcp_next_state(s, f::ack, tcp_dir::input);
    EXPECT_EQ(s, tcp_state::time_wait);
}

TEST(tcp_state, which_segments_start_a_connection) {
    // tcp_conn_schedule, sloppy_tcp off: `th->rst || !th->syn` returns without scheduling.
    EXPECT_TRUE(tcp_starts_conn(f::syn));
    EXPECT_TRUE(tcp_starts_conn(f::syn | f::ack)); // active FTP data connections
    EXPECT_TRUE(tcp_starts_conn(f::syn | f::fin));
    EXPECT_TRUE(tcp_starts_conn(f::syn | f::psh | 0x80 | 0x40)); // ECN SYN (CWR, ECE)
    EXPECT_FALSE(tcp_starts_conn(f::syn | f::rst));
    EXPECT_FALSE(tcp_starts_conn(f::ack));
    EXPECT_FALSE(tcp_starts_conn(f::fin | f::ack));
    EXPECT_FALSE(tcp_starts_conn(f::rst));
    EXPECT_FALSE(tcp_starts_conn(0));
    int n = 0;
    for (int flags = 0; flags < 256; ++flags)
        n += tcp_starts_conn(static_cast<uint8_t>(flags));
    EXPECT_EQ(n, 64); // SYN set, RST clear: 2^6 of the 2^8 flag bytes
}

TEST(tcp_state, active_states) {
    for (size_t i = 0; i < static_cast<size_t>(tcp_state::count); ++i) {
        const auto s = static_cast<tcp_state>(i);
        const bool want = s == tcp_state::established || s == tcp_state::syn_sent ||
                          s == tcp_state::syn_recv || s == tcp_state::synack;
        EXPECT_EQ(tcp_state_active(s), want) << tcp_state_name(s);
    }
}

TEST(tcp_state, ipvs_default_timeouts) {
    const auto t = state_timeouts::ipvs_defaults();
    EXPECT_EQ(t.of(tcp_state::none), 2'000u);
    EXPECT_EQ(t.of(tcp_state::established), 900'000u); // 15 min, ipvsadm --set tcp
    EXPECT_EQ(t.of(tcp_state::syn_sent), 120'000u);
    EXPECT_EQ(t.of(tcp_state::syn_recv), 60'000u);
    EXPECT_EQ(t.of(tcp_state::fin_wait), 120'000u); // ipvsadm --set tcpfin
    EXPECT_EQ(t.of(tcp_state::time_wait), 120'000u);
    EXPECT_EQ(t.of(tcp_state::close), 10'000u);
    EXPECT_EQ(t.of(tcp_state::close_wait), 60'000u);
    EXPECT_EQ(t.of(tcp_state::last_ack), 30'000u);
    EXPECT_EQ(t.of(tcp_state::listen), 120'000u);
    EXPECT_EQ(t.of(tcp_state::synack), 120'000u);
    EXPECT_EQ(t.udp_ms, 300'000u);
}
