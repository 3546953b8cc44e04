// ulvsadm import-keepalived (lib/importer): each case imports a keepalived.conf of data/ (with
// data/base.yaml and iptables rules when it says so) and compares the YAML with data/CASE.yaml and
// the warnings and errors with data/CASE.diag (paths relative to data/). The configs cover every
// directive issue 14 lists: dr_tutorial and fwmark are the LVS-DR and fwmark tutorials' files,
// nat_sync a NAT gateway pair with every VRRP and checker option, include split files, warnings
// what ulvs has no equivalent for, errors what cannot be imported safely.
// ULVS_IMPORT_UPDATE=1 rewrites the expected files (review the diff before committing it).
#include "ulvs/importer/keepalived.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace {

const std::string data = ULVS_IMPORT_DATA;

struct import_case {
    const char* name;
    const char* conf;
    bool base;
    const char* rules; // nullptr: no --iptables
    int exit_code;     // 0 valid, 1 produced but refused by the loader, 2 nothing produced
};

void PrintTo(const import_case& c, std::ostream* os) {
    *os << c.name;
}

const import_case cases[] = {
    {"dr_tutorial", "dr_tutorial.conf", true, nullptr, 0},
    // Without --base: placeholder ports; the DR servers are on no port's subnet: exit 1.
    {"dr_nobase", "dr_tutorial.conf", false, nullptr, 1},
    {"nat_sync", "nat_sync.conf", true, nullptr, 0},
    {"fwmark", "fwmark.conf", true, "fwmark.rules", 0},
    {"fwmark_overlap", "fwmark.conf", true, "overlap.rules", 0},
    {"anyport", "anyport.conf", true, nullptr, 0},
    {"fwmark_insert", "fwmark.conf", true, "insert.rules", 0},
    {"fwmark_norules", "fwmark.conf", true, nullptr, 2},
    {"fwmark_bad", "fwmark.conf", true, "fwmark_bad.rules", 2},
    {"include", "include/keepalived.conf", true, nullptr, 0},
    {"syntax", "syntax.conf", true, nullptr, 0},
    {"group", "group.conf", true, "group.rules", 0},
    {"warnings", "warnings.conf", true, nullptr, 0},
    {"errors", "errors.conf", true, nullptr, 2},
    {"lvs_sync", "lvs_sync.conf", true, nullptr, 0},
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Paths relative to data/ so the expected files do not depend on the checkout's location.
std::string relative(std::string s) {
    for (size_t p; (p = s.find(data + "/")) != std::string::npos;)
        s.erase(p, data.size() + 1);
    return s;
}

class Import : public testing::TestWithParam<import_case> {};

TEST_P(Import, MatchesExpected) {
    const import_case& c = GetParam();
    ulvs::importer::import_options o;
    o.file = data + "/" + c.conf;
    if (c.base)
        o.base = data + "/base.yaml";
    if (c.rules)
        o.iptables = data + "/" + c.rules;
    const auto r = ulvs::importer::import_keepalived(o);
    std::string diag;
    for (const auto& w : r.warnings)
        diag += w + "\n";
    // The loader's errors (on the produced YAML) belong to the expected diagnostics of the cases
    // that expect them; elsewhere they show in the exit code's failure message.
    std::string loader;
    for (const auto& e : r.errors)
        (c.exit_code != 1 && e.starts_with("(imported YAML)") ? loader : diag) += e + "\n";
    diag = relative(diag);
    const std::string yaml = relative(r.yaml);
    const std::string stem = data + "/" + c.name;
    if (std::getenv("ULVS_IMPORT_UPDATE")) {
        std::ofstream(stem + ".yaml") << yaml;
        std::ofstream(stem + ".diag") << diag;
    }
    EXPECT_EQ(yaml, slurp(stem + ".yaml"));
    EXPECT_EQ(diag, slurp(stem + ".diag"));
    EXPECT_EQ(r.exit_code, c.exit_code) << diag << loader;
    EXPECT_EQ(r.yaml.empty(), c.exit_code == 2);
}

INSTANTIATE_TEST_SUITE_P(Configs, Import, testing::ValuesIn(cases),
                         [](const auto& info) { return std::string(info.param.name); });

// Every diagnostic names its place as FILE:LINE:COL.
TEST(ImportDiagnostics, NameFileLineColumn) {
    ulvs::importer::import_options o;
    o.file = data + "/warnings.conf";
    o.base = data + "/base.yaml";
    const auto r = ulvs::importer::import_keepalived(o);
    ASSERT_FALSE(r.warnings.empty());
    for (const std::string& w : r.warnings) {
        const std::string rel = relative(w);
        EXPECT_TRUE(rel.starts_with("warnings.conf:")) << w;
        int line = 0, col = 0;
        EXPECT_EQ(std::sscanf(rel.c_str(), "warnings.conf:%d:%d: warning: ", &line, &col), 2) << w;
        EXPECT_GT(line, 0);
        EXPECT_GT(col, 0);
    }
}

TEST(ImportDiagnostics, UnreadableFile) {
    ulvs::importer::import_options o;
    o.file = data + "/no-such.conf";
    const auto r = ulvs::importer::import_keepalived(o);
    EXPECT_EQ(r.exit_code, 2);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("cannot read"), std::string::npos);
}

// A base file that already holds what keepalived.conf gives, or lacks a port keepalived names.
TEST(ImportDiagnostics, BaseConflicts) {
    const std::string base = testing::TempDir() + "/kaimp_base.yaml";
    std::ofstream(base) << "ports: [{name: eth9, device: x, addresses: [10.9.0.1/24]}]\n"
                           "virtual_servers: []\n";
    ulvs::importer::import_options o;
    o.file = data + "/dr_tutorial.conf";
    o.base = base;
    const auto r = ulvs::importer::import_keepalived(o);
    EXPECT_EQ(r.exit_code, 2);
    ASSERT_EQ(r.errors.size(), 2u);
    EXPECT_NE(r.errors[0].find("virtual_servers comes from keepalived.conf"), std::string::npos);
    EXPECT_NE(r.errors[1].find("interface eth0 has no port of that name"), std::string::npos);
}

// As `ulvsd --check`: lcores that this host lacks fail the import (exit 1) unless the EAL
// arguments map them with --lcores.
TEST(ImportDiagnostics, HostLcoresAsUlvsdCheck) {
    std::string base = slurp(data + "/base.yaml");
    const std::string std_lcores = "lcores: {control: 0, workers: [1]}";
    ASSERT_NE(base.find(std_lcores), std::string::npos);
    base.replace(base.find(std_lcores), std_lcores.size(), "lcores: {control: 0, workers: [1000]}");
    const std::string path = testing::TempDir() + "/kaimp_lcores.yaml";
    std::ofstream(path) << base;
    ulvs::importer::import_options o;
    o.file = data + "/dr_tutorial.conf";
    o.base = path;
    auto r = ulvs::importer::import_keepalived(o);
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("1000"), std::string::npos) << r.errors[0];

    const std::string eal = "eal_args: [\"--no-huge\", \"-m\", \"512\", \"--no-pci\"]";
    ASSERT_NE(base.find(eal), std::string::npos);
    base.replace(base.find(eal), eal.size(),
                 "eal_args: [\"--no-huge\", \"-m\", \"512\", \"--no-pci\", \"--lcores\", "
                 "\"0@0,1000@1\"]");
    std::ofstream(path) << base;
    r = ulvs::importer::import_keepalived(o);
    EXPECT_EQ(r.exit_code, 0) << (r.errors.empty() ? "" : r.errors[0]);
}
} // namespace
