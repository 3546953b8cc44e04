#include "draft.h"
#include "yaml_document.h"

#include "ulvs/config/load.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <tuple>

namespace ulvs::config {

std::string diagnostic::to_string() const {
    // As compilers do: the position parts are left out when unknown (line 0), e.g. for a file
    // that cannot be read or a default value that fails a host check.
    std::string pos = file;
    if (line > 0) {
        pos += ":" + std::to_string(line);
        if (col > 0)
            pos += ":" + std::to_string(col);
    }
    return pos + (warning ? ": warning: " : ": error: ") + message;
}

namespace {

load_result finish(detail::reader& r, config&& c) {
    std::vector<diagnostic> diags = r.take();
    if (diags.empty())
        return std::move(c);
    // Walk order is file order within a section, but cross checks come last: sort for the reader.
    std::stable_sort(diags.begin(), diags.end(), [](const diagnostic& a, const diagnostic& b) {
        return std::tie(a.line, a.col) < std::tie(b.line, b.col);
    });
    return std::unexpected(std::move(diags));
}

} // namespace

load_result load_string(std::string_view yaml, std::string_view file,
                        std::vector<diagnostic>* warnings) {
    detail::reader r{std::string(file)};
    detail::draft d;
    d.cfg.path = std::string(file);
    // A syntax error or a second document is the only diagnostic: nothing after it can be trusted.
    if (auto root = detail::parse_document_text(r, yaml)) {
        try {
            detail::parse_document(r, *root, d);
            detail::validate(r, d);
        } catch (const YAML::Exception& e) {
            // Not expected (the walk never converts with as<>), but bad input must not escape.
            r.error(detail::loc_of(e.mark), "cannot read YAML: " + e.msg);
        }
    }
    if (warnings != nullptr) {
        *warnings = r.take_warnings();
        std::stable_sort(warnings->begin(), warnings->end(), [](const auto& a, const auto& b) {
            return std::tie(a.line, a.col) < std::tie(b.line, b.col);
        });
    }
    return finish(r, std::move(d.cfg));
}

load_result load_file(const std::string& path, std::string* bytes,
                      std::vector<diagnostic>* warnings) {
    auto fail = [&](int err) {
        return load_result(std::unexpect,
                           std::vector<diagnostic>{
                               {path, 0, 0, std::string("cannot read: ") + std::strerror(err)}});
    };
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rbe"), std::fclose);
    if (!f)
        return fail(errno);
    std::string text;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0)
        text.append(buf, n);
    if (std::ferror(f.get()))
        return fail(errno); // e.g. EISDIR: fopen succeeds on a directory, reading does not
    if (bytes != nullptr)
        *bytes = text;
    return load_string(text, path, warnings);
}

std::vector<diagnostic> check_host(const config& c, unsigned n_cpus) {
    std::vector<diagnostic> out;
    std::string has = " (this host has " + std::to_string(n_cpus) + " CPUs: 0.." +
                      std::to_string(n_cpus == 0 ? 0 : n_cpus - 1) + ")";
    auto check = [&](unsigned id, source_loc at, std::string_view role) {
        if (id >= n_cpus)
            out.push_back({c.path, at.line, at.col,
                           std::string(role) + " lcore " + std::to_string(id) +
                               " does not exist on this host" + has});
    };
    check(c.lcores.control, c.lcores.control_loc, "control");
    for (size_t i = 0; i < c.lcores.workers.size(); ++i) {
        source_loc at = i < c.lcores.worker_locs.size() ? c.lcores.worker_locs[i] : source_loc{};
        check(c.lcores.workers[i], at, "worker");
    }
    return out;
}

} // namespace ulvs::config
