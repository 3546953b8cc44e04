// The one rule by which a script's command line becomes argv: health `misc` checks, VRRP track
// scripts and every notify script (README "Scripts"). It is keepalived's (keepalived.conf(5),
// "Quoted strings"; the script string of notify_*, vrrp_script `script` and MISC_CHECK
// `misc_path` is split by keepalived itself and run with execve, not by a shell):
//
// - words are separated by unquoted white space (space, \t, \n, \v, \f, \r);
// - a ' or " opens a quoted run up to the same quote character; the quotes are removed and the
//   run joins the text around it into one word (`a"b c"d` is the single word `ab cd`);
// - a backslash escapes, inside quotes as well as outside: \a \b \E \f \n \r \t \v, \xHH (one or
//   two hex digits), \nnn (one to three octal digits), \cC (control-C); any other \C is C: a
//   doubled backslash is one backslash, and \" is a " that neither opens nor closes a quoted
//   run;
// - there is no shell: no $variables, globs, pipes or redirections. Write `sh -c '...'` for
//   them.
//
// Errors (reported by the configuration with file:line:col): an unterminated quote, a
// backslash at the end, no word at all.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace ulvs {

std::expected<std::vector<std::string>, std::string> split_command_line(std::string_view s);

} // namespace ulvs
