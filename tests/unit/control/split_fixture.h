// One command line, run by a health misc check and by a VRRP track script (and split by
// common/command_line.h), that tells keepalived's split from a shell's and from a split on
// spaces: each word it reaches the program as is written to `out` followed by '|'.
#pragma once

#include <string>

namespace ulvs::test {

// keepalived.conf(5) "Quoted strings": quotes group and are removed, \x41 is an escape even in
// single quotes, a backslash-space joins words, and nothing expands $HOME (no shell).
inline std::string split_probe_command(const std::string& out) {
    return "sh -c 'printf \"%s|\" \"$@\" > " + out +
           "' argv0 'a b' \"c  d\" e\\ f '\\x41' $HOME x\"y z\"";
}
inline const std::string split_probe_expected = "a b|c  d|e f|A|$HOME|xy z|";

// `s` as a YAML double-quoted scalar.
inline std::string yaml_quoted(const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            q += '\\';
        q += c;
    }
    return q + "\"";
}

} // namespace ulvs::test
