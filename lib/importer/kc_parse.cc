// keepalived.conf's lexical rules, after keepalived's lib/parser.c (read for semantics only):
// decomment() ends a line at `#` or `!` outside double quotes (`\#` and `\!` are the characters
// themselves) and joins a line ending in `\` with the next; alloc_strvec() splits words on blanks,
// a "quoted string" being one word without its quotes; read_line() sets `{` and `}` apart.
// `include` globs (with braces) relative to the directory of the file that includes, as keepalived
// chdir()s into each file's directory while it reads it.
#include "kc_parse.h"

#include <glob.h>

#include <fstream>
#include <sstream>

namespace ulvs::importer {

namespace {

constexpr int max_include_depth = 32;

bool blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

bool is_brace(const token& t, char c) {
    return !t.quoted && t.text.size() == 1 && t.text[0] == c;
}

struct reader {
    diags& d;
    std::vector<token> out;

    // One physical line: `cont` says the previous line ended in `\` (its words continue).
    // Returns whether this line ends in `\`.
    bool line(const std::string& s, const loc& at0, bool cont) {
        bool first = !cont;
        size_t i = 0;
        std::string word;
        loc word_at = at0;
        bool word_open = false;
        auto flush = [&] {
            if (!word_open)
                return;
            out.push_back(token{word, false, first, word_at});
            first = false;
            word.clear();
            word_open = false;
        };
        auto at = [&](size_t pos) {
            loc l = at0;
            l.col = int(pos) + 1;
            return l;
        };
        while (i < s.size()) {
            const char c = s[i];
            if (c == '"') {
                flush();
                const size_t end = s.find('"', i + 1);
                if (end == std::string::npos) {
                    d.error(at(i), "unterminated quote");
                    return false;
                }
                out.push_back(token{s.substr(i + 1, end - i - 1), true, first, at(i)});
                first = false;
                i = end + 1;
                continue;
            }
            if (c == '\\') {
                if (i + 1 == s.size()) { // a continuation line
                    flush();
                    return true;
                }
                if (s[i + 1] == '#' || s[i + 1] == '!') {
                    if (!word_open)
                        word_at = at(i);
                    word_open = true;
                    word += s[i + 1];
                    i += 2;
                    continue;
                }
            }
            if (c == '#' || c == '!')
                break;
            if (blank(c)) {
                flush();
                ++i;
                continue;
            }
            if (c == '{' || c == '}') {
                flush();
                out.push_back(token{std::string(1, c), false, first, at(i)});
                first = false;
                ++i;
                continue;
            }
            if (!word_open)
                word_at = at(i);
            word_open = true;
            word += c;
            ++i;
        }
        flush();
        return false;
    }

    void file(const std::string& path, const loc& from, int depth) {
        std::ifstream in(path);
        if (!in) {
            d.error(from, "cannot read " + path);
            return;
        }
        auto name = std::make_shared<const std::string>(path);
        std::string s;
        int n = 0;
        bool cont = false;
        while (std::getline(in, s)) {
            loc at{name, ++n, 1};
            // `include` is a line of its own, read before the line is split into words
            // (lib/parser.c check_include()), so its glob keeps its braces.
            const size_t b = s.find_first_not_of(" \t");
            if (!cont && b != std::string::npos && s.compare(b, 7, "include") == 0 &&
                (b + 7 == s.size() || blank(s[b + 7]))) {
                include(path, at, pattern_of(s, b + 7, name, n), depth);
                continue;
            }
            const size_t first = out.size();
            cont = line(s, at, cont);
            preprocessor(first);
        }
    }

    // keepalived's preprocessor (lib/parser.c): `$NAME=value` definitions and `$NAME` uses,
    // `@name` lines kept only on the instance of that name, `~SEQ(...)` repetitions. What they
    // expand to depends on keepalived's command line and host: refused rather than guessed.
    void preprocessor(size_t first) {
        for (size_t i = first; i < out.size(); ++i) {
            const token& t = out[i];
            if (t.quoted || t.text.empty())
                continue;
            if (t.text[0] == '$')
                d.error(t.at, "keepalived parameter " + t.text +
                                  ": expand $ definitions before "
                                  "importing (the import does not substitute them)");
            else if (t.first && (t.text[0] == '@' || t.text.starts_with("~SEQ")))
                d.error(t.at, "keepalived's " +
                                  std::string(t.text[0] == '@' ? "@instance "
                                                                 "conditional"
                                                               : "~SEQ") +
                                  " lines are not imported: expand them first");
        }
    }

