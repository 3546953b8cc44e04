#include "ulvs/config/duration.h"

#include <charconv>
#include <cstdint>
#include <limits>

namespace ulvs::config {

namespace {

struct unit {
    std::string_view suffix;
    int64_t ms;
};

// "ms" before "m" and "s" so the longest suffix wins.
constexpr unit units[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};

const char* const hint = " (use e.g. 500ms, 6s, 2m, 1h, or a bare number of seconds)";

} // namespace

std::expected<duration, std::string> parse_duration(std::string_view text) {
    std::string quoted = "\"" + std::string(text) + "\"";
    if (text.empty())
        return std::unexpected(std::string("must be a duration, got \"\"") + hint);
    if (text.front() == '-')
        return std::unexpected("must not be negative, got " + quoted);

    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
        ++digits;
    if (digits == 0)
        return std::unexpected("must be a duration, got " + quoted + hint);
    std::string_view suffix = text.substr(digits);
    if (!suffix.empty() && suffix.front() == '.')
        return std::unexpected("must be a whole number of its unit, got " + quoted +
                               " (write 1500ms rather than 1.5s)");

    int64_t per_unit = 0;
    if (suffix.empty()) {
        per_unit = 1000; // bare number: seconds, as keepalived's delay_loop etc.
    } else {
        for (const unit& u : units)
            if (suffix == u.suffix)
                per_unit = u.ms;
        if (per_unit == 0)
            return std::unexpected("has an unknown unit in " + quoted + hint);
    }

    uint64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + digits, n);
    // Anything past ~292 million years of milliseconds overflows; far beyond any sane timer.
    constexpr uint64_t max_ms = std::numeric_limits<int64_t>::max();
    if (ec != std::errc{} || p != text.data() + digits || n > max_ms / uint64_t(per_unit))
        return std::unexpected("is too large: " + quoted);
    return duration(int64_t(n) * per_unit);
}

} // namespace ulvs::config
