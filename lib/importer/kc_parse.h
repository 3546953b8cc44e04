// keepalived.conf as keepalived reads it (lib/parser.c): lines with comments (`#`, `!`) removed,
// words split on blanks, "quoted strings" as one word, `{` and `}` as words of their own, and
// `include GLOB` followed relative to the including file's directory. The words are then grouped
// into a tree: a keyword, its arguments, and the lines of its `{ }` block.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace ulvs::importer {

struct loc {
    std::shared_ptr<const std::string> file;
    int line = 0;
    int col = 0;
};

// Warnings and errors, each "FILE:LINE:COL: warning|error: MESSAGE".
class diags {
public:
    void warn(const loc& at, const std::string& msg) {
        warnings.push_back(format(at, "warning", msg));
    }
    void error(const loc& at, const std::string& msg) {
        errors.push_back(format(at, "error", msg));
    }
    static std::string format(const loc& at, const char* kind, const std::string& msg);
    std::vector<std::string> warnings;
    std::vector<std::string> errors;
};

struct token {
    std::string text; // quotes removed
    bool quoted = false;
    bool first = false; // first word of its line
    loc at;
};

struct node {
    std::string keyword;
    std::vector<token> args;
    bool block = false;
    std::vector<node> children;
    loc at;

    // The argument i as text ("" when absent).
    const std::string& arg(size_t i) const;
};

// Reads `path` and its includes into words; errors (unreadable file, unterminated quote) go to d.
std::vector<token> read_tokens(const std::string& path, diags& d);

// Groups the words into the tree of top-level keywords; unbalanced braces are errors.
std::vector<node> build_tree(const std::vector<token>& tokens, diags& d);

} // namespace ulvs::importer
