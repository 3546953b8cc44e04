#include "ulvs/mgmt/protocol.h"

#include <gtest/gtest.h>

namespace ulvs::mgmt {
namespace {

TEST(protocol, request_checks) {
    EXPECT_TRUE(parse_request(R"({"v":1,"cmd":"list","extra":true})"));
    EXPECT_EQ(parse_request("nope").error().code, errc::bad_request);
    EXPECT_EQ(parse_request(R"({"v":7,"cmd":"x"})").error().code, errc::unsupported_version);
    EXPECT_EQ(parse_request(std::string(max_line + 1, ' ')).error().code, errc::too_large);
}

TEST(protocol, replies_round_trip) {
    auto ok = parse_reply(to_line(make_ok({{"x", 1}})));
    ASSERT_TRUE(ok);
    EXPECT_EQ((*ok)["x"], 1);
    EXPECT_EQ((*ok)["v"], protocol_version);
    auto err = parse_reply(to_line(make_error({errc::not_found, "No such service", {"a", "b"}})));
    ASSERT_FALSE(err);
    EXPECT_EQ(err.error().code, errc::not_found);
    EXPECT_EQ(err.error().message, "No such service");
    EXPECT_EQ(err.error().details.size(), 2u);
    EXPECT_EQ(parse_reply("{}").error().code, errc::internal);
    // A refused peer's reply (server.h) keeps its code on the client side.
    auto denied = parse_reply(to_line(make_error({errc::permission_denied, "permission denied"})));
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, errc::permission_denied);
    EXPECT_EQ(to_string(errc::permission_denied), "permission_denied");
    // Invalid UTF-8 in a message is replaced, never thrown.
    EXPECT_NO_THROW(to_line(make_error({errc::bad_request, "bad \xff byte"})));
}

} // namespace
} // namespace ulvs::mgmt
