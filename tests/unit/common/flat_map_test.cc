#include "ulvs/common/flat_map.h"

#include <gtest/gtest.h>

TEST(flat_map, finds_what_was_inserted_across_growth) {
    ulvs::flat_map m;
    for (uint32_t i = 0; i < 5000; ++i)
        m.insert(uint64_t{i} * 7919, i);
    EXPECT_EQ(m.size(), 5000u);
    for (uint32_t i = 0; i < 5000; ++i)
        ASSERT_EQ(m.find(uint64_t{i} * 7919), i);
    EXPECT_FALSE(m.find(1));
    m.insert(0, 42); // overwrite keeps size
    EXPECT_EQ(m.size(), 5000u);
    EXPECT_EQ(m.find(0), 42u);
}
