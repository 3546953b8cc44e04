// The worker side of `ulvsadm -c` (dataplane/fwd/conn_dump.h): bounded steps, only live entries,
// truncation at the buffer's size, a new request restarting an unfinished one. Needs the EAL for
// the connection table's memory.
#include "harness.h"
#include "ulvs/dataplane/fwd/conn_dump.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <set>

namespace ulvs::dp {
namespace {

conn_key key_of(uint32_t i) {
    return conn_key{htonl(0xCB007100u + (i >> 16)),
                    htonl(0xCB007164u),
                    htons(uint16_t(i)),
                    htons(80),
                    6,
                    0,
                    {0, 0}};
}

class conn_dump_test : public ::testing::Test {
protected:
    static constexpr uint32_t cap = 4096;
    conn_table t{"ulvs_dump_test", cap, 0};
    std::set<uint16_t> live; // client ports of live entries

    void fill(uint32_t n) {
        ASSERT_TRUE(t.ok());
        std::vector<uint32_t> idx;
        for (uint32_t i = 0; i < n; ++i) {
            conn init{};
            init.key = key_of(i);
            init.dest_ip = htonl(0xC6336400u + 11);
            init.dest_port = htons(80);
            init.mode = fwd_mode::dr;
            init.state = tcp_state::established;
            init.expire_ms = 1000 + 900000;
            idx.push_back(t.insert(init.key, init, false));
            ASSERT_NE(idx.back(), conn_ref::none);
            live.insert(uint16_t(i));
        }
        for (uint32_t i = 0; i < n; i += 3) { // erased slots keep their stale bytes
            t.erase(idx[i]);
            live.erase(uint16_t(i));
        }
    }

    // Runs steps until done; returns how many it took.
    int run(conn_dump_channel& ch, uint32_t request) {
        int steps = 0;
        while (ch.done.load() != request && steps < 100000) {
            conn_dump_step(t, ch, 1000);
            ++steps;
        }
        return steps;
    }
};

TEST_F(conn_dump_test, lists_exactly_the_live_connections_in_bounded_steps) {
    fill(1000);
    std::vector<conn_dump_entry> buf(2000);
    conn_dump_channel ch;
    conn_dump_step(t, ch, 1000); // nothing requested: nothing done
    EXPECT_EQ(ch.done.load(), 0u);
    ch.buf = buf.data();
    ch.cap = uint32_t(buf.size());
    ch.request.store(1);
    const int steps = run(ch, 1);
    EXPECT_EQ(steps, int((cap + conn_dump_scan_per_step - 1) / conn_dump_scan_per_step));
    ASSERT_EQ(ch.count, live.size());
    std::set<uint16_t> seen;
    for (uint32_t i = 0; i < ch.count; ++i) {
        seen.insert(ntohs(buf[i].key.src_port));
        EXPECT_EQ(buf[i].expire_in_ms, 900000u);
        EXPECT_EQ(buf[i].state, tcp_state::established);
        EXPECT_EQ(ntohl(buf[i].dest_ip), 0xC6336400u + 11);
    }
    EXPECT_EQ(seen, live);
    conn_dump_step(t, ch, 1000); // served: idle again
    EXPECT_EQ(ch.done.load(), 1u);
}

TEST_F(conn_dump_test, stops_at_the_buffer_size_and_restarts_on_a_new_request) {
    fill(600);
    std::vector<conn_dump_entry> buf(10);
    conn_dump_channel ch;
    ch.buf = buf.data();
    ch.cap = 10;
    ch.request.store(1);
    conn_dump_step(t, ch, 1000);
    EXPECT_EQ(ch.done.load(), 1u); // the first step fills it
    EXPECT_EQ(ch.count, 10u);
    std::vector<conn_dump_entry> big(1000);
    ch.buf = big.data();
    ch.cap = 1000;
    ch.request.store(2);
    conn_dump_step(t, ch, 1000); // partway through request 2 ...
    ch.request.store(3);         // ... replaced by request 3: starts from slot 0 again
    run(ch, 3);
    EXPECT_EQ(ch.count, live.size());
}

TEST_F(conn_dump_test, chunks_from_a_cursor_list_everything_exactly_once) {
    // Issue 13: pages. Each chunk starts where the previous one ended (`next`), holds at most
    // `cap` entries, and the last one says `end`.
    fill(1000);
    std::vector<conn_dump_entry> buf(7);
    conn_dump_channel ch;
    ch.buf = buf.data();
    ch.cap = 7;
    std::multiset<uint16_t> seen;
    uint32_t req = 0, chunks = 0;
    for (uint32_t start = 0;; ++chunks) {
        ch.start = start;
        ch.request.store(++req);
        run(ch, req);
        ASSERT_EQ(ch.done.load(), req);
        EXPECT_LE(ch.count, 7u);
        for (uint32_t i = 0; i < ch.count; ++i)
            seen.insert(ntohs(buf[i].key.src_port));
        if (ch.end)
            break;
        EXPECT_EQ(ch.count, 7u) << "a chunk that is not the last is full";
        ASSERT_GT(ch.next, start);
        start = ch.next;
    }
    EXPECT_EQ(chunks, uint32_t(live.size() / 7));
    EXPECT_EQ(std::set<uint16_t>(seen.begin(), seen.end()), live);
    EXPECT_EQ(seen.size(), live.size()) << "an entry listed twice";
    // A cursor at or past the end: an empty last chunk, not a scan from 0.
    ch.start = cap;
    ch.request.store(++req);
    run(ch, req);
    EXPECT_EQ(ch.count, 0u);
    EXPECT_TRUE(ch.end);
}

} // namespace
} // namespace ulvs::dp

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!ulvs::test::init_eal("conn_dump_test"))
        return 1;
    return RUN_ALL_TESTS();
}
