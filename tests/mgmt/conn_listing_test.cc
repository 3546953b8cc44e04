// `ulvsadm -c` in pages (issue 13, mgmt/conn_listing.h): 250k connections over two workers list
// completely, each exactly once, in pages of at most page_entries, following the cursor; no pass
// of the control lcore takes long. The workers' side runs here too: between passes the test
// steps each worker's dump channel as its loop would (dataplane/fwd/conn_dump.h). Needs the EAL
// for the connection tables.
#include "harness.h"
#include "ulvs/mgmt/conn_listing.h"
#include "ulvs/mgmt/ipvsadm_format.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <ctime>
#include <set>

namespace ulvs::mgmt {
namespace {

constexpr uint32_t per_worker = 125000;
constexpr uint32_t table_cap = 131072;

dp::conn_key key_of(uint32_t worker, uint32_t i) {
    // Distinct clients: 203.0.(112 + worker).x:port, i spread over address and port.
    return dp::conn_key{htonl(0xCB007000u + (worker << 8) + (i >> 16) + 1),
                        htonl(0xCB007164u),
                        htons(uint16_t(i & 0xffff)),
                        htons(80),
                        6,
                        0,
                        {0, 0}};
}

double cpu_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

class conn_listing_test : public ::testing::Test {
protected:
    dp::conn_table t0{"ulvs_list_t0", table_cap, 0}, t1{"ulvs_list_t1", table_cap, 0};
    dp::conn_table* tables[2] = {&t0, &t1};
    dp::conn_dump_channel ch[2];
    config::config running;
    traffic_stats stats{nullptr, {}, 0};

    void SetUp() override {
        for (uint32_t w = 0; w < 2; ++w) {
            ASSERT_TRUE(tables[w]->ok());
            for (uint32_t i = 0; i < per_worker; ++i) {
                dp::conn c{};
                c.key = key_of(w, i);
                c.dest_ip = htonl(0xC6336400u + 11 + (i % 3));
                c.dest_port = htons(80);
                c.mode = fwd_mode::dr;
                c.state = dp::tcp_state::established;
                c.expire_ms = 1000 + 900000;
                ASSERT_NE(tables[w]->insert(c.key, c, false), dp::conn_ref::none);
            }
        }
    }
    // The workers' loops: a few bounded steps each.
    void workers_step() {
        for (int k = 0; k < 4; ++k)
            for (uint32_t w = 0; w < 2; ++w)
                dp::conn_dump_step(*tables[w], ch[w], 1000);
    }
};

TEST_F(conn_listing_test, lists_250k_connections_completely_in_pages) {
    conn_listing listing({&ch[0], &ch[1]});
    json request = {{"cmd", "connections"}};
    std::set<std::pair<std::string, uint32_t>> seen; // client, worker
    size_t pages = 0, lines = 0, largest_page = 0;
    double slowest_pass_ms = 0;
    std::vector<double> pass_ms;
    uint64_t now = 1000;
    for (;;) {
        auto r = listing.start(running, stats, request, now);
        ASSERT_TRUE(std::holds_alternative<deferred_reply>(r));
        auto& d = std::get<deferred_reply>(r);
        std::optional<json> page;
        for (int pass = 0; pass < 100000 && !page; ++pass) {
            // CPU time of this thread: the work of a pass, not the machine's other load.
            const double t0 = cpu_ms();
            page = d(now);
            const double ms = cpu_ms() - t0;
            slowest_pass_ms = std::max(slowest_pass_ms, ms);
            pass_ms.push_back(ms);
            if (!page)
                workers_step();
        }
        ASSERT_TRUE(page) << "page " << pages << " never came";
        ASSERT_TRUE(page->value("ok", false)) << page->dump();
        ++pages;
        const json& conns = (*page)["conns"];
        largest_page = std::max(largest_page, conns.size());
        for (const json& c : conns) {
            ASSERT_EQ(c["state"], "ESTABLISHED");
            ASSERT_EQ(c["vip"], "203.0.113.100:80");
            seen.insert({c["client"].get<std::string>(), c["worker"].get<uint32_t>()});
        }
        const std::string text = render_conns_page(*page);
        lines += size_t(std::count(text.begin(), text.end(), '\n'));
        if (!page->value("more", false))
            break;
        request["cursor"] = (*page)["cursor"];
    }
    EXPECT_EQ(seen.size(), 2u * per_worker) << "missing or duplicated connections";
    EXPECT_EQ(lines, 2u * per_worker);
    EXPECT_LE(largest_page, size_t(conn_listing::page_entries));
    EXPECT_GE(pages, 2u * per_worker / conn_listing::page_entries);
    // Each pass encodes at most encode_per_pass connections: a fraction of a millisecond of CPU;
    // the bound leaves room for a loaded machine and a sanitizer build.
    EXPECT_LT(slowest_pass_ms, 20.0);
    std::sort(pass_ms.begin(), pass_ms.end());
    std::printf("250000 connections in %zu pages; control-lcore passes: %zu, median %.3f ms, "
                "p99 %.3f ms, slowest %.2f ms\n",
                pages, pass_ms.size(), pass_ms[pass_ms.size() / 2],
                pass_ms[pass_ms.size() * 99 / 100], slowest_pass_ms);
}

TEST_F(conn_listing_test, a_limit_and_a_bad_cursor) {
    conn_listing listing({&ch[0], &ch[1]});
    auto bad = listing.start(running, stats, {{"cmd", "connections"}, {"cursor", {5, 0}}}, 0);
    ASSERT_TRUE(std::holds_alternative<json>(bad));
    EXPECT_EQ(std::get<json>(bad)["error"]["code"], "bad_request");
    auto too_big = listing.start(running, stats, {{"cmd", "connections"}, {"limit", 5000}}, 0);
    ASSERT_TRUE(std::holds_alternative<json>(too_big));
    auto r = listing.start(running, stats, {{"cmd", "connections"}, {"limit", 10}}, 0);
    auto& d = std::get<deferred_reply>(r);
    std::optional<json> page;
    for (int pass = 0; pass < 1000 && !page; ++pass) {
        page = d(0);
        if (!page)
            workers_step();
    }
    ASSERT_TRUE(page);
    EXPECT_EQ((*page)["conns"].size(), 10u);
    EXPECT_TRUE((*page)["more"].get<bool>());
    EXPECT_EQ((*page)["cursor"][0], 0);
}

TEST_F(conn_listing_test, an_abandoned_page_does_not_block_the_next) {
    conn_listing listing({&ch[0], &ch[1]});
    {
        auto r = listing.start(running, stats, {{"cmd", "connections"}}, 0);
        std::get<deferred_reply>(r)(0); // posts a chunk; then its client goes away
    }
    auto r = listing.start(running, stats, {{"cmd", "connections"}}, 0);
    auto& d = std::get<deferred_reply>(r);
    std::optional<json> page;
    for (int pass = 0; pass < 1000 && !page; ++pass) {
        page = d(0);
        if (!page)
            workers_step();
    }
    ASSERT_TRUE(page);
    EXPECT_TRUE(page->value("ok", false)) << page->dump();
    EXPECT_EQ((*page)["conns"].size(), size_t(conn_listing::page_entries));
}

} // namespace
} // namespace ulvs::mgmt

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (!ulvs::test::init_eal("mgmt_conn_listing", 1024))
        return 1;
    return RUN_ALL_TESTS();
}
