// save-yaml --write's file handling (config_write.h, issue 15): atomic replace, mode kept, the
// previous file kept as FILE.bak, symlinks followed, clear errors.
#include "ulvs/mgmt/config_write.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ulvs::mgmt {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string t = (fs::temp_directory_path() / "ulvs-config-write-XXXXXX").string();
        path = ::mkdtemp(t.data());
    }
    ~temp_dir() { fs::remove_all(path); }
};

TEST(write_config_file, replaces_keeps_mode_and_backup) {
    temp_dir d;
    const fs::path f = d.path / "ulvs.yaml";
    std::ofstream(f) << "# hand-written, with comments\nvirtual_servers: []\n";
    ::chmod(f.c_str(), 0640);
    struct stat before {};
    ASSERT_EQ(::stat(f.c_str(), &before), 0);

    auto r = write_config_file(f.string(), "# written by ulvsd (save-yaml)\n");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(*r, f.string() + ".bak");
    EXPECT_EQ(slurp(f), "# written by ulvsd (save-yaml)\n");
    EXPECT_EQ(slurp(f.string() + ".bak"), "# hand-written, with comments\nvirtual_servers: []\n");
    struct stat after {};
    ASSERT_EQ(::stat(f.c_str(), &after), 0);
    EXPECT_EQ(after.st_mode & 07777, 0640u);
    EXPECT_NE(after.st_ino, before.st_ino); // renamed into place, not rewritten in place
    struct stat bak {};
    ASSERT_EQ(::stat((f.string() + ".bak").c_str(), &bak), 0);
    EXPECT_EQ(bak.st_mode & 07777, 0640u);
    // Nothing else left in the directory (no temporary files).
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path))
        ++n;
    EXPECT_EQ(n, 2u);

    // A second write: FILE.bak is the first write's output now.
    ASSERT_TRUE(write_config_file(f.string(), "second\n"));
    EXPECT_EQ(slurp(f.string() + ".bak"), "# written by ulvsd (save-yaml)\n");
    EXPECT_EQ(slurp(f), "second\n");
}

TEST(write_config_file, follows_a_symlink) {
    temp_dir d;
    fs::create_directory(d.path / "real");
    const fs::path target = d.path / "real" / "ulvs.yaml";
    std::ofstream(target) << "old\n";
    const fs::path link = d.path / "ulvs.yaml";
    fs::create_symlink(target, link);
    auto r = write_config_file(link.string(), "new\n");
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(fs::is_symlink(link));
    EXPECT_EQ(slurp(target), "new\n");
    EXPECT_EQ(slurp(target.string() + ".bak"), "old\n");
    EXPECT_EQ(*r, target.string() + ".bak");
}

TEST(write_config_file, no_previous_file_no_backup) {
    temp_dir d;
    const fs::path f = d.path / "ulvs.yaml";
    auto r = write_config_file(f.string(), "x: 1\n");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(*r, "");
    EXPECT_EQ(slurp(f), "x: 1\n");
    EXPECT_FALSE(fs::exists(f.string() + ".bak"));
}

TEST(write_config_file, errors_name_the_file_and_the_reason) {
    auto r = write_config_file("/nonexistent-ulvs-dir/ulvs.yaml", "x\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "cannot write /nonexistent-ulvs-dir/ulvs.yaml: no temporary file in "
                         "/nonexistent-ulvs-dir/: No such file or directory");
    EXPECT_FALSE(write_config_file("", "x\n"));
}

} // namespace
} // namespace ulvs::mgmt
