#include "options.h"

#include <charconv>
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
            unsigned s = 0;
            auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), s);
            if (ec != std::errc{} || p != v->data() + v->size() || s == 0)
                return std::unexpected("--exit-idle needs a positive number of seconds, not \"" +
                                       *v + "\"");
            o.exit_idle_s = s;
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
