// Loading and validating the YAML configuration. Every error is collected (not only the first) so
// `ulvsd --check` can print them all as FILE:LINE:COL: error: MESSAGE.
#pragma once

#include "ulvs/config/config.h"

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace ulvs::config {

struct diagnostic {
    std::string file;
    int line = 0; // 1-based
    int col = 0;  // 1-based
    std::string message;
    bool warning = false; // accepted, but probably not what was meant

    std::string to_string() const; // "FILE:LINE:COL: error: MESSAGE" ("warning:" for a warning)
};

using load_result = std::expected<config, std::vector<diagnostic>>;

// Parse and validate YAML text; `file` names it in diagnostics. Thread-safe, no global state.
// `warnings`: if given, receives what loads but looks mistaken (a bare number of seconds far
// above what the key plausibly takes, e.g. `delay_loop: 3000` meant as milliseconds), in file
// order, whether the file loaded or not.
load_result load_string(std::string_view yaml, std::string_view file,
                        std::vector<diagnostic>* warnings = nullptr);

// Read `path` and load it; an unreadable file is one diagnostic at line 0.
// `bytes`: if given, receives the file's content as read (for a digest of exactly what loaded).
load_result load_file(const std::string& path, std::string* bytes = nullptr,
                      std::vector<diagnostic>* warnings = nullptr);

// Checks that need the host (lcores that exist on this machine). Kept apart from load_* so unit
// tests can validate files independent of the machine they run on.
std::vector<diagnostic> check_host(const config& c, unsigned n_cpus);

} // namespace ulvs::config
