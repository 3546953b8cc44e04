#include "options.h"

#include "ulvs/config/duration.h"

#include <string_view>

namespace ulvs::app {

std::expected<options, std::string> parse_options(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](std::string_view flag) -> std::expected<std::string, std::string> {
            if (i + 1 >= argc)
                return std::unexpected(std::string(flag) + " needs a value");
            return std::string(argv[++i]);
        };
        if (a == "--") {
            o.eal_args.emplace(argv + i + 1, argv + argc);
            break;
        } else if (a == "-c" || a == "--config") {
            auto v = value(a);
            if (!v)
                return std::unexpected(v.error());
            o.config = *v;
        } else if (a == "--check") {
            o.check = true;
        } else if (a == "--version") {
            o.version = true;
        } else if (a == "--help" || a == "-h") {
            o.help = true;
        } else if (a == "--exit-idle") {
            auto v = value(a);
            if (!v)
                return std::unexpected(v.error());
            // A duration as the config writes them ("300ms", "2s", or bare seconds): the packet
            // tests stop each run as soon as its frames are through.
            auto d = config::parse_duration(*v);
            if (!d || d->count() <= 0)
                return std::unexpected("--exit-idle needs a positive duration (\"2\", \"300ms\"), "
                                       "not \"" +
                                       *v + "\"");
            o.exit_idle = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
        } else if (a == "--log-level") {
            auto v = value(a);
            if (!v)
                return std::unexpected(v.error());
            o.log_level = *v;
        } else {
            return std::unexpected("unknown argument \"" + std::string(a) + "\"");
        }
    }
    return o;
}

} // namespace ulvs::app
