// keepalived's command-line split (common/command_line.h), case by case from keepalived.conf(5)
// "Quoted strings".
#include "ulvs/common/command_line.h"

#include <gtest/gtest.h>

namespace ulvs {
namespace {

using words = std::vector<std::string>;

words split(std::string_view s) {
    auto w = split_command_line(s);
    EXPECT_TRUE(w) << s << ": " << (w ? "" : w.error());
    return w.value_or(words{});
}

TEST(command_line, white_space_separates_words) {
    EXPECT_EQ(split("/usr/bin/check  a\tb\n c"), (words{"/usr/bin/check", "a", "b", "c"}));
    EXPECT_EQ(split("  lead and trail  "), (words{"lead", "and", "trail"}));
}

// "'abcd" efg h jkl "mnop'" will be the single string 'abcd efg h jkl mnop' whereas
// 'abcd "efg h jkl" mnop' will be the three strings 'abcd', 'efg h jkl' and 'mnop'.
TEST(command_line, quotes_group_and_are_removed) {
    EXPECT_EQ(split("abcd\" efg h jkl \"mnop"), (words{"abcd efg h jkl mnop"}));
    EXPECT_EQ(split("abcd \"efg h jkl\" mnop"), (words{"abcd", "efg h jkl", "mnop"}));
    EXPECT_EQ(split("a 'b \"c\" d' e"), (words{"a", "b \"c\" d", "e"})); // the other quote is text
    EXPECT_EQ(split("a '' b"), (words{"a", "", "b"}));                   // an empty word
}

// The manual's notify_master example, as the script string reaches the split: the parameters
// ' spaces\x20file ', '"s p a c e "', 'SG1.low' and 'master'.
TEST(command_line, the_manuals_example) {
    EXPECT_EQ(split(R"(/etc/keepalived/notify_event.sh ' spaces\\x20f\x69le ' '\"s p a c e \"')"
                    R"( SG1.low master)"),
              (words{"/etc/keepalived/notify_event.sh", " spaces\\x20file ", "\"s p a c e \"",
                     "SG1.low", "master"}));
}

TEST(command_line, escapes_inside_and_outside_quotes) {
    EXPECT_EQ(split(R"(\a\b\E\f\n\r\t\v)"), (words{"\a\b\x1b\f\n\r\t\v"}));
    EXPECT_EQ(split(R"('\x41\x4a' \x7 \xg)"), (words{"AJ", "\x07", "xg"}));
    EXPECT_EQ(split(R"(\101\0123 \8)"), (words{"A\n3", "8"}));
    EXPECT_EQ(split(R"(\cA \c)"), (words{"\x01", "c"}));
    EXPECT_EQ(split(R"(a\ b \\ \" \')"), (words{"a b", "\\", "\"", "'"}));
    EXPECT_EQ(split(R"("a\"b")"), (words{"a\"b"})); // \" neither opens nor closes
}

TEST(command_line, no_shell) {
    EXPECT_EQ(split("echo $HOME *.sh a|b >c;d"), (words{"echo", "$HOME", "*.sh", "a|b", ">c;d"}));
}

TEST(command_line, errors) {
    EXPECT_EQ(split_command_line("a 'b c").error(), "missing the closing '");
    EXPECT_EQ(split_command_line("a \"b").error(), "missing the closing \"");
    EXPECT_EQ(split_command_line("a b\\").error(), "a backslash ends the command line");
    EXPECT_EQ(split_command_line(" \t ").error(), "no command");
    EXPECT_EQ(split_command_line("").error(), "no command");
}

} // namespace
} // namespace ulvs
