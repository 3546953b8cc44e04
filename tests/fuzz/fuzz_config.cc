// libFuzzer target: the YAML loader and validator (lib/config) on arbitrary text.
//
// Bad text must give diagnostics, never a crash, a hang or an exception. Text that loads must
// also survive what the management plane does with every CLI change (config_edit.h revalidate):
// emitted with to_yaml and loaded again it must still be valid, and emitting that gives the same
// text (emit.h: "to_yaml must round-trip"). check_host runs too, as `ulvsd --check` would.
#include "ulvs/config/emit.h"
#include "ulvs/config/load.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace ulvs;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz_config: %s\n%s\n", what, detail.c_str());
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto c = config::load_string(text, "fuzz.yaml");
    if (!c) {
        if (c.error().empty())
            fail("refused with no diagnostic", std::string(text));
        for (const auto& d : c.error())
            (void)d.to_string();
        return 0;
    }
    (void)config::check_host(*c, 2);
    const std::string once = config::to_yaml(*c);
    auto again = config::load_string(once, "emitted.yaml");
    if (!again)
        fail("to_yaml of a valid config does not load again:",
             once + "\n" + again.error().front().to_string());
    const std::string twice = config::to_yaml(*again);
    if (twice != once)
        fail("to_yaml does not round-trip:", once + "\n----- then -----\n" + twice);
    return 0;
}
