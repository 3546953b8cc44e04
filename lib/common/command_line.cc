// keepalived's command-line split (command_line.h), written from keepalived.conf(5).
#include "ulvs/common/command_line.h"

namespace ulvs {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The escape at s[i] (just past the backslash); advances i past it.
char unescape(std::string_view s, size_t& i) {
    const char c = s[i++];
    switch (c) {
    case 'a':
        return '\a';
    case 'b':
        return '\b';
    case 'E':
        return '\x1b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'v':
        return '\v';
    case 'x':
        if (i < s.size() && hex_value(s[i]) >= 0) {
            int v = 0;
            for (int k = 0; k < 2 && i < s.size() && hex_value(s[i]) >= 0; ++k)
                v = v * 16 + hex_value(s[i++]);
            return static_cast<char>(v);
        }
        return c;
    case 'c':
        if (i < s.size())
            return static_cast<char>(s[i++] & 0x1f);
        return c;
    default:
        if (c >= '0' && c <= '7') {
            int v = c - '0';
            for (int k = 0; k < 2 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++k)
                v = v * 8 + (s[i++] - '0');
            return static_cast<char>(v);
        }
        return c; // \\ \" \' and any other character stand for themselves
    }
}

} // namespace

std::expected<std::vector<std::string>, std::string> split_command_line(std::string_view s) {
    std::vector<std::string> words;
    size_t i = 0;
    for (;;) {
        while (i < s.size() && is_space(s[i]))
            ++i;
        if (i == s.size())
            break;
        std::string w;
        char quote = 0;
        while (i < s.size()) {
            const char c = s[i];
            if (c == '\\') {
                if (++i == s.size())
                    return std::unexpected("a backslash ends the command line");
                w += unescape(s, i);
            } else if (quote != 0) {
                ++i;
                if (c == quote)
                    quote = 0;
                else
                    w += c;
            } else if (c == '"' || c == '\'') {
                quote = c;
                ++i;
            } else if (is_space(c)) {
                break;
            } else {
                w += c;
                ++i;
            }
        }
        if (quote != 0)
            return std::unexpected(std::string("missing the closing ") + quote);
        words.push_back(std::move(w));
    }
    if (words.empty())
        return std::unexpected("no command");
    return words;
}

} // namespace ulvs
