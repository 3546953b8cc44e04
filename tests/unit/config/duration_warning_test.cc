// A bare number of seconds far above what its key plausibly takes loads, with a warning at the
// value (issue 16: `delay_loop: 3000`, meant as milliseconds, passed silently as 50 minutes).
#include "test_util.h"

#include <gtest/gtest.h>

using namespace ulvs::config;
using namespace ulvs::config::test;

namespace {

// "LINE:COL: MESSAGE" of each warning; the file must load.
std::vector<std::string> warnings_of(std::string_view rest) {
    std::vector<diagnostic> w;
    auto r = load_string(std::string(two_ports) + std::string(rest), "t.yaml", &w);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().front().to_string());
    std::vector<std::string> out;
    for (const diagnostic& d : w) {
        EXPECT_TRUE(d.warning);
        out.push_back(std::to_string(d.line) + ":" + std::to_string(d.col) + ": " + d.message);
    }
    return out;
}

// A service from line 8 whose real server's check has `check` (from line 17, column 11).
std::string with_check(std::string_view check, std::string_view service_extra = "") {
    return "virtual_servers:\n"
           "  - name: web\n"
           "    address: 203.0.113.100\n"
           "    port: 80\n"
           "    protocol: tcp\n"
           "    scheduler: rr\n" +
           std::string(service_extra) +
           "    real_servers:\n"
           "      - address: 198.51.100.11\n"
           "        health_check:\n" +
           std::string(check);
}

TEST(DurationWarning, DelayLoopInMillisecondsIsFlaggedAtItsValue) {
    const auto w = warnings_of(with_check("          type: tcp\n"
                                          "          delay_loop: 3000\n"));
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0], "18:23: virtual_servers[0].real_servers[0].health_check.delay_loop: 3000 is "
                    "read as seconds (3000s); above 600s that is unlikely for this key: write "
                    "3000ms if milliseconds were meant, or 3000s to keep it");
}

TEST(DurationWarning, PlausibleValuesAndExplicitUnitsAreQuiet) {
    EXPECT_TRUE(warnings_of(with_check("          type: tcp\n"
                                       "          delay_loop: 60\n"
                                       "          connect_timeout: 5\n"))
                    .empty());
    // A unit says what is meant, however large.
    EXPECT_TRUE(warnings_of(with_check("          type: tcp\n"
                                       "          delay_loop: 3000s\n"
                                       "          connect_timeout: 3000ms\n"))
                    .empty());
    EXPECT_TRUE(warnings_of("timeouts: {tcp: 7200, tcp_fin: 120, udp: 300}\n").empty());
}

TEST(DurationWarning, EachKeyHasItsOwnBound) {
    const auto w = warnings_of(with_check("          type: tcp\n"
                                          "          connect_timeout: 5000\n",
                                          "    persistence: {timeout: 3600}\n") +
                               "timeouts: {tcp: 900000, tcp_fin: 120000, udp: 300}\n");
    ASSERT_EQ(w.size(), 3u);
    EXPECT_TRUE(w[0].starts_with("19:28: virtual_servers[0].real_servers[0].health_check."
                                 "connect_timeout: 5000 is read as seconds (5000s); above 120s"))
        << w[0];
    EXPECT_TRUE(w[1].starts_with("20:17: timeouts.tcp: 900000 is read as seconds")) << w[1];
    EXPECT_TRUE(w[2].starts_with("20:34: timeouts.tcp_fin: 120000 is read as seconds")) << w[2];
    // A persistence timeout of an hour is ordinary; a misc check's timeout of an hour is not.
    EXPECT_EQ(warnings_of(with_check("          type: misc\n"
                                     "          path: /bin/true\n"
                                     "          timeout: 3600\n"))
                  .size(),
              1u);
}

TEST(DurationWarning, PrintedAsAWarning) {
    diagnostic d{"ulvs.yaml", 12, 23, "x", true};
    EXPECT_EQ(d.to_string(), "ulvs.yaml:12:23: warning: x");
}

} // namespace
