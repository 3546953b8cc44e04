#include "ulvs/dataplane/counters.h"

namespace ulvs::dp {

namespace {

// Both tables come from the one X-macro list, so a new drop reason cannot be missing a name.
constexpr std::string_view names[] = {
#define ULVS_DROP_NAME(name, text) #name,
    ULVS_FOREACH_DROP(ULVS_DROP_NAME)
#undef ULVS_DROP_NAME
};

constexpr std::string_view descriptions[] = {
#define ULVS_DROP_TEXT(name, text) text,
    ULVS_FOREACH_DROP(ULVS_DROP_TEXT)
#undef ULVS_DROP_TEXT
};

static_assert(std::size(names) == static_cast<size_t>(drop::count));

} // namespace

std::string_view drop_name(drop d) {
    const auto i = static_cast<size_t>(d);
    return i < std::size(names) ? names[i] : "none";
}

std::string_view drop_description(drop d) {
    const auto i = static_cast<size_t>(d);
    return i < std::size(descriptions) ? descriptions[i] : "not dropped";
}

} // namespace ulvs::dp