    // The words after `include`, up to a comment, as one pattern (quotes removed).
    static token pattern_of(const std::string& s, size_t from,
                            const std::shared_ptr<const std::string>& name, int n) {
        size_t b = s.find_first_not_of(" \t", from);
        token t;
        t.at = loc{name, n, b == std::string::npos ? int(from) + 1 : int(b) + 1};
        if (b == std::string::npos)
            return t;
        bool quote = false;
        for (size_t i = b; i < s.size(); ++i) {
            if (s[i] == '"') {
                quote = !quote;
                continue;
            }
            if (!quote && (s[i] == '#' || s[i] == '!'))
                break;
            t.text += s[i];
        }
        while (!t.text.empty() && blank(t.text.back()))
            t.text.pop_back();
        return t;
    }

    void include(const std::string& parent, const loc& at, const token& pat, int depth) {
        if (pat.text.empty()) {
            d.error(at, "include needs a file name or pattern");
            return;
        }
        const std::vector<token> words{pat};
        if (depth >= max_include_depth) {
            d.error(at, "includes nested more than " + std::to_string(max_include_depth) +
                            " deep (an include loop?)");
            return;
        }
        std::string pattern = words[0].text;
        if (!pattern.starts_with('/')) {
            const size_t slash = parent.rfind('/');
            if (slash != std::string::npos)
                pattern = parent.substr(0, slash + 1) + pattern;
        }
        glob_t g{};
        const int rc = ::glob(pattern.c_str(), GLOB_MARK | GLOB_BRACE, nullptr, &g);
        if (rc == GLOB_NOMATCH) {
            d.warn(words[0].at, "include " + words[0].text + ": no file matches (as keepalived, " +
                                    "nothing is included)");
        } else if (rc != 0) {
            d.error(words[0].at, "include " + words[0].text + ": cannot expand the pattern");
        } else {
            for (size_t i = 0; i < g.gl_pathc; ++i) {
                const std::string p = g.gl_pathv[i];
                if (!p.ends_with('/')) // GLOB_MARK: directories end in '/'
                    file(p, words[0].at, depth + 1);
            }
        }
        globfree(&g);
    }
};

std::vector<node> parse_seq(const std::vector<token>& t, size_t& i, bool nested, const loc& open,
                            diags& d) {
    std::vector<node> out;
    while (i < t.size()) {
        const token& k = t[i];
        if (is_brace(k, '}')) {
            ++i;
            if (nested)
                return out;
            d.error(k.at, "'}' without a block to close");
            continue;
        }
        if (is_brace(k, '{')) {
            d.error(k.at, "'{' without a keyword before it (the block is ignored)");
            ++i;
            parse_seq(t, i, true, k.at, d);
            continue;
        }
        node n;
        n.keyword = k.text;
        n.at = k.at;
        ++i;
        while (i < t.size() && !t[i].first && !is_brace(t[i], '{') && !is_brace(t[i], '}'))
            n.args.push_back(t[i++]);
        // The block opens on the keyword's line or at the start of the next (keepalived takes
        // both).
        if (i < t.size() && is_brace(t[i], '{')) {
            n.block = true;
            ++i;
            n.children = parse_seq(t, i, true, n.at, d);
        }
        out.push_back(std::move(n));
    }
    if (nested)
        d.error(open, "block not closed: a '}' is missing");
    return out;
}

} // namespace

std::string diags::format(const loc& at, const char* kind, const std::string& msg) {
    std::ostringstream o;
    o << (at.file ? *at.file : std::string("-")) << ':' << at.line << ':' << at.col << ": " << kind
      << ": " << msg;
    return o.str();
}

const std::string& node::arg(size_t i) const {
    static const std::string none;
    return i < args.size() ? args[i].text : none;
}

std::vector<token> read_tokens(const std::string& path, diags& d) {
    reader r{d, {}};
    r.file(path, loc{std::make_shared<const std::string>(path), 0, 0}, 0);
    return std::move(r.out);
}

std::vector<node> build_tree(const std::vector<token>& tokens, diags& d) {
    size_t i = 0;
    return parse_seq(tokens, i, false, loc{}, d);
}

} // namespace ulvs::importer
