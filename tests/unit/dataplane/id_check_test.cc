// The worker side of stats id recycling (dataplane/fwd/id_check.h): every asked id answered from
// the worker's own counts, in bounded steps, a new request restarting an unfinished one.
#include "ulvs/dataplane/fwd/id_check.h"

#include <gtest/gtest.h>

#include <vector>

using namespace ulvs::dp;

TEST(id_check, answers_every_id_in_bounded_steps) {
    std::vector<dest_conn_counts> counts(1000);
    counts[7].active = 1;
    counts[300].inactive = 2;
    counts[999].persistent = 1;
    counts[500].active = 1;    // any non-zero field is busy, even where the sum is 0: when in
    counts[500].inactive = -1; // doubt, the id is kept (a leak at worst, never a wrong reuse)
    std::vector<uint32_t> ids;
    for (uint32_t i = 0; i < 1000; ++i)
        ids.push_back(i);
    std::vector<uint8_t> busy(ids.size(), 7);
    id_check_channel ch;
    id_check_step(counts.data(), ch); // nothing asked: nothing done
    EXPECT_EQ(ch.done.load(), 0u);
    ch.ids = ids.data();
    ch.busy = busy.data();
    ch.n = static_cast<uint32_t>(ids.size());
    ch.request.store(1);
    int steps = 0;
    while (ch.done.load() != 1 && steps < 100) {
        id_check_step(counts.data(), ch);
        ++steps;
    }
    EXPECT_EQ(steps, int((1000 + id_check_per_step - 1) / id_check_per_step));
    for (uint32_t i = 0; i < 1000; ++i)
        EXPECT_EQ(busy[i], i == 7 || i == 300 || i == 999 || i == 500 ? 1 : 0) << i;
}

TEST(id_check, a_new_request_restarts_an_unfinished_one) {
    std::vector<dest_conn_counts> counts(600);
    std::vector<uint32_t> ids(600);
    for (uint32_t i = 0; i < 600; ++i)
        ids[i] = i;
    std::vector<uint8_t> busy(600, 0);
    id_check_channel ch;
    ch.ids = ids.data();
    ch.busy = busy.data();
    ch.n = 600;
    ch.request.store(1);
    id_check_step(counts.data(), ch); // first 256 answered
    counts[0].active = 1;
    ch.request.store(2);
    while (ch.done.load() != 2)
        id_check_step(counts.data(), ch);
    EXPECT_EQ(busy[0], 1);
}
